package org.mailproxy.core.config;

import java.util.List;
import org.mailproxy.core.spi.MailModule;

/**
 * The directive of nginx's {@code ngx_mail_realip_module}: {@code set_real_ip_from
 * address|CIDR|unix:}, in {@code mail} and {@code server}, repeatable; a server without its own
 * inherits the {@code mail} level's list (nginx's merge: the whole list, not a union). Value: a
 * List of {@link CidrRange}, empty when not set.
 *
 * <p>When a connection came in on a {@code listen ... proxy_protocol} and its real peer is in the
 * list, the source address of its PROXY protocol header becomes the session's client address
 * (Client-IP, XCLIENT, log lines, the PROXY header to the backend); otherwise the client address
 * stays the peer's. The auth server gets what the header said in Proxy-Protocol-* either way.
 */
public final class RealIpModule implements MailModule {

    /** The module name. */
    public static final String NAME = "realip";

    /** The directive. */
    public static final String SET_REAL_IP_FROM = "set_real_ip_from";

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            DirectiveSpec.builder(SET_REAL_IP_FROM).context(Context.MAIL, Context.SERVER).takes(1).repeatable()
                    .parser(RealIpModule::parse).build());

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }

    private static CidrRange parse(Directive d) throws ConfigException {
        try {
            return CidrRange.parse(d.arg(0));
        } catch (IllegalArgumentException e) {
            throw d.error(e.getMessage() + " in set_real_ip_from (an address, a CIDR or \"unix:\"; host names are not"
                    + " resolved)");
        }
    }
}
