package org.mailproxy.core.config;

import java.time.Duration;
import java.util.List;
import org.mailproxy.core.spi.MailModule;

/**
 * The directives of nginx's {@code ngx_mail_ssl_module}, all allowed in {@code mail} and
 * {@code server} and inherited by servers. The core owns them (TLS is part of the core here, as
 * {@code listen ... ssl} is): values are checked by {@link #validate}, which builds the server's
 * TLS context when the server needs one ({@code listen ... ssl} or {@code starttls on|only}), so a
 * certificate that does not load is a configuration error with its file and line.
 *
 * <p>Values (all Strings unless said): {@code starttls} {@code off|on|only};
 * {@code ssl_certificate}, {@code ssl_certificate_key} Lists of paths (repeatable, paired by
 * position); {@code ssl_certificate_sni} a List of {@link SniCertificate} (this project's own:
 * certificates chosen by the client's SNI, see {@code org.mailproxy.core.tls.SniKeyManager});
 * {@code ssl_password_file}; {@code ssl_protocols} a List; {@code ssl_ciphers};
 * {@code ssl_prefer_server_ciphers}, {@code ssl_session_tickets}, {@code ssl_certificate_compression}
 * Booleans; {@code ssl_session_cache} a List of words; {@code ssl_session_timeout} a Duration;
 * {@code ssl_verify_client} {@code off|on|optional|optional_no_ca}; {@code ssl_verify_depth} an
 * Integer; {@code ssl_client_certificate}, {@code ssl_trusted_certificate}, {@code ssl_crl},
 * {@code ssl_dhparam}, {@code ssl_ecdh_curve}; {@code ssl_session_ticket_key} and
 * {@code ssl_conf_command} Lists. What JSSE cannot honour is refused by {@link #validate}
 * (see {@code org.mailproxy.core.tls.TlsContextBuilder}), never dropped.
 */
public final class SslModule implements MailModule {

    /** The module name. */
    public static final String NAME = "ssl";

    /** nginx's {@code NGX_DEFAULT_CIPHERS}. */
    public static final String DEFAULT_CIPHERS = "HIGH:!aNULL:!MD5";

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            spec("starttls").oneOf("off", "on", "only").defaultValue("off").build(),
            spec("ssl_certificate").repeatable().build(),
            spec("ssl_certificate_key").repeatable().build(),
            spec("ssl_certificate_sni").takes(3).repeatable().parser(SniCertificate::parse).build(),
            spec("ssl_password_file").build(),
            spec("ssl_protocols").wordsOf("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
                    .defaultValue(List.of("TLSv1.2", "TLSv1.3")).build(),
            spec("ssl_ciphers").defaultValue(DEFAULT_CIPHERS).build(),
            spec("ssl_prefer_server_ciphers").flag().defaultValue(false).build(),
            spec("ssl_session_cache").args(1, 2).parser(Values.words()).defaultValue(List.of("none")).build(),
            spec("ssl_session_timeout").time().defaultValue(Duration.ofMinutes(5)).build(),
            spec("ssl_session_tickets").flag().defaultValue(true).build(),
            spec("ssl_session_ticket_key").repeatable().build(),
            spec("ssl_certificate_compression").flag().defaultValue(false).build(),
            spec("ssl_verify_client").oneOf("off", "on", "optional", "optional_no_ca").defaultValue("off").build(),
            spec("ssl_verify_depth").number().defaultValue(1).build(),
            spec("ssl_client_certificate").build(),
            spec("ssl_trusted_certificate").build(),
            spec("ssl_crl").build(),
            spec("ssl_dhparam").build(),
            spec("ssl_ecdh_curve").defaultValue("auto").build(),
            spec("ssl_conf_command").takes(2).parser(Values.words()).repeatable().build());

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
        org.mailproxy.core.tls.TlsContextBuilder.validate(server);
    }
}
