package org.mailproxy.smtp;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.Values;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.Authenticator;
import org.mailproxy.core.spi.HostResolver;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.spi.ProtocolHandler;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The SMTP protocol module (nginx: {@code ngx_mail_smtp_module} and its {@code ngx_mail_protocol_t}):
 * the name {@code smtp}, the ports 25, 465 and 587, the directives, and an {@link SmtpHandler} per
 * client.
 *
 * <p>Directives, all in {@code mail} and {@code server}, inherited:
 * <ul>
 * <li>{@code smtp_auth plain|login|cram-md5|external|none|xoauth2|oauthbearer ...}
 *     ({@code plain login}; repeated lines add up, as nginx's bitmask);</li>
 * <li>{@code smtp_capabilities ext ...} (none; repeated lines add up; the AUTH line and STARTTLS
 *     are appended by the module);</li>
 * <li>{@code smtp_client_buffer size} (4k: nginx's default is the page size, 4k on the usual
 *     Linux);</li>
 * <li>{@code smtp_greeting_delay time} (0).</li>
 * </ul>
 * The core's {@code server_name}, {@code xclient}, {@code proxy_smtp_auth},
 * {@code proxy_pass_error_message} and (when the resolver module runs) {@code resolver} are read too.
 *
 * <p>The authenticator (auth_http) and the host resolver are optional dynamic services: without
 * an authenticator every login gets the temporary error, as when nginx cannot reach its auth
 * server; without a resolver the client's host is {@code [UNAVAILABLE]}, as nginx's with
 * {@code resolver off}.
 */
@Component(service = MailProtocol.class)
public final class SmtpProtocol implements MailProtocol {

    /** The module and protocol name. */
    public static final String NAME = "smtp";

    static final String AUTH = "smtp_auth";
    static final String CAPABILITIES = "smtp_capabilities";
    static final String CLIENT_BUFFER = "smtp_client_buffer";
    static final String GREETING_DELAY = "smtp_greeting_delay";

    /** {@code smtp_client_buffer} default: 4 KiB, nginx's page size on the usual Linux. */
    static final long DEFAULT_CLIENT_BUFFER = 4096;

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            DirectiveSpec.builder(AUTH).context(Context.MAIL, Context.SERVER).oneOrMore().accumulating()
                    .parser(Values.wordsOf("plain", "login", "cram-md5", "external", "none", "xoauth2",
                            "oauthbearer"))
                    .defaultValue(List.of("plain", "login")).build(),
            DirectiveSpec.builder(CAPABILITIES).context(Context.MAIL, Context.SERVER).oneOrMore().accumulating()
                    .parser(Values.words()).build(),
            DirectiveSpec.builder(CLIENT_BUFFER).context(Context.MAIL, Context.SERVER).takes(1)
                    .parser(SmtpProtocol::clientBuffer).defaultValue(DEFAULT_CLIENT_BUFFER).build(),
            DirectiveSpec.builder(GREETING_DELAY).context(Context.MAIL, Context.SERVER).time()
                    .defaultValue(Duration.ZERO).build());

    /** Precomputed settings per server configuration (equal configurations share them). */
    private final Map<ServerConfig, SmtpConfig> configs = Collections.synchronizedMap(new WeakHashMap<>());

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Authenticator authenticator;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile HostResolver resolver;

    /** For Declarative Services. */
    public SmtpProtocol() {
    }

    /** Outside OSGi (tests): with a fixed authenticator and resolver, either may be null. */
    public SmtpProtocol(Authenticator authenticator, HostResolver resolver) {
        this.authenticator = authenticator;
        this.resolver = resolver;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** nginx's {@code cert_error}: sent when the client certificate fails {@code ssl_verify_client}. */
    @Override
    public byte[] certificateErrorReply() {
        return "421 4.7.1 SSL certificate error\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** nginx's {@code no_cert}: sent when {@code ssl_verify_client on} and the client sent no certificate. */
    @Override
    public byte[] noCertificateReply() {
        return "421 4.7.1 No required SSL certificate\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** nginx's internal error, to a session that is not relaying when this protocol stops. */
    @Override
    public byte[] stoppedReply() {
        return "451 4.3.2 Internal server error\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public int[] defaultPorts() {
        return new int[] {25, 465, 587};
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }

    /** Builds the replies of each smtp server when the configuration is built, as nginx's merge does. */
    @Override
    public void validate(ServerConfig server) throws ConfigException {
        if (NAME.equals(server.protocol())) {
            configs.put(server, SmtpConfig.of(server));
        }
    }

    @Override
    public ProtocolHandler newHandler(MailSession session) {
        return new SmtpHandler(session, config(session.settings(ServerConfig.class)), this::authenticator,
                this::resolver);
    }

    /** The settings of a server, built now if {@link #validate} did not see it. */
    SmtpConfig config(ServerConfig server) {
        return configs.computeIfAbsent(server, SmtpConfig::of);
    }

    Authenticator authenticator() {
        return authenticator;
    }

    HostResolver resolver() {
        return resolver;
    }

    /** A size of at least one byte. */
    private static Long clientBuffer(Directive d) throws ConfigException {
        long size = Values.parseSize(d.arg(0));
        if (size < 1 || size > Integer.MAX_VALUE) {
            throw d.invalid("invalid value");
        }
        return size;
    }
}
