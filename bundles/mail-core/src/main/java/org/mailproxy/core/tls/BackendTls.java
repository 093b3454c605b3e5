package org.mailproxy.core.tls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.filter.ssl.SslFilter;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.ValueOrigin;
import org.mailproxy.core.session.UpstreamTls;
import org.mailproxy.core.spi.BackendTlsMode;

/**
 * A server's TLS toward its backends, from its {@code proxy_ssl*} directives
 * ({@link org.mailproxy.core.config.ProxySslModule}): a client-mode SSLContext and how each backend
 * connection's engine is set up. Built for every server, whatever {@code proxy_ssl} says, because
 * the auth server may ask for TLS per login ({@code Auth-SSL-Backend}).
 *
 * <p>Verification off (the default, as nginx's {@code proxy_ssl_verify}): any certificate is
 * accepted. On: the chain must lead to {@code proxy_ssl_trusted_certificate} within
 * {@code proxy_ssl_verify_depth} certificates (leaf and intermediates, as {@code ssl_verify_depth}
 * counts them here), and the certificate must name {@code proxy_ssl_name}, else the backend's IP
 * address (JSSE's HTTPS identity rules: subjectAltName DNS or IP entries, the CN when there is no
 * DNS entry). A host name in {@code proxy_ssl_name} is also sent as SNI; an IP address is not (SNI
 * carries host names only). The engine gets the peer's address as written, so no reverse DNS
 * lookup runs on the I/O thread.
 */
public final class BackendTls implements UpstreamTls {

    static final String FILTER = "upstream-tls";
    private static final char[] STORE_PASSWORD = "mailproxy".toCharArray();

    private final BackendTlsMode mode;
    private final SSLContext context;
    private final String[] protocols;
    private final boolean verify;
    private final String name;

    private BackendTls(BackendTlsMode mode, SSLContext context, String[] protocols, boolean verify, String name) {
        this.mode = mode;
        this.context = context;
        this.protocols = protocols;
        this.verify = verify;
        this.name = name;
    }

    /**
     * The server's backend TLS; with the directives absent (a registry without the module),
     * plaintext by default and TLS without verification when an auth server asks for it.
     *
     * @throws ConfigException with file and line when a file does not load or a value cannot be honoured
     */
    public static BackendTls build(ServerConfig server) throws ConfigException {
        if (!server.directiveNames().contains("proxy_ssl")) {
            return plain();
        }
        BackendTlsMode mode = BackendTlsMode.parse(server.get("proxy_ssl"));
        boolean verify = server.flag("proxy_ssl_verify");
        String trusted = server.get("proxy_ssl_trusted_certificate");
        if (verify && trusted == null) {
            throw error("no \"proxy_ssl_trusted_certificate\" for \"proxy_ssl_verify\"",
                    server.origin("proxy_ssl_verify"), server);
        }
        int depth = server.number("proxy_ssl_verify_depth");
        if (depth < 1) {
            throw error("invalid value \"" + depth + "\" in \"proxy_ssl_verify_depth\" directive, it must be 1 or more",
                    server.origin("proxy_ssl_verify_depth"), server);
        }
        String name = server.get("proxy_ssl_name");
        if (name != null && (name.isEmpty() || !isValidName(name))) {
            throw error("invalid value \"" + name + "\" in \"proxy_ssl_name\" directive", server.origin("proxy_ssl_name"),
                    server);
        }
        try {
            TrustManager[] trust = verify
                    ? trustManagers(PemCerts.load(server, "proxy_ssl_trusted_certificate", trusted), depth)
                    : new TrustManager[] {TrustAll.INSTANCE};
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers(server), trust, new SecureRandom());
            return new BackendTls(mode, context, protocols(server, context), verify, name);
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigException("cannot set up TLS to the backend: " + e.getMessage(), server.file(), server.line());
        }
    }

    /** Plaintext by default, TLS without verification when asked (no configuration). */
    public static BackendTls plain() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {TrustAll.INSTANCE}, new SecureRandom());
            return new BackendTls(BackendTlsMode.OFF, context, new String[] {"TLSv1.2", "TLSv1.3"}, false, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this Java runtime", e);
        }
    }

    @Override
    public BackendTlsMode mode() {
        return mode;
    }

    @Override
    public void secure(IoSession backend) {
        backend.getFilterChain().addFirst(FILTER, new Filter());
    }

    @Override
    public String describe(IoSession backend) {
        javax.net.ssl.SSLSession session = (javax.net.ssl.SSLSession) backend.getAttribute(SslFilter.SSL_SECURED);
        return session == null ? null : session.getProtocol() + " " + session.getCipherSuite();
    }

    /** Whether this verifies the backend's certificate (tests). */
    boolean verifies() {
        return verify;
    }

    /** The engine of one backend connection. */
    SSLEngine engine(InetSocketAddress backend) {
        String peer = name != null ? name : backend.getAddress().getHostAddress();
        SSLEngine engine = context.createSSLEngine(peer, backend.getPort());
        engine.setUseClientMode(true);
        SSLParameters params = engine.getSSLParameters();
        params.setProtocols(protocols);
        if (name != null && !isIpLiteral(name)) {
            params.setServerNames(List.of(new SNIHostName(name)));
        } else {
            params.setServerNames(List.of());
        }
        if (verify) {
            params.setEndpointIdentificationAlgorithm("HTTPS");
        }
        engine.setSSLParameters(params);
        return engine;
    }

    private final class Filter extends SslFilter {

        /**
         * MINA's classic TLS handler (SSLHandlerG0), not 2.2.4's default "non-blocking pipeline"
         * (SSLHandlerG1, marked experimental): G1 queues the handshake's last flight, written by
         * the delegated task that checked the backend's certificate, and sends it after the
         * SECURED event, so the first command the login writes on SECURED (EHLO after SMTP
         * STARTTLS) could reach the backend before the client Finished; Postfix then failed the
         * handshake with "decryption failed or bad record mac". G0 writes the flight before it
         * fires SECURED, under the handler's lock, and hands over data decrypted by the task
         * itself, so it needs no workaround on the relay's write path either.
         */
        Filter() {
            super(context);
            setUseNonBlockingPipeline(false);
        }

        @Override
        protected SSLEngine createEngine(IoSession session, InetSocketAddress addr) {
            return engine((InetSocketAddress) session.getRemoteAddress());
        }
    }

    private static TrustManager[] trustManagers(List<X509Certificate> trusted, int depth)
            throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < trusted.size(); i++) {
            store.setCertificateEntry("ca" + i, trusted.get(i));
        }
        PKIXBuilderParameters params = new PKIXBuilderParameters(store, new X509CertSelector());
        params.setRevocationEnabled(false);
        params.setMaxPathLength(depth - 1); // intermediates; with the leaf, at most depth certificates
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(new CertPathTrustManagerParameters(params));
        return tmf.getTrustManagers();
    }

    private static KeyManager[] keyManagers(ServerConfig server) throws ConfigException, GeneralSecurityException,
            IOException {
        String cert = server.get("proxy_ssl_certificate");
        String key = server.get("proxy_ssl_certificate_key");
        if (cert == null && key == null) {
            return null;
        }
        if (cert == null) {
            throw error("no \"proxy_ssl_certificate\" is defined for \"proxy_ssl_certificate_key\"",
                    server.origin("proxy_ssl_certificate_key"), server);
        }
        if (key == null) {
            throw error("no \"proxy_ssl_certificate_key\" is defined for certificate \"" + cert + "\"",
                    server.origin("proxy_ssl_certificate"), server);
        }
        List<String> passwords = List.of();
        String passwordFile = server.get("proxy_ssl_password_file");
        if (passwordFile != null) {
            try {
                passwords = PemFiles.passwords(PemCerts.path(server, "proxy_ssl_password_file", passwordFile));
            } catch (IOException e) {
                throw error(e.getMessage(), server.origin("proxy_ssl_password_file"), server);
            }
        }
        List<X509Certificate> chain = PemCerts.load(server, "proxy_ssl_certificate", cert);
        PrivateKey privateKey;
        try {
            privateKey = PemFiles.privateKey(PemCerts.path(server, "proxy_ssl_certificate_key", key), passwords);
        } catch (IOException e) {
            throw error(e.getMessage(), server.origin("proxy_ssl_certificate_key"), server);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try {
            store.setKeyEntry("client", privateKey, STORE_PASSWORD, chain.toArray(new X509Certificate[0]));
        } catch (java.security.KeyStoreException e) {
            throw error("certificate \"" + cert + "\" and key \"" + key + "\" do not match (" + e.getMessage() + ")",
                    server.origin("proxy_ssl_certificate_key"), server);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(store, STORE_PASSWORD);
        return kmf.getKeyManagers();
    }

    private static String[] protocols(ServerConfig server, SSLContext context) throws ConfigException {
        List<String> wanted = server.get("proxy_ssl_protocols");
        Set<String> supported = Set.of(context.getSupportedSSLParameters().getProtocols());
        Set<String> enabled = Set.of(context.getDefaultSSLParameters().getProtocols());
        List<String> out = new ArrayList<>();
        for (String p : wanted) {
            if (!supported.contains(p)) {
                throw error("proxy_ssl_protocols: \"" + p + "\" is not implemented by this Java runtime",
                        server.origin("proxy_ssl_protocols"), server);
            }
            if (!enabled.contains(p)) {
                throw error("proxy_ssl_protocols: \"" + p + "\" is disabled by this Java runtime"
                        + " (security property jdk.tls.disabledAlgorithms)", server.origin("proxy_ssl_protocols"), server);
            }
            out.add(p);
        }
        return out.toArray(new String[0]);
    }

    private static boolean isIpLiteral(String name) {
        return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
    }

    /** A host name or an IP address, nothing that could not be a certificate name. */
    private static boolean isValidName(String name) {
        return name.matches("[A-Za-z0-9._:\\-]+");
    }

    static ConfigException error(String message, ValueOrigin at, ServerConfig server) {
        if (at != null && at.file() != null) {
            return new ConfigException(message, at.file(), at.line());
        }
        return new ConfigException(message, server.file(), server.line());
    }

    /** Certificates and paths of directives, errors with the directive's file and line. */
    private static final class PemCerts {

        static List<X509Certificate> load(ServerConfig server, String directive, String value) throws ConfigException {
            try {
                return PemFiles.certificates(path(server, directive, value));
            } catch (IOException e) {
                throw error(e.getMessage(), server.origin(directive), server);
            }
        }

        /** A path as written, relative ones resolved against the directory of the file that set it. */
        static Path path(ServerConfig server, String directive, String value) {
            Path p = Path.of(value);
            if (p.isAbsolute()) {
                return p;
            }
            ValueOrigin origin = server.origin(directive);
            if (origin != null && origin.file() != null) {
                Path parent = Path.of(origin.file()).toAbsolutePath().getParent();
                if (parent != null && java.nio.file.Files.isDirectory(parent)) {
                    return parent.resolve(p);
                }
            }
            return p.toAbsolutePath();
        }
    }

    /** {@code proxy_ssl_verify off}: every certificate is accepted, as nginx does. */
    private static final class TrustAll extends javax.net.ssl.X509ExtendedTrustManager {
        static final TrustAll INSTANCE = new TrustAll();

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
