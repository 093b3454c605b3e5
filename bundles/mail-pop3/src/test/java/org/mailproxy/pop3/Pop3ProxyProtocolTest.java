package org.mailproxy.pop3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.internal.AuthHttpModule;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.RealIpModule;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.proxyprotocol.ProxyHeaderWriter;
import org.mailproxy.core.proxyprotocol.ProxyProtocolConnections;
import org.mailproxy.core.session.ConnectionInitializer;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;
import org.mailproxy.core.tls.TlsConnections;
import org.mailproxy.pop3.fixture.AuthServerStub;
import org.mailproxy.pop3.fixture.RawClient;

/**
 * {@code listen ... proxy_protocol} with the real POP3 module and the real auth_http module: what
 * the PROXY header announced reaches the auth server as Proxy-Protocol-*, and Client-IP is the
 * PROXY source only for a peer in {@code set_real_ip_from} (nginx's mail_proxy_protocol.t checks
 * the same with its X-Type proxy / realip servers).
 */
class Pop3ProxyProtocolTest {

    @Test
    void proxyProtocolAddressesReachTheAuthServer() throws Exception {
        try (AuthServerStub auth = new AuthServerStub()) {
            auth.answer(r -> auth.refuse("no"));
            assertEquals("127.0.0.1", login(auth, "").get("client-ip"));
            AuthServerStub.Request proxy = auth.lastRequest();
            assertEquals("192.0.2.1", proxy.get("proxy-protocol-addr"));
            assertEquals("123", proxy.get("proxy-protocol-port"));
            assertEquals("192.0.2.2", proxy.get("proxy-protocol-server-addr"));
            assertEquals("110", proxy.get("proxy-protocol-server-port"));

            AuthServerStub.Request realip = login(auth, "set_real_ip_from 127.0.0.1/32;");
            assertEquals("192.0.2.1", realip.get("client-ip"));
            assertEquals("192.0.2.1", realip.get("proxy-protocol-addr"));
            assertEquals("123", realip.get("proxy-protocol-port"));

            AuthServerStub.Request unknown = login(auth, "set_real_ip_from 127.0.0.1/32;", "PROXY UNKNOWN\r\n");
            assertEquals("127.0.0.1", unknown.get("client-ip"));
            assertNull(unknown.get("proxy-protocol-addr"));
        }
    }

    private static AuthServerStub.Request login(AuthServerStub auth, String serverDirectives) throws Exception {
        return login(auth, serverDirectives, "PROXY TCP4 192.0.2.1 192.0.2.2 123 110\r\n");
    }

    /** One proxy as MailRuntime wires it, one refused login; the auth request it made. */
    private static AuthServerStub.Request login(AuthServerStub auth, String serverDirectives, String header)
            throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        AuthHttpModule authHttp = new AuthHttpModule();
        Pop3Protocol protocol = new Pop3Protocol(authHttp);
        DirectiveRegistry registry = DirectiveRegistry.withCoreModules();
        registry.add(protocol);
        registry.add(authHttp);
        authHttp.start();
        SessionManager sessions = new SessionManager(2);
        sessions.setConnectionInitializer(ConnectionInitializer.inOrder(new TlsConnections(),
                new ProxyProtocolConnections()));
        ListenerSet listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
        try {
            String conf = "mail { auth_http " + auth.url() + "; server { listen 127.0.0.1:" + port
                    + " proxy_protocol; protocol pop3; " + serverDirectives + " } }";
            ServerConfig config = ConfigBuilder.build(ConfigParser.parse(conf, "test.conf"), registry).servers().get(0);
            MailServer server = new MailServer("pop3 pp test", protocol, config, SessionLimits.of(config));
            server.setRealIpFrom(config.get(RealIpModule.SET_REAL_IP_FROM));
            server.setBackendProxyProtocol(ProxyHeaderWriter.version(config.get("proxy_protocol")));
            List<ListenBinding> bindings = new ArrayList<>();
            for (ListenSpec listen : config.listens()) {
                bindings.add(new ListenBinding(listen, server));
            }
            for (BindingState state : listeners.apply(bindings)) {
                assertTrue(state.bound(), state.error());
            }
            int before = auth.requests().size();
            try (RawClient client = new RawClient(port)) {
                client.sendRaw(header);
                assertTrue(client.readLine().startsWith("+OK"));
                assertTrue(client.command("USER alice").startsWith("+OK"));
                assertTrue(client.command("PASS wrong").startsWith("-ERR"));
            }
            assertEquals(before + 1, auth.requests().size());
            return auth.lastRequest();
        } finally {
            listeners.close();
            sessions.close();
            authHttp.stop();
        }
    }
}
