package org.mailproxy.imap;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * The SASL pieces a mail protocol needs before login (nginx: {@code ngx_mail_auth_plain},
 * {@code _login_username}, {@code _login_password}, {@code _cram_md5}, {@code _cram_md5_salt},
 * {@code _external}, {@code ngx_mail_salt} in {@code ngx_mail_handler.c}, and Angie's
 * {@code _xoauth2} and {@code _oauthbearer}), protocol-neutral so that one copy can serve IMAP,
 * POP3 and SMTP. Each decoder takes the client's base64 argument and returns the credentials, or
 * throws {@link Invalid} with the text nginx logs at {@code info}.
 *
 * <p>Credentials are bytes: a login or password is sent on to the auth server and the backend as
 * the client wrote it.
 */
final class Sasl {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] BASE64_VALUE = new byte[256];

    static {
        Arrays.fill(BASE64_VALUE, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.length(); i++) {
            BASE64_VALUE[alphabet.charAt(i)] = (byte) i;
        }
    }

    private Sasl() {
    }

    /** What a decoder found: a login and, for the methods that carry one, a password or token. */
    record Credentials(byte[] login, byte[] password) {
    }

    /** The client's response cannot be used; the message is what nginx logs. */
    static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Base64 as nginx decodes it ({@code ngx_decode_base64}): the text up to the first {@code =}
     * must use the standard alphabet and must not leave a single character over; padding is
     * optional and whatever follows the first {@code =} is ignored.
     *
     * @return the bytes, or null when the text is not base64
     */
    static byte[] decodeBase64(byte[] text) {
        int length = 0;
        while (length < text.length && text[length] != '=') {
            if (BASE64_VALUE[text[length] & 0xff] < 0) {
                return null;
            }
            length++;
        }
        if (length % 4 == 1) {
            return null;
        }
        byte[] out = new byte[length / 4 * 3 + Math.max(0, length % 4 - 1)];
        int o = 0;
        int bits = 0;
        int held = 0;
        for (int i = 0; i < length; i++) {
            bits = bits << 6 | BASE64_VALUE[text[i] & 0xff];
            held += 6;
            if (held >= 8) {
                held -= 8;
                out[o++] = (byte) (bits >> held);
            }
        }
        return out;
    }

    static String encodeBase64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static byte[] decode(byte[] argument, String command) throws Invalid {
        byte[] decoded = decodeBase64(argument);
        if (decoded == null) {
            throw new Invalid("client sent invalid base64 encoding in " + command + " command");
        }
        return decoded;
    }

    /** AUTH PLAIN: {@code [authzid] NUL login NUL password}; the authzid is ignored, as nginx does. */
    static Credentials plain(byte[] argument) throws Invalid {
        byte[] plain = decode(argument, "AUTH PLAIN");
        int p = 0;
        while (p < plain.length && plain[p++] != 0) {
            // skip the authorization identity
        }
        if (p == plain.length) {
            throw new Invalid("client sent invalid login in AUTH PLAIN command");
        }
        int login = p;
        while (p < plain.length && plain[p] != 0) {
            p++;
        }
        if (p == plain.length) {
            throw new Invalid("client sent invalid password in AUTH PLAIN command");
        }
        return new Credentials(Arrays.copyOfRange(plain, login, p), Arrays.copyOfRange(plain, p + 1, plain.length));
    }

    /** AUTH LOGIN: the user name, or the password, each base64 on its own line. */
    static byte[] login(byte[] argument) throws Invalid {
        return decode(argument, "AUTH LOGIN");
    }

    /** AUTH CRAM-MD5 response: {@code login SP digest}, the digest 32 hex characters. */
    static Credentials cramMd5(byte[] argument) throws Invalid {
        byte[] response = decode(argument, "AUTH CRAM-MD5");
        int space = indexOf(response, (byte) ' ', 0);
        byte[] digest = space < 0 ? new byte[0] : Arrays.copyOfRange(response, space + 1, response.length);
        if (digest.length != 32) {
            throw new Invalid("client sent invalid CRAM-MD5 hash in AUTH CRAM-MD5 command");
        }
        return new Credentials(Arrays.copyOfRange(response, 0, space), digest);
    }

    /** AUTH EXTERNAL: the authorization identity (may be empty); the auth server decides from the certificate. */
    static byte[] external(byte[] argument) throws Invalid {
        return decode(argument, "AUTH EXTERNAL");
    }

    /**
     * AUTH XOAUTH2 (Google's format):
     * {@code user=<login> ^A auth=Bearer <token> ^A ^A}; the token goes to the auth server as the password.
     */
    static Credentials xoauth2(byte[] argument) throws Invalid {
        byte[] response = decode(argument, "AUTH XOAUTH2");
        byte[] login = null;
        byte[] token = null;
        int start = 0;
        while (start < response.length) {
            int end = indexOf(response, (byte) 1, start);
            if (end < 0) {
                throw new Invalid("client sent invalid XOAUTH2 response");
            }
            if (end == start) {
                break; // the empty pair that ends the list
            }
            byte[] pair = Arrays.copyOfRange(response, start, end);
            if (startsWith(pair, "user=")) {
                login = Arrays.copyOfRange(pair, 5, pair.length);
            } else if (startsWith(pair, "auth=")) {
                token = bearer(pair, "XOAUTH2");
            }
            start = end + 1;
        }
        if (login == null || token == null) {
            throw new Invalid("client sent invalid XOAUTH2 response");
        }
        return new Credentials(login, token);
    }

    /**
     * AUTH OAUTHBEARER (RFC 7628): {@code gs2-header ^A auth=Bearer <token> ^A [key=value ^A]... ^A}
     * where the GS2 header is {@code n,a=<login>,} (or {@code y,}/{@code p=...,}) and the login has
     * {@code ,} and {@code =} escaped as {@code =2C} and {@code =3D}.
     */
    static Credentials oauthbearer(byte[] argument) throws Invalid {
        byte[] response = decode(argument, "AUTH OAUTHBEARER");
        int comma = indexOf(response, (byte) ',', 0);
        if (comma < 1 || !(response[0] == 'n' || response[0] == 'y' || response[0] == 'p')) {
            throw new Invalid("client sent invalid OAUTHBEARER response");
        }
        int headerEnd = indexOf(response, (byte) ',', comma + 1);
        if (headerEnd < 0) {
            throw new Invalid("client sent invalid OAUTHBEARER response");
        }
        byte[] login = new byte[0];
        byte[] authzid = Arrays.copyOfRange(response, comma + 1, headerEnd);
        if (authzid.length > 0) {
            if (!startsWith(authzid, "a=")) {
                throw new Invalid("client sent invalid OAUTHBEARER response");
            }
            login = unescapeSaslName(Arrays.copyOfRange(authzid, 2, authzid.length));
        }
        int start = headerEnd + 1;
        if (start >= response.length || response[start] != 1) {
            throw new Invalid("client sent invalid OAUTHBEARER response");
        }
        start++;
        byte[] token = null;
        while (start < response.length) {
            int end = indexOf(response, (byte) 1, start);
            if (end < 0) {
                throw new Invalid("client sent invalid OAUTHBEARER response");
            }
            if (end == start) {
                break;
            }
            byte[] pair = Arrays.copyOfRange(response, start, end);
            if (startsWith(pair, "auth=")) {
                token = bearer(pair, "OAUTHBEARER");
            }
            start = end + 1;
        }
        if (token == null) {
            throw new Invalid("client sent invalid OAUTHBEARER response");
        }
        return new Credentials(login, token);
    }

    /**
     * The client's answer to an Auth-Error-SASL challenge (RFC 7628 3.2.3): an empty line or the
     * single byte 0x01 ({@code AQ==}) ends the exchange; anything else is an invalid command.
     */
    static boolean isErrorAcknowledgement(byte[] argument) {
        if (argument.length == 0) {
            return true;
        }
        byte[] decoded = decodeBase64(argument);
        return decoded != null && decoded.length == 1 && decoded[0] == 1;
    }

    /**
     * A CRAM-MD5 / APOP challenge as {@code ngx_mail_salt} makes it:
     * {@code <random.seconds@server_name>} followed by CRLF (the auth server gets it that way).
     */
    static String salt(String serverName) {
        return "<" + RANDOM.nextInt(Integer.MAX_VALUE) + "." + System.currentTimeMillis() / 1000 + "@"
                + serverName + ">\r\n";
    }

    /** The CRAM-MD5 challenge line: {@code prefix} and the salt without its CRLF, base64. */
    static String cramMd5Challenge(String prefix, String salt) {
        String bare = salt.endsWith("\r\n") ? salt.substring(0, salt.length() - 2) : salt;
        return prefix + encodeBase64(bare.getBytes(StandardCharsets.US_ASCII)) + "\r\n";
    }

    private static byte[] bearer(byte[] pair, String method) throws Invalid {
        byte[] value = Arrays.copyOfRange(pair, 5, pair.length);
        if (value.length <= 7 || !new String(value, 0, 7, StandardCharsets.US_ASCII).equalsIgnoreCase("Bearer ")) {
            throw new Invalid("client sent invalid " + method + " response");
        }
        return Arrays.copyOfRange(value, 7, value.length);
    }

    /** RFC 5801 saslname: {@code =2C} is a comma, {@code =3D} an equals sign, other {@code =} invalid. */
    private static byte[] unescapeSaslName(byte[] name) throws Invalid {
        byte[] out = new byte[name.length];
        int o = 0;
        for (int i = 0; i < name.length; i++) {
            if (name[i] == '=') {
                if (i + 2 < name.length && name[i + 1] == '2' && (name[i + 2] == 'C' || name[i + 2] == 'c')) {
                    out[o++] = ',';
                } else if (i + 2 < name.length && name[i + 1] == '3' && (name[i + 2] == 'D' || name[i + 2] == 'd')) {
                    out[o++] = '=';
                } else {
                    throw new Invalid("client sent invalid login in OAUTHBEARER response");
                }
                i += 2;
            } else {
                out[o++] = name[i];
            }
        }
        return Arrays.copyOf(out, o);
    }

    private static boolean startsWith(byte[] bytes, String prefix) {
        if (bytes.length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (bytes[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
