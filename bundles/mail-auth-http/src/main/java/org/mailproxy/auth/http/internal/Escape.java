package org.mailproxy.auth.http.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The escaping nginx applies to values it puts into the auth_http request.
 *
 * <p>{@link #mailAuth} is {@code ngx_escape_uri(..., NGX_ESCAPE_MAIL_AUTH)}: the bytes 0x00-0x1F,
 * space and {@code %} become {@code %XX} (upper-case hex); everything else, DEL and bytes from 0x80
 * included, is kept. nginx uses it for Auth-User, Auth-Pass and Auth-SSL-Cert. After it no CR or LF
 * is left, so a login cannot end its header line.
 *
 * <p>{@link #lineSafe} is not in nginx: it escapes only NUL, CR and LF the same way, for the values
 * nginx copies as they are because its parsers cannot produce those bytes there (the SMTP envelope,
 * the resolved host name, TLS names). Values that nginx would send are unchanged by it; it only
 * guarantees that no value can start a new header line, whatever a protocol bundle hands over.
 */
final class Escape {

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private Escape() {
    }

    /** {@code ngx_escape_uri} with the {@code mail_auth} table. */
    static byte[] mailAuth(byte[] in) {
        return escape(in, false);
    }

    /** NUL, CR and LF as {@code %00}, {@code %0D}, {@code %0A}; nothing else changes. */
    static byte[] lineSafe(byte[] in) {
        return escape(in, true);
    }

    /**
     * A client- or server-supplied text for a log line: control characters (below 0x20, and DEL)
     * as {@code %XX}, so that the text cannot break or forge a log line.
     */
    static String forLog(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (out == null) {
                    out = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                out.append('%').append((char) HEX[c >> 4]).append((char) HEX[c & 0xf]);
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    private static boolean escaped(int b, boolean lineOnly) {
        if (lineOnly) {
            return b == 0 || b == '\r' || b == '\n';
        }
        return b < 0x20 || b == ' ' || b == '%';
    }

    private static byte[] escape(byte[] in, boolean lineOnly) {
        int n = 0;
        for (byte b : in) {
            if (escaped(b & 0xff, lineOnly)) {
                n++;
            }
        }
        if (n == 0) {
            return in;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 2 * n);
        for (byte b : in) {
            int c = b & 0xff;
            if (escaped(c, lineOnly)) {
                out.write('%');
                out.write(HEX[c >> 4]);
                out.write(HEX[c & 0xf]);
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }
}
