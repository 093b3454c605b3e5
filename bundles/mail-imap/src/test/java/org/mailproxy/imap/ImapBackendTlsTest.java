package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.core.tls.TestCerts;
import org.mailproxy.imap.fixtures.AuthServer;
import org.mailproxy.imap.fixtures.Client;
import org.mailproxy.imap.fixtures.FakeImapBackend;
import org.mailproxy.imap.fixtures.ImapProxy;

/**
 * STARTTLS toward the IMAP backend ({@code proxy_ssl starttls}, {@code Auth-SSL-Backend}; not in
 * nginx): {@code mp1 STARTTLS} after the greeting, the LOGIN only over TLS, and no plaintext LOGIN
 * when the backend's TLS fails. The backend is scripted (FakeImapBackend with a test certificate);
 * the real Dovecot is in the itests (BackendTlsIT).
 */
class ImapBackendTlsTest {

    private TestCerts certs;
    private AuthServer auth;
    private FakeImapBackend backend;
    private ImapProxy proxy;
    private final AuthHttpModule authHttp = new AuthHttpModule();
    private String sslBackend;

    @BeforeEach
    void start() throws Exception {
        certs = new TestCerts(Files.createTempDirectory("imap-backend-tls"));
        backend = new FakeImapBackend().tls(certs.serverContext());
        auth = new AuthServer(h -> {
            Map<String, String> out = new HashMap<>();
            out.put("Auth-Status", "OK");
            out.put("Auth-Server", "127.0.0.1");
            out.put("Auth-Port", String.valueOf(backend.port()));
            if (sslBackend != null) {
                out.put("Auth-SSL-Backend", sslBackend);
            }
            return out;
        });
        authHttp.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        authHttp.stop();
        auth.close();
        backend.close();
    }

    private void serve(String directives) throws Exception {
        proxy = new ImapProxy(new ImapProtocol(authHttp),
                "auth_http http://127.0.0.1:" + auth.port() + "/mail/auth;\n" + directives, authHttp);
    }

    private Client login() throws Exception {
        Client c = proxy.connect();
        assertEquals("* OK IMAP4 ready", c.readLine());
        c.line("a1 LOGIN alice secret");
        return c;
    }

    @Test
    void starttlsThenLoginOverTls() throws Exception {
        serve("proxy_ssl starttls; proxy_ssl_verify on; proxy_ssl_trusted_certificate " + certs.path("ca.pem")
                + "; proxy_ssl_name localhost;");
        Client c = login();
        assertEquals("a1 OK LOGIN completed", c.readLine());
        c.line("r1 NOOP");
        assertEquals("r1 OK completed", c.readLine(), "relayed over the backend's TLS");
        assertEquals(List.of("TLSv1.3"), backend.protocols());
        String clear = backend.received(0);
        assertEquals("mp1 STARTTLS\r\n", clear.substring(0, clear.indexOf('\n') + 1), "in clear: STARTTLS only");
        assertTrue(clear.contains("a1 LOGIN {5}"), "LOGIN after the switch: " + clear);
    }

    @Test
    void theAuthServerAsksForStarttlsOnAPlaintextServer() throws Exception {
        serve("");
        sslBackend = "starttls";
        Client c = login();
        assertEquals("a1 OK LOGIN completed", c.readLine());
        assertEquals(List.of("TLSv1.3"), backend.protocols());
    }

    @Test
    void aFailedHandshakeIsTheInternalErrorWithoutAPlaintextLogin() throws Exception {
        TestCerts other = new TestCerts(Files.createTempDirectory("imap-backend-tls-other"));
        serve("proxy_ssl starttls; proxy_ssl_verify on; proxy_ssl_trusted_certificate " + other.path("ca.pem")
                + "; proxy_ssl_name localhost;");
        Client c = login();
        assertEquals("* BAD internal server error", c.readLine());
        assertTrue(c.closedByPeer());
        assertFalse(backend.received(0).contains("LOGIN"), backend.received(0));
    }

    @Test
    void aBackendThatRefusesStarttlsGetsNoLogin() throws Exception {
        backend.refuseStarttls();
        serve("proxy_ssl starttls;");
        Client c = login();
        assertEquals("* BAD internal server error", c.readLine());
        assertEquals("mp1 STARTTLS\r\n", backend.received(0), "nothing after the refusal");
    }
}
