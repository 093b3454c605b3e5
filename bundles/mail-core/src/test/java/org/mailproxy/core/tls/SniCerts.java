package org.mailproxy.core.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Server certificates for host names, made at test time and signed by the CA of {@link TestCerts}:
 * {@link #rsa} and {@link #ec} write {@code FILE.pem} and {@code FILE.key} and return the
 * certificate, whose subject is {@code CN=name} with the name as DNS subjectAltName.
 */
final class SniCerts {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis() * 10);

    private final TestCerts ca;

    SniCerts(TestCerts ca) {
        this.ca = ca;
    }

    X509Certificate rsa(String name, String file) {
        return make(name, file, "RSA");
    }

    X509Certificate ec(String name, String file) {
        return make(name, file, "EC");
    }

    private X509Certificate make(String name, String file, String algorithm) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (algorithm.equals("EC")) {
                g.initialize(new ECGenParameterSpec("secp256r1"));
            } else {
                g.initialize(2048);
            }
            KeyPair keys = g.generateKeyPair();
            long now = System.currentTimeMillis();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(ca.ca.getSubjectX500Principal().getEncoded()), BigInteger.valueOf(SERIAL.incrementAndGet()),
                    new Date(now - 60_000), new Date(now + 86_400_000L), new X500Name("CN=" + name), keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, name)));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withRSA").build(ca.caKeys.getPrivate())));
            write(file + ".pem", cert);
            write(file + ".key", new JcaPKCS8Generator(keys.getPrivate(), null)); // PKCS#8 "PRIVATE KEY"
            return cert;
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private void write(String name, Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        Files.writeString(ca.dir.resolve(name), out.toString());
    }

    /** {@code ssl_certificate_sni NAME FILE.pem FILE.key;} */
    String directive(String name, String file) {
        Path dir = ca.dir;
        return "ssl_certificate_sni " + name + " " + dir.resolve(file + ".pem") + " " + dir.resolve(file + ".key") + ";\n";
    }
}
