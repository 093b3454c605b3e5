package org.mailproxy.core.tls;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code ssl_ciphers}: an OpenSSL cipher string mapped to JSSE cipher suite names.
 *
 * <p><b>The mapping, kept small and honest.</b> The table below holds the TLS 1.2 (and older)
 * suites the JDK implements, each with its OpenSSL name and the OpenSSL aliases it belongs to
 * (key exchange {@code kECDHE kEECDH ECDHE EECDH kDHE kEDH DHE EDH kRSA}
 * {@code RSA}, authentication {@code aRSA aECDSA ECDSA aDSS DSS}, cipher {@code AES AES128 AES256 AESGCM CHACHA20 3DES},
 * MAC {@code SHA1 SHA SHA256 SHA384 AEAD}, strength {@code HIGH MEDIUM}, and {@code ALL}
 * {@code DEFAULT}). A string is read as OpenSSL reads it: elements separated by {@code :} (or
 * space or comma), {@code a+b} is the intersection, {@code !x} removes for good, {@code -x}
 * removes, {@code +x} moves to the end, {@code @STRENGTH} and {@code @SECLEVEL=n} are accepted
 * and change nothing (the table is already in preference order). An element may also be an
 * OpenSSL suite name from the table or a JSSE name ({@code TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}).
 *
 * <p>Aliases that select nothing the JDK implements ({@code aNULL eNULL NULL MD5 RC4 DES EXP
 * EXPORT LOW PSK SRP CAMELLIA ARIA SEED IDEA kECDH kDH aECDH aDH}) are known and select nothing,
 * so {@code HIGH:!aNULL:!MD5} means what it means with OpenSSL. Anything else is refused: an
 * unknown word is a configuration error, not a silently empty selection.
 *
 * <p>TLS 1.3 suites are not chosen by {@code ssl_ciphers} (as with OpenSSL, where they need
 * {@code Ciphersuites}); all three JDK ones stay enabled when TLSv1.3 is.
 */
final class OpenSslCiphers {

    /** One suite: JSSE name, OpenSSL name, aliases. */
    record Suite(String jsse, String openssl, Set<String> aliases) {
    }

    /** TLS 1.3 suites; OpenSSL names equal the IANA names. */
    static final List<String> TLS13 = List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256");

    /** Aliases OpenSSL knows that match no suite the JDK implements. */
    private static final Set<String> EMPTY_ALIASES = Set.of("ANULL", "ENULL", "NULL", "MD5", "RC4", "DES", "EXP",
            "EXPORT", "LOW", "PSK", "SRP", "CAMELLIA", "CAMELLIA128", "CAMELLIA256", "ARIA", "SEED", "IDEA",
            "KECDH", "KDH", "AECDH", "ADH", "ECDH", "KPSK", "APSK", "SSLV3");

    static final List<Suite> TABLE = List.of(
            suite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE aECDSA AES256 AESGCM SHA384 AEAD HIGH"),
            suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE aRSA AES256 AESGCM SHA384 AEAD HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE aECDSA CHACHA20 SHA256 AEAD HIGH"),
            suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE aRSA CHACHA20 SHA256 AEAD HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE aECDSA AES128 AESGCM SHA256 AEAD HIGH"),
            suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE aRSA AES128 AESGCM SHA256 AEAD HIGH"),
            suite("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", "DHE aRSA AES256 AESGCM SHA384 AEAD HIGH"),
            suite("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", "DHE aRSA CHACHA20 SHA256 AEAD HIGH"),
            suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", "DHE aRSA AES128 AESGCM SHA256 AEAD HIGH"),
            suite("TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE-DSS-AES256-GCM-SHA384", "DHE aDSS AES256 AESGCM SHA384 AEAD HIGH"),
            suite("TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE-DSS-AES128-GCM-SHA256", "DHE aDSS AES128 AESGCM SHA256 AEAD HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDHE aECDSA AES256 SHA384 HIGH"),
            suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE aRSA AES256 SHA384 HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE aECDSA AES128 SHA256 HIGH"),
            suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE aRSA AES128 SHA256 HIGH"),
            suite("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", "DHE aRSA AES256 SHA256 HIGH"),
            suite("TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE-DSS-AES256-SHA256", "DHE aDSS AES256 SHA256 HIGH"),
            suite("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", "DHE aRSA AES128 SHA256 HIGH"),
            suite("TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256", "DHE aDSS AES128 SHA256 HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE aECDSA AES256 SHA1 HIGH"),
            suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", "ECDHE aRSA AES256 SHA1 HIGH"),
            suite("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", "DHE aRSA AES256 SHA1 HIGH"),
            suite("TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA", "DHE aDSS AES256 SHA1 HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE aECDSA AES128 SHA1 HIGH"),
            suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", "ECDHE aRSA AES128 SHA1 HIGH"),
            suite("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", "DHE aRSA AES128 SHA1 HIGH"),
            suite("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA", "DHE aDSS AES128 SHA1 HIGH"),
            suite("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", "kRSA aRSA AES256 AESGCM SHA384 AEAD HIGH"),
            suite("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", "kRSA aRSA AES128 AESGCM SHA256 AEAD HIGH"),
            suite("TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", "kRSA aRSA AES256 SHA256 HIGH"),
            suite("TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", "kRSA aRSA AES128 SHA256 HIGH"),
            suite("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", "kRSA aRSA AES256 SHA1 HIGH"),
            suite("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", "kRSA aRSA AES128 SHA1 HIGH"),
            suite("TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-ECDSA-DES-CBC3-SHA", "ECDHE aECDSA 3DES SHA1 MEDIUM"),
            suite("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", "ECDHE aRSA 3DES SHA1 MEDIUM"),
            suite("SSL_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", "kRSA aRSA 3DES SHA1 MEDIUM"));

    private static final Map<String, Suite> BY_NAME;

    static {
        Map<String, Suite> names = new java.util.HashMap<>();
        for (Suite s : TABLE) {
            names.put(s.openssl().toUpperCase(Locale.ROOT), s);
            names.put(s.jsse().toUpperCase(Locale.ROOT), s);
        }
        BY_NAME = Map.copyOf(names);
    }

    private static Suite suite(String jsse, String openssl, String aliases) {
        Set<String> set = new LinkedHashSet<>();
        for (String a : aliases.split(" ")) {
            set.add(a.toUpperCase(Locale.ROOT));
            switch (a) {
                case "ECDHE" -> set.addAll(List.of("KECDHE", "EECDH", "KEECDH"));
                case "DHE" -> set.addAll(List.of("KDHE", "EDH", "KEDH"));
                case "aECDSA" -> set.add("ECDSA");
                case "aDSS" -> set.add("DSS");
                case "SHA1" -> set.add("SHA");
                case "kRSA" -> set.add("RSA"); // OpenSSL: "RSA is an alias for kRSA"
                default -> { }
            }
        }
        set.add("ALL");
        set.add("DEFAULT");
        if (aliases.contains("AES")) {
            set.add("AES");
        }
        return new Suite(jsse, openssl, Set.copyOf(set));
    }

    private OpenSslCiphers() {
    }

    /** A bad cipher string: the message says which element. */
    static final class InvalidCipherString extends Exception {
        InvalidCipherString(String message) {
            super(message);
        }
    }

    /**
     * The JSSE names (TLS 1.2 and older) an OpenSSL cipher string selects, in order, limited to
     * those in {@code supported}.
     */
    static List<String> select(String cipherString, Set<String> supported) throws InvalidCipherString {
        List<Suite> selected = new ArrayList<>();
        Set<Suite> killed = new LinkedHashSet<>();
        for (String element : cipherString.split("[:, ]+")) {
            if (element.isEmpty()) {
                continue;
            }
            char op = element.charAt(0);
            String body = op == '!' || op == '-' || op == '+' ? element.substring(1) : element;
            if (body.startsWith("@")) {
                String upper = body.toUpperCase(Locale.ROOT);
                if (upper.equals("@STRENGTH") || upper.startsWith("@SECLEVEL=")) {
                    continue;
                }
                throw new InvalidCipherString("unknown cipher string command \"" + element + "\"");
            }
            List<Suite> matching = matching(body, element);
            switch (op) {
                case '!' -> {
                    killed.addAll(matching);
                    selected.removeAll(matching);
                }
                case '-' -> selected.removeAll(matching);
                case '+' -> {
                    List<Suite> moved = selected.stream().filter(matching::contains).toList();
                    selected.removeAll(moved);
                    selected.addAll(moved);
                }
                default -> {
                    for (Suite s : matching) {
                        if (!killed.contains(s) && !selected.contains(s)) {
                            selected.add(s);
                        }
                    }
                }
            }
        }
        return selected.stream().map(Suite::jsse).filter(supported::contains).toList();
    }

    /** The OpenSSL name of a JSSE suite, as nginx reports {@code Auth-SSL-Cipher}; the JSSE name when unknown. */
    static String opensslName(String jsse) {
        if (TLS13.contains(jsse)) {
            return jsse;
        }
        Suite s = BY_NAME.get(jsse.toUpperCase(Locale.ROOT));
        return s == null ? jsse : s.openssl();
    }

    private static List<Suite> matching(String body, String element) throws InvalidCipherString {
        List<Suite> result = null;
        for (String part : body.split("\\+")) {
            List<Suite> one = matchingOne(part, element);
            result = result == null ? one : result.stream().filter(one::contains).collect(Collectors.toList());
        }
        return result == null ? List.of() : result;
    }

    private static List<Suite> matchingOne(String word, String element) throws InvalidCipherString {
        String upper = word.toUpperCase(Locale.ROOT);
        Suite named = BY_NAME.get(upper);
        if (named != null) {
            return List.of(named);
        }
        if (TLS13.contains(upper)) {
            return List.of(); // always on with TLSv1.3, as OpenSSL keeps them out of the cipher list
        }
        List<Suite> byAlias = TABLE.stream().filter(s -> s.aliases().contains(upper)).toList();
        if (!byAlias.isEmpty() || EMPTY_ALIASES.contains(upper)) {
            return byAlias;
        }
        throw new InvalidCipherString("cipher \"" + word + "\" in \"" + element
                + "\" cannot be mapped to a Java (JSSE) cipher suite");
    }

    /** For tests: every name the table knows. */
    static Map<String, Suite> byName() {
        return BY_NAME;
    }
}
