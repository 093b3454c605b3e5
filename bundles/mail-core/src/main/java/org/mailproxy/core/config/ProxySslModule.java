package org.mailproxy.core.config;

import java.util.List;
import org.mailproxy.core.spi.MailModule;

/**
 * TLS toward the backend: this project's own directives, not in nginx (whose mail proxy always
 * speaks plaintext to the backend). Named after nginx's {@code proxy_ssl_*} of the http and stream
 * proxies, with their defaults. All are allowed in {@code mail} and {@code server} and inherited by
 * servers:
 * <ul>
 * <li>{@code proxy_ssl off|on|starttls} (off): plaintext; implicit TLS right after connect; or
 *     plaintext greeting, then STARTTLS (IMAP, SMTP; SMTP says EHLO again after it) or STLS (POP3)
 *     before the login. The auth server may choose per login with {@code Auth-SSL-Backend};</li>
 * <li>{@code proxy_ssl_verify on|off} (off): check the backend's certificate chain against
 *     {@code proxy_ssl_trusted_certificate} and its name against {@code proxy_ssl_name};</li>
 * <li>{@code proxy_ssl_trusted_certificate file} (PEM CA bundle; required with verify on);</li>
 * <li>{@code proxy_ssl_verify_depth n} (1): the longest chain accepted, counted as for
 *     {@code ssl_verify_depth};</li>
 * <li>{@code proxy_ssl_name name} (the backend's address): the name checked in the certificate
 *     and, when it is a host name, sent as SNI;</li>
 * <li>{@code proxy_ssl_protocols} (TLSv1.2 TLSv1.3);</li>
 * <li>{@code proxy_ssl_certificate file}, {@code proxy_ssl_certificate_key file},
 *     {@code proxy_ssl_password_file file}: a client certificate for the backend.</li>
 * </ul>
 * Values: Strings, {@code proxy_ssl_verify} a Boolean, {@code proxy_ssl_verify_depth} an Integer,
 * {@code proxy_ssl_protocols} a List. {@link #validate} builds the backend TLS of every server, so
 * a file that does not load is a configuration error with its file and line.
 */
public final class ProxySslModule implements MailModule {

    /** The module name. */
    public static final String NAME = "proxy_ssl";

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            spec("proxy_ssl").oneOf("off", "on", "starttls").defaultValue("off").build(),
            spec("proxy_ssl_verify").flag().defaultValue(false).build(),
            spec("proxy_ssl_trusted_certificate").string().build(),
            spec("proxy_ssl_verify_depth").number().defaultValue(1).build(),
            spec("proxy_ssl_name").string().build(),
            spec("proxy_ssl_protocols").wordsOf("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
                    .defaultValue(List.of("TLSv1.2", "TLSv1.3")).build(),
            spec("proxy_ssl_certificate").string().build(),
            spec("proxy_ssl_certificate_key").string().build(),
            spec("proxy_ssl_password_file").string().build());

    private static DirectiveSpec.Builder spec(String name) {
        return DirectiveSpec.builder(name).context(Context.MAIL, Context.SERVER);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }

    @Override
    public void validate(ServerConfig server) throws ConfigException {
        org.mailproxy.core.tls.BackendTls.build(server);
    }
}
