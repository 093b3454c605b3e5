package org.mailproxy.pop3;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.Values;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.Authenticator;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.spi.ProtocolHandler;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The POP3 protocol module (nginx: {@code ngx_mail_pop3_module} and its {@code ngx_mail_protocol_t}):
 * the name {@code pop3}, the ports 110 and 995, the directives, and a {@link Pop3Handler} per
 * client.
 *
 * <p>Directives, all in {@code mail} and {@code server}, inherited:
 * <ul>
 * <li>{@code pop3_auth plain|apop|cram-md5|external|xoauth2|oauthbearer ...} (plain; repeated
 *     lines add up, as nginx's bitmask);</li>
 * <li>{@code pop3_capabilities ext ...} ({@code TOP USER UIDL}; repeated lines add up; the SASL
 *     line and STLS are appended by the module);</li>
 * <li>{@code pop3_client_buffer size} (4k) — not in nginx, whose POP3 command buffer is a fixed
 *     128 bytes: too small for an XOAUTH2/OAUTHBEARER initial response, whose bearer tokens run
 *     to a few kilobytes (nginx PR #1590 asks for this directive). The default is the one nginx
 *     gives {@code imap_client_buffer} and {@code smtp_client_buffer} (a page, 4k on the usual
 *     Linux), which fits "AUTH XOAUTH2 " plus the base64 of a 2.5 KB token.</li>
 * </ul>
 *
 * <p>The authenticator (auth_http) is an optional dynamic service: without it every login gets
 * the temporary error, as when nginx cannot reach its auth server.
 */
@Component(service = MailProtocol.class)
public final class Pop3Protocol implements MailProtocol {

    /** The module and protocol name. */
    public static final String NAME = "pop3";

    static final String AUTH = "pop3_auth";
    static final String CAPABILITIES = "pop3_capabilities";
    static final String CLIENT_BUFFER = "pop3_client_buffer";

    /** {@code pop3_client_buffer} default: 4 KiB. */
    static final long DEFAULT_CLIENT_BUFFER = 4096;

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            DirectiveSpec.builder(AUTH).context(Context.MAIL, Context.SERVER).oneOrMore().accumulating()
                    .parser(Values.wordsOf("plain", "apop", "cram-md5", "external", "xoauth2", "oauthbearer"))
                    .defaultValue(List.of("plain")).build(),
            DirectiveSpec.builder(CAPABILITIES).context(Context.MAIL, Context.SERVER).oneOrMore().accumulating()
                    .parser(Values.words()).defaultValue(List.of("TOP", "USER", "UIDL")).build(),
            DirectiveSpec.builder(CLIENT_BUFFER).context(Context.MAIL, Context.SERVER).takes(1)
                    .parser(Pop3Protocol::clientBuffer).defaultValue(DEFAULT_CLIENT_BUFFER).build());

    /** Precomputed settings per server configuration (equal configurations share them). */
    private final Map<ServerConfig, Pop3Config> configs = Collections.synchronizedMap(new WeakHashMap<>());

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Authenticator authenticator;

    /** For Declarative Services. */
    public Pop3Protocol() {
    }

    /** Outside OSGi (tests): with a fixed authenticator, or null for none. */
    public Pop3Protocol(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** nginx's {@code cert_error}: sent when the client certificate fails {@code ssl_verify_client}. */
    @Override
    public byte[] certificateErrorReply() {
        return "-ERR SSL certificate error\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** nginx's {@code no_cert}: sent when {@code ssl_verify_client on} and the client sent no certificate. */
    @Override
    public byte[] noCertificateReply() {
        return "-ERR No required SSL certificate\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** nginx's internal error, to a session that is not relaying when this protocol stops. */
    @Override
    public byte[] stoppedReply() {
        return "-ERR internal server error\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public int[] defaultPorts() {
        return new int[] {110, 995};
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }

    /** Builds the replies of each pop3 server when the configuration is built, as nginx's merge does. */
    @Override
    public void validate(ServerConfig server) throws ConfigException {
        if (NAME.equals(server.protocol())) {
            configs.put(server, Pop3Config.of(server));
        }
    }

    @Override
    public ProtocolHandler newHandler(MailSession session) {
        return new Pop3Handler(session, config(session.settings(ServerConfig.class)), this::authenticator);
    }

    /** The settings of a server, built now if {@link #validate} did not see it. */
    Pop3Config config(ServerConfig server) {
        return configs.computeIfAbsent(server, Pop3Config::of);
    }

    /** The authenticator now, or null. */
    Authenticator authenticator() {
        return authenticator;
    }

    /** A size of at least one byte. */
    private static Long clientBuffer(org.mailproxy.core.config.Directive d) throws ConfigException {
        long size = Values.parseSize(d.arg(0));
        if (size < 1 || size > Integer.MAX_VALUE) {
            throw d.invalid("invalid value");
        }
        return size;
    }
}
