package org.mailproxy.core.sasl;

import java.security.SecureRandom;

/**
 * The APOP / CRAM-MD5 challenge {@code <random.time@server_name>} followed by CRLF
 * ({@code ngx_mail_salt}). nginx takes {@code random()}; here the number comes from a
 * {@link SecureRandom}, since the salt is what keeps an APOP digest from being replayed.
 */
public final class Salt {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Salt() {
    }

    /** A new salt for a session of a server with this {@code server_name}, CRLF included. */
    public static String create(String serverName) {
        long random = RANDOM.nextLong() & Long.MAX_VALUE;
        long seconds = System.currentTimeMillis() / 1000;
        return "<" + random + "." + seconds + "@" + serverName + ">\r\n";
    }
}
