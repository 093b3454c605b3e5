package org.mailproxy.core.tls;

import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.filter.ssl.SslFilter;
import org.mailproxy.core.session.TlsSupport;
import org.mailproxy.core.spi.AuthRequest;

/**
 * One server's TLS: the SSLContext built from its {@code ssl_*} directives and how each
 * connection's SSLEngine is set up (protocols, suites, client certificates, ALPN).
 *
 * <p><b>ALPN</b> (nginx 1.21.4, the ALPACA mitigation): a client that offers ALPN without this
 * server's protocol id ({@code imap}, {@code pop3}, {@code smtp}) gets the fatal alert
 * {@code no_application_protocol}; a client that offers no ALPN is served.
 *
 * <p>The engine is created without the peer's host name, so no reverse DNS lookup runs on the I/O
 * thread (MINA's default asks {@code InetSocketAddress.getHostName()}); delegated handshake tasks
 * run on MINA's TLS executor.
 */
public final class ServerTls implements TlsSupport {

    static final String FILTER = "tls";
    static final String GATE = "tls-gate";

    private final SSLContext context;
    private final String[] protocols;
    private final String[] suites;
    private final boolean preferServerCiphers;
    private final ClientCertVerifier verifier;
    private final String alpn;
    private final String[] namedGroups;
    private final AtomicLong failedHandshakes = new AtomicLong();

    ServerTls(SSLContext context, String[] protocols, String[] suites, boolean preferServerCiphers,
              ClientCertVerifier verifier, String protocol, String[] namedGroups) {
        this.context = context;
        this.protocols = protocols;
        this.suites = suites;
        this.preferServerCiphers = preferServerCiphers;
        this.verifier = verifier;
        this.alpn = protocol;
        this.namedGroups = namedGroups;
    }

    @Override
    public void secure(IoSession connection, boolean holdOpen) {
        connection.getFilterChain().addFirst(FILTER, new Filter());
        connection.getFilterChain().addAfter(FILTER, GATE, new TlsGate(this, holdOpen));
    }

    @Override
    public boolean isSecure(IoSession connection) {
        return connection.getFilterChain().contains(SslFilter.class);
    }

    @Override
    public AuthRequest.TlsInfo info(IoSession connection) {
        SSLSession session = (SSLSession) connection.getAttribute(SslFilter.SSL_SECURED);
        if (session == null) {
            return null;
        }
        String cipher = OpenSslCiphers.opensslName(session.getCipherSuite());
        if (verifier.mode() == ClientCertVerifier.Mode.OFF) {
            return new AuthRequest.TlsInfo(session.getProtocol(), cipher, null, null, null, null, null, null);
        }
        ClientCertVerifier.Result result = verifier.verify(session);
        X509Certificate cert = peer(session);
        if (cert == null) {
            return new AuthRequest.TlsInfo(session.getProtocol(), cipher, result.verify(), null, null, null, null, null);
        }
        return new AuthRequest.TlsInfo(session.getProtocol(), cipher, result.verify(),
                cert.getSubjectX500Principal().getName(), cert.getIssuerX500Principal().getName(),
                serial(cert.getSerialNumber()), sha1(cert), pem(cert));
    }

    @Override
    public String serverName(IoSession connection) {
        SSLSession session = (SSLSession) connection.getAttribute(SslFilter.SSL_SECURED);
        return session == null ? null : SniKeyManager.requestedHost(session);
    }

    /**
     * The serial number as nginx sends it (OpenSSL's {@code i2a_ASN1_INTEGER}): two upper-case hex
     * digits per byte of the magnitude, so always an even number of digits ({@code 0x1A2B3} is
     * {@code 01A2B3}), a minus sign before a negative one.
     */
    static String serial(java.math.BigInteger serial) {
        byte[] magnitude = serial.abs().toByteArray();
        int from = magnitude.length > 1 && magnitude[0] == 0 ? 1 : 0; // the sign byte is not part of it
        return (serial.signum() < 0 ? "-" : "")
                + HexFormat.of().withUpperCase().formatHex(magnitude, from, magnitude.length);
    }

    @Override
    public long failedHandshakes() {
        return failedHandshakes.get();
    }

    void handshakeFailed() {
        failedHandshakes.incrementAndGet();
    }

    ClientCertVerifier verifier() {
        return verifier;
    }

    /** The SSLContext (tests). */
    SSLContext context() {
        return context;
    }

    private static X509Certificate peer(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    private static String sha1(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(cert.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return null;
        }
    }

    /** The certificate in PEM, lines of 64 characters, as OpenSSL writes it. */
    static String pem(X509Certificate cert) {
        try {
            String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded());
            return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            return null;
        }
    }

    /** The SslFilter of this server: engines set up from the configuration. */
    private final class Filter extends SslFilter {

        Filter() {
            super(context);
        }

        @Override
        protected SSLEngine createEngine(IoSession session, InetSocketAddress addr) {
            SSLEngine engine = context.createSSLEngine(); // no peer host: no reverse DNS lookup here
            engine.setUseClientMode(false);
            SSLParameters params = engine.getSSLParameters();
            params.setProtocols(protocols);
            params.setCipherSuites(suites);
            params.setUseCipherSuitesOrder(preferServerCiphers);
            if (verifier.mode() != ClientCertVerifier.Mode.OFF) {
                params.setWantClientAuth(true); // nginx asks; whether a certificate is required is decided after
            }
            if (namedGroups != null) {
                try {
                    TlsContextBuilder.setNamedGroups().invoke(params, (Object) namedGroups);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("SSLParameters.setNamedGroups failed", e);
                }
            }
            engine.setSSLParameters(params);
            engine.setHandshakeApplicationProtocolSelector((e, offered) -> offered.contains(alpn) ? alpn : null);
            return engine;
        }

        /**
         * Runs the handshake's delegated tasks (certificate checks) inline on the I/O thread:
         * MINA 2.2.4 hands them to a shared executor whose thread then forwards the flight it
         * wrote while the I/O thread may already forward the SECURED event and the greeting
         * written on it, so the greeting could leave before the server's Finished (clients saw
         * "Tag mismatch") and data decrypted by the task waited for the client's next bytes.
         * SslFilter offers no switch for this; its handler class is package-private, so it is
         * created reflectively with no executor, and SslFilter uses the handler it finds.
         */
        @Override
        protected synchronized void onConnected(NextFilter next, IoSession session) throws SSLException {
            if (session.getAttribute(SSL_HANDLER) == null) {
                session.setAttribute(SSL_HANDLER, InlineTlsHandlers.create(
                        createEngine(session, (InetSocketAddress) session.getRemoteAddress()), session));
            }
            super.onConnected(next, session);
        }

    }
}
