package org.mailproxy.imap;

import java.util.List;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;
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
 * The IMAP protocol (nginx: {@code ngx_mail_imap_module}'s {@code ngx_mail_protocol_t}): its
 * name, ports 143 and 993, the {@code imap_*} directives ({@link ImapModule}), and a
 * {@link ImapHandler} per client. Registered as a DS service; the core's runtime binds it and
 * starts serving {@code protocol imap} servers.
 *
 * <p>Logins are checked by the {@link Authenticator} service (the auth_http bundle). The reference
 * is optional and dynamic, so IMAP servers keep serving while that bundle restarts: a login in
 * that window gets nginx's {@code * BAD internal server error}.
 */
@Component(service = MailProtocol.class, immediate = true)
public final class ImapProtocol implements MailProtocol {

    private static final int[] PORTS = {143, 993};

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Authenticator authenticator;

    /** For Declarative Services. */
    public ImapProtocol() {
    }

    /** Outside OSGi (tests): with a fixed authenticator. */
    public ImapProtocol(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public String name() {
        return ImapModule.NAME;
    }

    /** nginx's {@code cert_error}: sent when the client certificate fails {@code ssl_verify_client}. */
    @Override
    public byte[] certificateErrorReply() {
        return "* BYE SSL certificate error\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** nginx's {@code no_cert}: sent when {@code ssl_verify_client on} and the client sent no certificate. */
    @Override
    public byte[] noCertificateReply() {
        return "* BYE No required SSL certificate\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** nginx's internal error, to a session that is not relaying when this protocol stops. */
    @Override
    public byte[] stoppedReply() {
        return "* BAD internal server error\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public int[] defaultPorts() {
        return PORTS.clone();
    }

    @Override
    public List<DirectiveSpec> directives() {
        return ImapModule.DIRECTIVES;
    }

    /** Precomputes the server's replies, as nginx's merge does; nothing in them can be refused. */
    @Override
    public void validate(ServerConfig server) throws ConfigException {
        if (ImapModule.NAME.equals(server.protocol())) {
            ImapSettings.of(server);
        }
    }

    @Override
    public ProtocolHandler newHandler(MailSession session) {
        ServerConfig config = session.settings(ServerConfig.class);
        return new ImapHandler(session, this, config, ImapSettings.of(config));
    }

    /** The authenticator now, or null while none is available. */
    Authenticator authenticator() {
        return authenticator;
    }

    @Override
    public String toString() {
        return "imap protocol";
    }
}
