package org.mailproxy.core.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time, never committed: a CA, a server RSA and a server ECDSA pair
 * signed by it, a client certificate signed by it, and a self-signed client. Written as PEM to a
 * directory, with an encrypted copy of the RSA key (password "secret").
 */
public final class TestCerts {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    public final Path dir;
    public final X509Certificate ca;
    public final KeyPair caKeys;
    public final X509Certificate client;
    public final KeyPair clientKeys;
    public final X509Certificate strangerClient;
    public final KeyPair strangerKeys;
    /** The server's RSA pair and certificate (CN=localhost, signed by the CA), for test backends. */
    public final KeyPair serverKeys;
    public final X509Certificate server;

    public TestCerts(Path dir) {
        try {
            this.dir = dir;
            caKeys = rsa();
            ca = cert("CN=Test CA,O=mailproxy", caKeys, "CN=Test CA,O=mailproxy", caKeys, true, 1);
            KeyPair serverRsa = rsa();
            X509Certificate rsaCert = cert("CN=localhost", serverRsa, "CN=Test CA,O=mailproxy", caKeys, false, 1);
            KeyPair serverEc = ec();
            X509Certificate ecCert = cert("CN=localhost", serverEc, "CN=Test CA,O=mailproxy", caKeys, false, 1);
            clientKeys = rsa();
            client = cert("CN=alice,O=mailproxy", clientKeys, "CN=Test CA,O=mailproxy", caKeys, false, 1);
            strangerKeys = rsa();
            strangerClient = cert("CN=mallory", strangerKeys, "CN=mallory", strangerKeys, false, 1);
            write("ca.pem", ca);
            serverKeys = serverRsa;
            server = rsaCert;
            write("rsa.pem", rsaCert);
            write("rsa.key", serverRsa.getPrivate());
            write("ec.pem", ecCert);
            write("ec.key", new JcaPKCS8Generator(serverEc.getPrivate(), null)); // PKCS#8 "PRIVATE KEY"; rsa.key is PKCS#1
            writeEncrypted("rsa-enc.key", serverRsa.getPrivate(), "secret");
            Files.writeString(dir.resolve("passwords"), "wrong\nsecret\n");
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    public String path(String name) {
        return dir.resolve(name).toString();
    }

    /** {@code ssl_certificate ... ssl_certificate_key ...} for the RSA and the ECDSA pair. */
    public String directives() {
        return "ssl_certificate " + path("rsa.pem") + "; ssl_certificate_key " + path("rsa.key") + ";\n"
                + "ssl_certificate " + path("ec.pem") + "; ssl_certificate_key " + path("ec.key") + ";\n";
    }

    /** A server context with the RSA certificate, for test backends that speak TLS. */
    public SSLContext serverContext() {
        try {
            KeyStore own = KeyStore.getInstance("PKCS12");
            own.load(null, null);
            own.setKeyEntry("server", serverKeys.getPrivate(), "x".toCharArray(), new X509Certificate[] {server, ca});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(own, "x".toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client context trusting the CA, presenting {@code clientCert} when not null. */
    public SSLContext clientContext(X509Certificate clientCert, KeyPair keys) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509"); // plain aliases ("me")
            KeyStore own = KeyStore.getInstance("PKCS12");
            own.load(null, null);
            if (clientCert != null) {
                own.setKeyEntry("me", keys.getPrivate(), "x".toCharArray(), new X509Certificate[] {clientCert});
            }
            kmf.init(own, "x".toCharArray());
            javax.net.ssl.X509KeyManager km = (javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0];
            // presents its certificate whatever issuers the server asks for, as openssl s_client -cert does
            javax.net.ssl.X509ExtendedKeyManager always = new javax.net.ssl.X509ExtendedKeyManager() {
                public String[] getClientAliases(String t, java.security.Principal[] i) { return km.getClientAliases(t, null); }
                public String chooseClientAlias(String[] t, java.security.Principal[] i, java.net.Socket s) { return clientCert == null ? null : "me"; }
                public String chooseEngineClientAlias(String[] t, java.security.Principal[] i, javax.net.ssl.SSLEngine e) { return clientCert == null ? null : "me"; }
                public String[] getServerAliases(String t, java.security.Principal[] i) { return null; }
                public String chooseServerAlias(String t, java.security.Principal[] i, java.net.Socket s) { return null; }
                public X509Certificate[] getCertificateChain(String a) { return km.getCertificateChain(a); }
                public PrivateKey getPrivateKey(String a) { return km.getPrivateKey(a); }
            };
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new javax.net.ssl.KeyManager[] {always}, tmf.getTrustManagers(), new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    private static KeyPair ec() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509Certificate cert(String subject, KeyPair keys, String issuer, KeyPair issuerKeys, boolean ca,
                                        int days) throws GeneralSecurityException, IOException,
            org.bouncycastle.operator.OperatorCreationException {
        long now = System.currentTimeMillis();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                BigInteger.valueOf(SERIAL.incrementAndGet()), new Date(now - 60_000), new Date(now + days * 86_400_000L),
                new X500Name(subject), keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        String alg = issuerKeys.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(alg).build(issuerKeys.getPrivate())));
    }

    private void write(String name, Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        Files.writeString(dir.resolve(name), out.toString());
    }

    private void writeEncrypted(String name, PrivateKey key, String password)
            throws IOException, org.bouncycastle.operator.OperatorCreationException {
        var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                .setPassword(password.toCharArray()).build();
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(new JcaPKCS8Generator(key, encryptor));
        }
        Files.writeString(dir.resolve(name), out.toString());
    }
}
