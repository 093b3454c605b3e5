package org.mailproxy.core.spi;

import java.util.Locale;

/**
 * How the proxy talks to the backend (this project's own, beyond nginx, whose mail proxy always
 * speaks plaintext to the backend): the server's {@code proxy_ssl off|on|starttls}, and the auth
 * server's per-login override {@code Auth-SSL-Backend: off|on|starttls}.
 */
public enum BackendTlsMode {
    /** Plaintext, as nginx. */
    OFF,
    /** Implicit TLS: the handshake starts right after connect (imaps, pop3s, smtps). */
    ON,
    /** Plaintext first, then STARTTLS (IMAP, SMTP) or STLS (POP3) before the login. */
    STARTTLS;

    /** The word of the directive and the header: {@code off}, {@code on}, {@code starttls}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The mode a word names ({@code off}, {@code on}, {@code starttls}; case-insensitive), or
     * null when it names none.
     */
    public static BackendTlsMode parse(String word) {
        if (word == null) {
            return null;
        }
        for (BackendTlsMode mode : values()) {
            if (mode.word().equalsIgnoreCase(word.trim())) {
                return mode;
            }
        }
        return null;
    }
}
