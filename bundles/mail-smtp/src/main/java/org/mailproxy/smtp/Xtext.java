package org.mailproxy.smtp;

import java.nio.charset.StandardCharsets;

/**
 * xtext (RFC 3461 section 4): the encoding of XCLIENT attribute values. Every byte outside
 * {@code !}..{@code ~}, and {@code +} and {@code =}, becomes {@code +XX} (upper-case hex), so a
 * value can hold no space, CR or LF and cannot add attributes or commands (nginx 1.29.2 encodes
 * XCLIENT LOGIN this way; before, a login with a space injected XCLIENT attributes).
 */
final class Xtext {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Xtext() {
    }

    /** The xtext of {@code value}, a login as the client sent it: its bytes one char per byte (ISO-8859-1). */
    static String encode(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        StringBuilder out = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= '!' && c <= '~' && c != '+' && c != '=') {
                out.append((char) c);
            } else {
                out.append('+').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return out.toString();
    }
}
