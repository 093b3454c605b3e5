package org.mailproxy.core.tls;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.X509ExtendedKeyManager;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.config.SniCertificate;
import org.mailproxy.core.config.ValueOrigin;

/**
 * Builds a server's TLS ({@link ServerTls}: an {@link SSLContext} plus the engine settings) from
 * its {@code ssl_*} directives, at configuration time, as nginx's {@code ngx_mail_ssl_merge_conf}
 * does. A server needs TLS when one of its listens has {@code ssl} or {@code starttls} is
 * {@code on} or {@code only}; other servers get none and their {@code ssl_*} values are not read.
 *
 * <p>Errors name the directive's file and line. Directives JSSE cannot honour are refused:
 * <ul>
 * <li>{@code ssl_dhparam}: JSSE negotiates the RFC 7919 FFDHE groups and takes no DH parameters;</li>
 * <li>{@code ssl_ecdh_curve} other than {@code auto}: named groups per server need Java 20
 *     ({@code SSLParameters.setNamedGroups}); on Java 17 only {@code auto} is accepted;</li>
 * <li>{@code ssl_conf_command}: OpenSSL commands, nothing to hand them to;</li>
 * <li>{@code ssl_session_ticket_key}: JSSE makes its own ticket keys;</li>
 * <li>{@code ssl_session_tickets}: JSSE switches tickets for the whole JVM (system property
 *     {@code jdk.tls.server.enableSessionTicketExtension}); a value that disagrees with the JVM is
 *     refused;</li>
 * <li>{@code ssl_certificate_compression on};</li>
 * <li>protocols the JDK does not implement or has disabled ({@code jdk.tls.disabledAlgorithms}).</li>
 * </ul>
 * {@code ssl_session_cache}: {@code builtin[:size]} sets the JSSE server session cache size,
 * {@code shared:name:size} too (about 4000 sessions per megabyte, as nginx documents; the cache is
 * per server here, not shared between servers); {@code off} and {@code none} limit it to one session
 * (JSSE has no switch to turn the server cache off).
 *
 * <p>{@code ssl_certificate_sni NAME CERT KEY} (this project's own) adds certificates served to
 * clients that ask for NAME with SNI ({@link SniKeyManager}); the {@code ssl_certificate} set
 * stays the one for clients without SNI or with another name, so it is still required. Keys
 * encrypted with a password of {@code ssl_password_file} load as the default set's do.
 */
public final class TlsContextBuilder {

    private static final char[] STORE_PASSWORD = "mailproxy".toCharArray();

    private TlsContextBuilder() {
    }

    /** Whether the server needs TLS: a listen with {@code ssl}, or {@code starttls on|only}. */
    public static boolean needsTls(ServerConfig server) {
        return sslListen(server) != null || !"off".equals(starttls(server));
    }

    /** {@link org.mailproxy.core.config.SslModule#validate}: builds the TLS of a server that needs it. */
    public static void validate(ServerConfig server) throws ConfigException {
        build(server);
    }

    /**
     * The server's TLS, or null when it needs none.
     *
     * @throws ConfigException with file and line when a file does not load or a value cannot be honoured
     */
    public static ServerTls build(ServerConfig server) throws ConfigException {
        ListenSpec sslListen = sslListen(server);
        String starttls = starttls(server);
        if (sslListen == null && "off".equals(starttls)) {
            return null;
        }
        List<String> certs = server.get("ssl_certificate");
        List<String> keys = server.get("ssl_certificate_key");
        if (certs.isEmpty()) {
            String mode = sslListen != null ? "listen ... ssl" : "starttls";
            ValueOrigin at = sslListen != null ? new ValueOrigin(ValueOrigin.Source.SERVER, sslListen.file(), sslListen.line())
                    : server.origin("starttls");
            throw error("no \"ssl_certificate\" is defined for the \"" + mode + "\" directive", at, server);
        }
        if (keys.size() < certs.size()) {
            throw error("no \"ssl_certificate_key\" is defined for certificate \"" + certs.get(keys.size()) + "\"",
                    server.origin("ssl_certificate"), server);
        }
        refuseUnsupported(server);
        try {
            List<String> passwords = List.of();
            String passwordFile = server.get("ssl_password_file");
            if (passwordFile != null) {
                passwords = PemFiles.passwords(path(server, "ssl_password_file", passwordFile));
            }
            KeyStore store = newStore();
            for (int i = 0; i < certs.size(); i++) {
                addPair(store, "cert" + i, certs.get(i), keys.get(i), passwords, server.origin("ssl_certificate"),
                        server.origin("ssl_certificate_key"), server);
            }
            X509ExtendedKeyManager keyManager = keyManager(store);
            List<SniCertificate> sni = server.get("ssl_certificate_sni");
            if (!sni.isEmpty()) {
                keyManager = new SniKeyManager(keyManager, sniKeyManagers(sni, passwords, server));
            }

            String verifyMode = server.get("ssl_verify_client");
            ClientCertVerifier verifier = verifier(server, verifyMode);

            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new javax.net.ssl.KeyManager[] {keyManager}, new javax.net.ssl.TrustManager[] {verifier.trustManager()},
                    new SecureRandom());
            sessionCache(server, context.getServerSessionContext());

            Set<String> supportedSuites = Set.of(context.getSupportedSSLParameters().getCipherSuites());
            String[] protocols = protocols(server, context);
            List<String> suites = new ArrayList<>();
            boolean tls12 = false;
            for (String p : protocols) {
                tls12 |= !p.equals("TLSv1.3");
            }
            if (tls12) {
                try {
                    suites.addAll(OpenSslCiphers.select(server.get("ssl_ciphers"), supportedSuites));
                } catch (OpenSslCiphers.InvalidCipherString e) {
                    throw error("ssl_ciphers: " + e.getMessage(), server.origin("ssl_ciphers"), server);
                }
                if (suites.isEmpty()) {
                    throw error("SSL_CTX_set_cipher_list(\"" + server.get("ssl_ciphers")
                            + "\") failed (no cipher match)", server.origin("ssl_ciphers"), server);
                }
            }
            if (List.of(protocols).contains("TLSv1.3")) {
                for (String s : OpenSslCiphers.TLS13) {
                    if (supportedSuites.contains(s)) {
                        suites.add(s);
                    }
                }
            }
            return new ServerTls(context, protocols, suites.toArray(new String[0]),
                    server.flag("ssl_prefer_server_ciphers"), verifier, server.protocol(), namedGroups(server));
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigException("cannot set up TLS: " + e.getMessage(), server.file(), server.line());
        }
    }

    /**
     * {@code ssl_certificate_sni}: one key manager per name, holding that name's pairs (several
     * for RSA and ECDSA); errors name the line of the directive that failed.
     */
    private static Map<String, X509ExtendedKeyManager> sniKeyManagers(List<SniCertificate> entries,
                                                                      List<String> passwords, ServerConfig server)
            throws ConfigException, GeneralSecurityException, IOException {
        Map<String, KeyStore> stores = new LinkedHashMap<>();
        int n = 0;
        for (SniCertificate entry : entries) {
            KeyStore store = stores.get(entry.name());
            if (store == null) {
                store = newStore();
                stores.put(entry.name(), store);
            }
            ValueOrigin at = new ValueOrigin(ValueOrigin.Source.SERVER, entry.file(), entry.line());
            addPair(store, "sni" + n++, entry.certificate(), entry.key(), passwords, at, at, server);
        }
        Map<String, X509ExtendedKeyManager> out = new LinkedHashMap<>();
        for (Map.Entry<String, KeyStore> e : stores.entrySet()) {
            out.put(e.getKey(), keyManager(e.getValue()));
        }
        return out;
    }

    private static KeyStore newStore() throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        return store;
    }

    /** JSSE's PKIX key manager over a store: it picks a certificate by key type, validity and extensions. */
    private static X509ExtendedKeyManager keyManager(KeyStore store) throws GeneralSecurityException {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(store, STORE_PASSWORD);
        for (javax.net.ssl.KeyManager km : kmf.getKeyManagers()) {
            if (km instanceof X509ExtendedKeyManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X509ExtendedKeyManager from KeyManagerFactory PKIX");
    }

    /** Loads a certificate chain and its key into the store; errors at {@code certAt} / {@code keyAt}. */
    private static void addPair(KeyStore store, String alias, String cert, String key, List<String> passwords,
                                ValueOrigin certAt, ValueOrigin keyAt, ServerConfig server)
            throws ConfigException, GeneralSecurityException {
        List<X509Certificate> chain;
        PrivateKey privateKey;
        try {
            chain = PemFiles.certificates(path(certAt, cert));
        } catch (IOException e) {
            throw error(e.getMessage(), certAt, server);
        }
        try {
            privateKey = PemFiles.privateKey(path(keyAt, key), passwords);
        } catch (IOException e) {
            throw error(e.getMessage(), keyAt, server);
        }
        if (!matches(chain.get(0), privateKey)) {
            throw error("certificate \"" + cert + "\" and key \"" + key + "\" do not match (key values mismatch)",
                    keyAt, server);
        }
        store.setKeyEntry(alias, privateKey, STORE_PASSWORD, chain.toArray(new X509Certificate[0]));
    }

    private static ClientCertVerifier verifier(ServerConfig server, String mode) throws ConfigException, IOException {
        if (mode.equals("off")) {
            return ClientCertVerifier.off();
        }
        String clientCa = server.get("ssl_client_certificate");
        String trusted = server.get("ssl_trusted_certificate");
        if (!mode.equals("optional_no_ca") && clientCa == null && trusted == null) {
            throw error("no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client",
                    server.origin("ssl_verify_client"), server);
        }
        List<X509Certificate> advertised = new ArrayList<>();
        List<X509Certificate> all = new ArrayList<>();
        try {
            if (clientCa != null) {
                advertised.addAll(PemFiles.certificates(path(server, "ssl_client_certificate", clientCa)));
                all.addAll(advertised);
            }
        } catch (IOException e) {
            throw error(e.getMessage(), server.origin("ssl_client_certificate"), server);
        }
        try {
            if (trusted != null) {
                all.addAll(PemFiles.certificates(path(server, "ssl_trusted_certificate", trusted)));
            }
        } catch (IOException e) {
            throw error(e.getMessage(), server.origin("ssl_trusted_certificate"), server);
        }
        List<X509CRL> crls = List.of();
        String crl = server.get("ssl_crl");
        if (crl != null) {
            try {
                crls = PemFiles.crls(path(server, "ssl_crl", crl));
            } catch (IOException e) {
                throw error(e.getMessage(), server.origin("ssl_crl"), server);
            }
        }
        return new ClientCertVerifier(ClientCertVerifier.Mode.of(mode), server.number("ssl_verify_depth"), all,
                advertised, crls);
    }

    private static void refuseUnsupported(ServerConfig server) throws ConfigException {
        if (server.get("ssl_dhparam") != null) {
            throw error("\"ssl_dhparam\" cannot be honoured: JSSE negotiates the RFC 7919 FFDHE groups and takes no"
                    + " DH parameters; remove the directive", server.origin("ssl_dhparam"), server);
        }
        List<?> commands = server.get("ssl_conf_command");
        if (!commands.isEmpty()) {
            throw error("\"ssl_conf_command\" cannot be honoured: it passes commands to OpenSSL, and this proxy"
                    + " uses Java's JSSE", server.origin("ssl_conf_command"), server);
        }
        List<?> ticketKeys = server.get("ssl_session_ticket_key");
        if (!ticketKeys.isEmpty()) {
            throw error("\"ssl_session_ticket_key\" cannot be honoured: JSSE makes its own session ticket keys",
                    server.origin("ssl_session_ticket_key"), server);
        }
        if (server.flag("ssl_certificate_compression")) {
            throw error("\"ssl_certificate_compression on\" cannot be honoured: JSSE does not compress certificates",
                    server.origin("ssl_certificate_compression"), server);
        }
        boolean jvmTickets = !"false".equalsIgnoreCase(
                System.getProperty("jdk.tls.server.enableSessionTicketExtension", "true"));
        if (server.flag("ssl_session_tickets") != jvmTickets) {
            throw error("\"ssl_session_tickets " + (jvmTickets ? "off" : "on") + "\" cannot be honoured per server:"
                    + " JSSE switches session tickets for the whole JVM with the system property"
                    + " jdk.tls.server.enableSessionTicketExtension (now " + jvmTickets + ")",
                    server.origin("ssl_session_tickets"), server);
        }
    }

    private static String[] protocols(ServerConfig server, SSLContext context) throws ConfigException {
        List<String> wanted = server.get("ssl_protocols");
        Set<String> supported = Set.of(context.getSupportedSSLParameters().getProtocols());
        String disabled = Objects2.nonNull(Security.getProperty("jdk.tls.disabledAlgorithms"));
        Set<String> disabledSet = new HashSet<>();
        for (String d : disabled.split(",")) {
            disabledSet.add(d.trim());
        }
        List<String> out = new ArrayList<>();
        for (String p : wanted) {
            if (!supported.contains(p)) {
                throw error("ssl_protocols: \"" + p + "\" is not implemented by this Java runtime",
                        server.origin("ssl_protocols"), server);
            }
            if (disabledSet.contains(p)) {
                throw error("ssl_protocols: \"" + p + "\" is disabled by this Java runtime"
                        + " (security property jdk.tls.disabledAlgorithms)", server.origin("ssl_protocols"), server);
            }
            out.add(p);
        }
        return out.toArray(new String[0]);
    }

    private static void sessionCache(ServerConfig server, SSLSessionContext sessions) throws ConfigException {
        Duration timeout = server.time("ssl_session_timeout");
        sessions.setSessionTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toSeconds())));
        List<String> words = server.get("ssl_session_cache");
        int size = 0; // 0: JSSE's own default limit stays
        for (String w : words) {
            if (w.equals("off") || w.equals("none")) {
                size = 1;
            } else if (w.equals("builtin")) {
                size = 20480; // OpenSSL's SSL_SESSION_CACHE_MAX_SIZE_DEFAULT, as nginx's builtin
            } else if (w.startsWith("builtin:")) {
                size = parseCount(w.substring(8), server);
            } else if (w.startsWith("shared:")) {
                String[] parts = w.split(":");
                if (parts.length != 3) {
                    throw error("invalid session cache \"" + w + "\"", server.origin("ssl_session_cache"), server);
                }
                long bytes;
                try {
                    bytes = org.mailproxy.core.config.Values.parseSize(parts[2]);
                } catch (RuntimeException e) {
                    throw error("invalid zone size \"" + parts[2] + "\"", server.origin("ssl_session_cache"), server);
                }
                size = Math.max(size, (int) Math.min(Integer.MAX_VALUE, bytes * 4000 / (1024 * 1024)));
            } else {
                throw error("invalid session cache \"" + w + "\"", server.origin("ssl_session_cache"), server);
            }
        }
        if (size > 0) {
            sessions.setSessionCacheSize(size);
        }
    }

    private static int parseCount(String text, ServerConfig server) throws ConfigException {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw error("invalid session cache size \"" + text + "\"", server.origin("ssl_session_cache"), server);
        }
    }

    /** {@code ssl_ecdh_curve}: null for {@code auto}; else the JSSE group names, which only Java 20+ can set. */
    private static String[] namedGroups(ServerConfig server) throws ConfigException {
        String curve = server.get("ssl_ecdh_curve");
        if (curve.equals("auto")) {
            return null;
        }
        Map<String, String> names = Map.of("prime256v1", "secp256r1", "secp256r1", "secp256r1",
                "secp384r1", "secp384r1", "secp521r1", "secp521r1", "x25519", "x25519", "x448", "x448");
        List<String> groups = new ArrayList<>();
        for (String c : curve.split(":")) {
            String g = names.get(c.toLowerCase(Locale.ROOT));
            if (g == null) {
                throw error("ssl_ecdh_curve: unknown or unsupported curve \"" + c + "\"", server.origin("ssl_ecdh_curve"),
                        server);
            }
            groups.add(g);
        }
        if (setNamedGroups() == null) {
            throw error("\"ssl_ecdh_curve " + curve + "\" cannot be honoured on Java " + Runtime.version().feature()
                    + ": named groups per server need Java 20 or later; use \"auto\"", server.origin("ssl_ecdh_curve"),
                    server);
        }
        return groups.toArray(new String[0]);
    }

    /** {@code SSLParameters.setNamedGroups(String[])} when this Java has it (20+), else null. */
    static Method setNamedGroups() {
        try {
            return javax.net.ssl.SSLParameters.class.getMethod("setNamedGroups", String[].class);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static boolean matches(X509Certificate cert, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            case "DSA" -> "SHA256withDSA";
            default -> null;
        };
        if (algorithm == null) {
            return true; // no way to check it here; JSSE will fail the handshake
        }
        try {
            byte[] probe = "mailproxy key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            return verify.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** A path as written, relative ones resolved against the directory of the file that set it. */
    private static Path path(ServerConfig server, String directive, String value) {
        return path(server.origin(directive), value);
    }

    private static Path path(ValueOrigin origin, String value) {
        Path p = Path.of(value);
        if (p.isAbsolute()) {
            return p;
        }
        if (origin != null && origin.file() != null) {
            Path parent = Path.of(origin.file()).toAbsolutePath().getParent();
            if (parent != null && java.nio.file.Files.isDirectory(parent)) {
                return parent.resolve(p);
            }
        }
        return p.toAbsolutePath();
    }

    private static ListenSpec sslListen(ServerConfig server) {
        for (ListenSpec l : server.listens()) {
            if (l.ssl()) {
                return l;
            }
        }
        return null;
    }

    private static String starttls(ServerConfig server) {
        return server.directiveNames().contains("starttls") ? server.get("starttls") : "off";
    }

    private static ConfigException error(String message, ValueOrigin at, ServerConfig server) {
        if (at != null && at.file() != null) {
            return new ConfigException(message, at.file(), at.line());
        }
        return new ConfigException(message, server.file(), server.line());
    }

    /** Null-safe helpers without pulling in more. */
    private static final class Objects2 {
        static String nonNull(String s) {
            return s == null ? "" : s;
        }
    }
}
