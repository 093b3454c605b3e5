package org.mailproxy.core.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMDecryptorProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.InputDecryptorProvider;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * PEM files as nginx reads them with OpenSSL: certificate chains (leaf first), private keys
 * (PKCS#1 {@code RSA PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}, PKCS#8 {@code PRIVATE KEY}, and
 * their encrypted forms: legacy {@code Proc-Type: 4,ENCRYPTED} and PKCS#8
 * {@code ENCRYPTED PRIVATE KEY}), and CRLs. Parsed with BouncyCastle's PEMParser; keys and
 * certificates are converted with the JDK's providers, so JSSE uses them as usual. Errors are
 * {@link IOException}s whose message says what failed, in nginx's words where it has some.
 */
final class PemFiles {

    private static final JcaX509CertificateConverter CERTS = new JcaX509CertificateConverter();
    private static final JcaPEMKeyConverter KEYS = new JcaPEMKeyConverter();
    /** BouncyCastle's provider, used for key decryption only (OpenSSL's ciphers and PBE schemes), never registered globally. */
    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

    private PemFiles() {
    }

    /** Every certificate in the file, in order; at least one. */
    static List<X509Certificate> certificates(Path file) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        for (Object o : objects(file, "certificate")) {
            if (o instanceof X509CertificateHolder holder) {
                try {
                    out.add(CERTS.getCertificate(holder));
                } catch (CertificateException e) {
                    throw new IOException("cannot load certificate \"" + file + "\": " + e.getMessage(), e);
                }
            }
        }
        if (out.isEmpty()) {
            throw new IOException("cannot load certificate \"" + file + "\": no certificate in PEM file");
        }
        return out;
    }

    /**
     * The first private key in the file. An encrypted key is tried with each password in turn
     * (nginx's {@code ssl_password_file}: one password per line).
     */
    static PrivateKey privateKey(Path file, List<String> passwords) throws IOException {
        for (Object o : objects(file, "certificate key")) {
            try {
                if (o instanceof PEMKeyPair pair) {
                    return KEYS.getPrivateKey(pair.getPrivateKeyInfo()); // SEC1 EC keys may lack the public part
                }
                if (o instanceof PrivateKeyInfo info) {
                    return KEYS.getPrivateKey(info);
                }
                if (o instanceof PEMEncryptedKeyPair encrypted) {
                    return KEYS.getPrivateKey(decrypt(file, encrypted, passwords).getPrivateKeyInfo());
                }
                if (o instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                    return KEYS.getPrivateKey(decrypt(file, encrypted, passwords));
                }
            } catch (org.bouncycastle.openssl.PEMException e) {
                throw new IOException("cannot load certificate key \"" + file + "\": " + e.getMessage(), e);
            }
        }
        throw new IOException("cannot load certificate key \"" + file + "\": no private key in PEM file");
    }

    /** Every CRL in the file; at least one. */
    static List<X509CRL> crls(Path file) throws IOException {
        List<X509CRL> out = new ArrayList<>();
        for (Object o : objects(file, "CRL")) {
            if (o instanceof X509CRLHolder holder) {
                try {
                    out.add(new JcaX509CRLConverter().getCRL(holder));
                } catch (CRLException e) {
                    throw new IOException("cannot load CRL \"" + file + "\": " + e.getMessage(), e);
                }
            }
        }
        if (out.isEmpty()) {
            throw new IOException("cannot load CRL \"" + file + "\": no CRL in PEM file");
        }
        return out;
    }

    /** The lines of a password file, empty lines skipped (nginx's {@code ngx_ssl_read_password_file}). */
    static List<String> passwords(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isEmpty()) {
                    out.add(line);
                }
            }
        } catch (IOException e) {
            throw new IOException("cannot open \"" + file + "\" (" + e.getMessage() + ")", e);
        }
        if (out.isEmpty()) {
            throw new IOException("empty file \"" + file + "\"");
        }
        return out;
    }

    private static PEMKeyPair decrypt(Path file, PEMEncryptedKeyPair encrypted, List<String> passwords) throws IOException {
        for (String password : passwords) {
            PEMDecryptorProvider decryptor = new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password.toCharArray());
            try {
                return encrypted.decryptKeyPair(decryptor);
            } catch (IOException e) {
                // wrong password: try the next one, as OpenSSL's password callback loop does
            }
        }
        throw badPassword(file, passwords);
    }

    private static PrivateKeyInfo decrypt(Path file, PKCS8EncryptedPrivateKeyInfo encrypted, List<String> passwords)
            throws IOException {
        for (String password : passwords) {
            try {
                InputDecryptorProvider decryptor = new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC)
                        .build(password.toCharArray());
                return encrypted.decryptPrivateKeyInfo(decryptor);
            } catch (PKCSException | org.bouncycastle.operator.OperatorCreationException e) {
                // wrong password or unsupported scheme: try the next one
            }
        }
        throw badPassword(file, passwords);
    }

    private static IOException badPassword(Path file, List<String> passwords) {
        return new IOException("cannot load certificate key \"" + file + "\": "
                + (passwords.isEmpty() ? "the key is encrypted and no \"ssl_password_file\" is given"
                        : "bad password (" + passwords.size() + " tried from \"ssl_password_file\")"));
    }

    private static List<Object> objects(Path file, String what) throws IOException {
        List<Object> out = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                out.add(o);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException("cannot load " + what + " \"" + file + "\": no such file", e);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot load " + what + " \"" + file + "\": " + e.getMessage(), e);
        }
        return out;
    }
}
