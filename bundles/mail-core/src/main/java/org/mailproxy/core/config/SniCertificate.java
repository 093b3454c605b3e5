package org.mailproxy.core.config;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The value of one {@code ssl_certificate_sni NAME CERTIFICATE KEY;} (this project's own
 * directive, not nginx's): a certificate and key served to TLS clients that ask for {@code NAME}
 * through SNI (RFC 6066 {@code server_name}).
 *
 * <p>{@code NAME} is an exact host name ({@code mail.example.com}) or a wildcard whose first label
 * is {@code *} ({@code *.example.com}); both are compared without case. As with nginx's
 * {@code server_name}, a wildcard matches any name that ends with its suffix
 * ({@code imap.example.com}, {@code a.b.example.com}), not the suffix itself
 * ({@code example.com}); an exact name beats a wildcard and the longest wildcard wins. IP addresses
 * are refused: SNI carries host names only.
 *
 * <p>Two values are equal when they say the same thing, wherever they were written (a moved line
 * is no change of the server); {@link #file()} and {@link #line()} are for error messages.
 */
public final class SniCertificate {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern IPV4 = Pattern.compile("[0-9.]+");

    private final String name;
    private final String certificate;
    private final String key;
    private final String file;
    private final int line;

    public SniCertificate(String name, String certificate, String key, String file, int line) {
        this.name = Objects.requireNonNull(name, "name");
        this.certificate = Objects.requireNonNull(certificate, "certificate");
        this.key = Objects.requireNonNull(key, "key");
        this.file = file;
        this.line = line;
    }

    /** The name in lower case: {@code mail.example.com} or {@code *.example.com}. */
    public String name() {
        return name;
    }

    /** Whether the name is a wildcard ({@code *.example.com}). */
    public boolean wildcard() {
        return name.startsWith("*.");
    }

    /** The certificate (chain) file as written. */
    public String certificate() {
        return certificate;
    }

    /** The key file as written. */
    public String key() {
        return key;
    }

    /** The file of the directive, or null. */
    public String file() {
        return file;
    }

    /** The line of the directive, 0 when unknown. */
    public int line() {
        return line;
    }

    /** Parses {@code ssl_certificate_sni NAME CERTIFICATE KEY}. */
    static SniCertificate parse(Directive d) throws ConfigException {
        String name = normalize(d.arg(0));
        if (name == null) {
            throw d.error("invalid server name \"" + d.arg(0) + "\" in \"ssl_certificate_sni\" directive: a host name"
                    + " (mail.example.com) or a wildcard of one leading label (*.example.com) is expected");
        }
        return new SniCertificate(name, d.arg(1), d.arg(2), d.file(), d.line());
    }

    /** The name in lower case when it is a valid host name or {@code *.}host name, else null. */
    static String normalize(String written) {
        String name = written.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1); // an absolute name: the same name
        }
        String host = name.startsWith("*.") ? name.substring(2) : name;
        if (host.isEmpty() || host.length() > 253 || IPV4.matcher(host).matches()) {
            return null;
        }
        for (String label : host.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return null;
            }
        }
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SniCertificate s && name.equals(s.name) && certificate.equals(s.certificate)
                && key.equals(s.key);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, certificate, key);
    }

    /** As written after the directive name: {@code mail.example.com cert.pem cert.key}. */
    @Override
    public String toString() {
        return name + " " + certificate + " " + key;
    }
}
