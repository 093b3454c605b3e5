package org.mailproxy.core.tls;

import org.mailproxy.core.testing.CommandLineProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.AlgorithmConstraints;
import java.security.AlgorithmParameters;
import java.security.CryptoPrimitive;
import java.security.Key;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.net.BindingState;
import org.mailproxy.core.net.ListenBinding;
import org.mailproxy.core.net.ListenerSet;
import org.mailproxy.core.net.TestListen;
import org.mailproxy.core.session.MailServer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.session.SessionLimits;
import org.mailproxy.core.session.SessionManager;

/**
 * {@code ssl_certificate_sni}: a real listener of the proxy, the JDK's SSLSocket as the client
 * asking for a name with SNI, and the certificate it was served compared with the one made for
 * that name: for TLS 1.2 and 1.3, RSA and ECDSA, exact names, wildcards, no SNI and unknown names
 * (the {@code ssl_certificate} set). The session sees the name the client asked for.
 */
class SniTest {

    @TempDir
    Path dir;

    private TestCerts certs;
    private SniCerts names;
    private SessionManager sessions;
    private ListenerSet listeners;
    private int port;

    private X509Certificate defaultRsa;
    private X509Certificate defaultEc;
    private X509Certificate mailRsa;
    private X509Certificate mailEc;
    private X509Certificate orgRsa;
    private X509Certificate orgEc;
    private X509Certificate comWildcardRsa;
    private X509Certificate rsaOnly;

    @BeforeEach
    void start() throws Exception {
        certs = new TestCerts(dir);
        names = new SniCerts(certs);
        defaultRsa = PemFiles.certificates(dir.resolve("rsa.pem")).get(0);
        defaultEc = PemFiles.certificates(dir.resolve("ec.pem")).get(0);
        mailRsa = names.rsa("mail.example.com", "mail-rsa");
        mailEc = names.ec("mail.example.com", "mail-ec");
        orgRsa = names.rsa("*.example.org", "org-rsa");
        orgEc = names.ec("*.example.org", "org-ec");
        comWildcardRsa = names.rsa("*.example.com", "com-rsa");
        rsaOnly = names.rsa("rsa.example.net", "net-rsa");
        sessions = new SessionManager(2);
        sessions.setConnectionInitializer(new TlsConnections());
        listeners = new ListenerSet(sessions.ioProcessor(), sessions.clientHandler());
        serve(names.directive("mail.example.com", "mail-rsa") + names.directive("Mail.Example.com", "mail-ec")
                + names.directive("*.example.org", "org-rsa") + names.directive("*.example.org", "org-ec")
                + names.directive("*.example.com", "com-rsa") + names.directive("rsa.example.net", "net-rsa"));
    }

    @AfterEach
    void stop() {
        listeners.close();
        sessions.close();
    }

    // ---------------------------------------------------------------- which certificate

    @Test
    void exactNameGetsItsRsaAndEcdsaCertificatesWithTls12() throws Exception {
        assertEquals(mailRsa, served("TLSv1.2", Key.RSA, "mail.example.com"));
        assertEquals(mailEc, served("TLSv1.2", Key.EC, "mail.example.com"));
    }

    @Test
    void exactNameGetsItsRsaAndEcdsaCertificatesWithTls13() throws Exception {
        assertEquals(mailRsa, served("TLSv1.3", Key.RSA, "mail.example.com"));
        assertEquals(mailEc, served("TLSv1.3", Key.EC, "mail.example.com"));
    }

    @Test
    void namesAreComparedWithoutCase() throws Exception {
        assertEquals(mailEc, served("TLSv1.3", Key.EC, "MAIL.example.COM"));
    }

    @Test
    void wildcardMatchesNamesBelowItsSuffixOnly() throws Exception {
        for (String version : List.of("TLSv1.2", "TLSv1.3")) {
            assertEquals(orgRsa, served(version, Key.RSA, "imap.example.org"), version);
            assertEquals(orgEc, served(version, Key.EC, "imap.example.org"), version);
            assertEquals(orgEc, served(version, Key.EC, "a.b.example.org"), version);
            assertEquals(defaultEc, served(version, Key.EC, "example.org"), version + ": not the suffix itself");
            assertEquals(defaultRsa, served(version, Key.RSA, "example.org"), version);
        }
    }

    @Test
    void exactNameBeatsWildcard() throws Exception {
        assertEquals(mailRsa, served("TLSv1.2", Key.RSA, "mail.example.com"));
        assertEquals(comWildcardRsa, served("TLSv1.2", Key.RSA, "smtp.example.com"));
        assertEquals(comWildcardRsa, served("TLSv1.3", Key.RSA, "smtp.example.com"));
    }

    @Test
    void noSniOrAnUnknownNameGetsTheSslCertificateSet() throws Exception {
        for (String version : List.of("TLSv1.2", "TLSv1.3")) {
            assertEquals(defaultRsa, served(version, Key.RSA, null), version);
            assertEquals(defaultEc, served(version, Key.EC, null), version);
            assertEquals(defaultRsa, served(version, Key.RSA, "unknown.example.net"), version);
            assertEquals(defaultEc, served(version, Key.EC, "unknown.example.net"), version);
        }
    }

    @Test
    void aNameWithOnlyRsaIsServedRsaEvenWhenTheClientPrefersEcdsa() throws Exception {
        assertEquals(rsaOnly, served("TLSv1.3", Key.EC, "rsa.example.net"), "TLS 1.3: RSA signature scheme instead");
        assertEquals(rsaOnly, served("TLSv1.2", Key.ANY, "rsa.example.net"), "TLS 1.2: an RSA suite instead");
        // a client that takes ECDSA only is not handed the default set's ECDSA certificate for this name
        assertThrows(SSLException.class, () -> served("TLSv1.2", Key.EC, "rsa.example.net"));
    }

    @Test
    void theSessionKnowsTheNameTheClientAskedFor() throws Exception {
        try (SSLSocket s = connect("TLSv1.3", Key.ANY, "Imap.Example.org")) {
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            s.getOutputStream().write("SNI\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("sni=imap.example.org", in.readLine().toLowerCase(java.util.Locale.ROOT));
        }
        try (SSLSocket s = connect("TLSv1.2", Key.ANY, null)) {
            BufferedReader in = reader(s);
            assertEquals("+OK ready", in.readLine());
            s.getOutputStream().write("SNI\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("sni=null", in.readLine());
        }
    }

    // ---------------------------------------------------------------- configuration

    @Test
    void badNamesAndFilesAreErrorsWithFileAndLine() throws Exception {
        String head = "mail {\n" + certs.directives().replace("\n", " ") + "\n server {\n  listen 127.0.0.1:993 ssl;\n";
        String pem = dir.resolve("mail-rsa.pem").toString();
        String key = dir.resolve("mail-rsa.key").toString();
        assertTrue(error(head + "  ssl_certificate_sni mail.*.com " + pem + " " + key + ";\n } }")
                .matches("invalid server name \"mail\\.\\*\\.com\" in \"ssl_certificate_sni\" directive: .* in test\\.conf:5"));
        for (String bad : List.of("192.0.2.1", "*", "*.", "bad_name!.com", "a..b", "-a.example.com", "**.example.com")) {
            assertTrue(error(head + "  ssl_certificate_sni " + bad + " " + pem + " " + key + ";\n } }")
                    .startsWith("invalid server name"), bad);
        }
        assertEquals("invalid number of arguments in \"ssl_certificate_sni\" directive in test.conf:5",
                error(head + "  ssl_certificate_sni mail.example.com " + pem + ";\n } }"));
        assertEquals("cannot load certificate \"/nonexistent.pem\": no such file in test.conf:6",
                error(head + "  ssl_certificate_sni a.example.com " + pem + " " + key + ";\n"
                        + "  ssl_certificate_sni b.example.com /nonexistent.pem " + key + ";\n } }"));
        assertEquals("cannot load certificate key \"/nonexistent.key\": no such file in test.conf:5",
                error(head + "  ssl_certificate_sni a.example.com " + pem + " /nonexistent.key;\n } }"));
        assertTrue(error(head + "  ssl_certificate_sni a.example.com " + pem + " " + dir.resolve("mail-ec.key") + ";\n } }")
                .endsWith("do not match (key values mismatch) in test.conf:5"));
        // still needs the default set
        assertEquals("no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in test.conf:3",
                error("mail {\n server {\n  listen 127.0.0.1:993 ssl;\n  ssl_certificate_sni a.example.com " + pem + " "
                        + key + ";\n } }"));
    }

    @Test
    void aRelativePathIsTakenFromTheDirectoryOfItsFile() throws Exception {
        String text = "mail {\n" + certs.directives() + " ssl_certificate_sni mail.example.com mail-rsa.pem mail-rsa.key;\n"
                + " server { listen 127.0.0.1:993 ssl; }\n}\n";
        ServerConfig config = ConfigBuilder.build(ConfigParser.parse(text, dir.resolve("mail.conf").toString()),
                DirectiveRegistry.withCoreModules()).servers().get(0);
        assertTrue(TlsContextBuilder.build(config) != null);
    }

    @Test
    void movingTheDirectiveToAnotherLineIsNoChange() throws Exception {
        String sni = certs.directives() + names.directive("mail.example.com", "mail-rsa");
        assertEquals(build("mail {\n" + sni + " server { listen 127.0.0.1:993 ssl; }\n}\n"),
                build("mail {\n\n\n" + sni + " server { listen 127.0.0.1:993 ssl; }\n}\n"));
    }

    // ---------------------------------------------------------------- fixture

    /** Which certificate type the client lets the server use. */
    private enum Key { RSA, EC, ANY }

    private X509Certificate served(String version, Key key, String sni) throws IOException {
        try (SSLSocket s = connect(version, key, sni)) {
            assertEquals("+OK ready", reader(s).readLine());
            assertEquals(version, s.getSession().getProtocol());
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    /**
     * TLS 1.2: the suites decide the certificate type. TLS 1.3: the signature schemes do; the JDK
     * client offers ECDSA first, and for RSA its ECDSA schemes are taken away with algorithm
     * constraints (Java 17 has no SSLParameters.setSignatureSchemes).
     */
    private SSLSocket connect(String version, Key key, String sni) throws IOException {
        SSLSocket s = (SSLSocket) certs.clientContext(null, null).getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5000);
        SSLParameters params = s.getSSLParameters();
        params.setProtocols(new String[] {version});
        if (sni != null) {
            params.setServerNames(List.of(new SNIHostName(sni)));
        }
        if (version.equals("TLSv1.2") && key != Key.ANY) {
            params.setCipherSuites(new String[] {key == Key.RSA ? "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
                    : "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
        }
        if (version.equals("TLSv1.3") && key == Key.RSA) {
            params.setAlgorithmConstraints(new NoEcdsaSignatures());
        }
        s.setSSLParameters(params);
        s.startHandshake();
        return s;
    }

    private static BufferedReader reader(SSLSocket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    private String error(String text) {
        return assertThrows(ConfigException.class, () -> TlsContextBuilder.build(build(text))).getMessage();
    }

    private static ServerConfig build(String text) throws ConfigException {
        return ConfigBuilder.build(ConfigParser.parse(text, "test.conf"), DirectiveRegistry.withCoreModules())
                .servers().get(0);
    }

    private void serve(String directives) throws ConfigException {
        port = TestListen.freePort();
        ServerConfig config = build("mail {\n" + certs.directives() + directives + " server {\n  listen 127.0.0.1:" + port
                + " ssl;\n  protocol imap;\n }\n}\n");
        MailServer server = new MailServer("sni test", new Protocol(), config, SessionLimits.of(config));
        server.setTls(TlsContextBuilder.build(config));
        List<ListenBinding> bindings = new ArrayList<>();
        for (ListenSpec listen : config.listens()) {
            bindings.add(new ListenBinding(listen, server));
        }
        List<BindingState> states = listeners.apply(bindings);
        assertTrue(states.get(0).bound(), states.get(0).error());
    }

    /** Permits everything but ECDSA signatures. */
    private static final class NoEcdsaSignatures implements AlgorithmConstraints {
        @Override
        public boolean permits(Set<CryptoPrimitive> primitives, String algorithm, AlgorithmParameters parameters) {
            return !(primitives.contains(CryptoPrimitive.SIGNATURE) && algorithm.toUpperCase(java.util.Locale.ROOT)
                    .contains("ECDSA"));
        }

        @Override
        public boolean permits(Set<CryptoPrimitive> primitives, java.security.Key key) {
            return true;
        }

        @Override
        public boolean permits(Set<CryptoPrimitive> primitives, String algorithm, java.security.Key key,
                               AlgorithmParameters parameters) {
            return permits(primitives, algorithm, parameters);
        }
    }

    /** Greets; {@code SNI} answers the name the session saw. */
    private static final class Protocol extends CommandLineProtocol {
        @Override
        protected boolean command(MailSession session, String command) {
            session.write(command.equals("SNI") ? "sni=" + session.tlsServerName() + "\r\n" : "-ERR\r\n");
            return true;
        }
    }
}
