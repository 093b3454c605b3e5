package org.mailproxy.core.sasl;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * The SASL mechanisms a mail proxy decodes itself before asking the auth server, with nginx's
 * rules and log words ({@code ngx_mail_auth_plain}, {@code _login_username}, {@code _login_password},
 * {@code _cram_md5_salt}, {@code _cram_md5}, {@code _external} in {@code ngx_mail_handler.c};
 * {@code _xoauth2} and {@code _oauthbearer} from freenginx/Angie).
 *
 * <p>Nothing here knows a protocol: POP3's AUTH, IMAP's AUTHENTICATE and SMTP's AUTH carry the
 * same payloads, only the continuation prefix differs ({@code "+ "} for POP3 and IMAP,
 * {@code "334 "} for SMTP). Shared by the protocol bundles through this exported package.
 *
 * <p>Decoded bytes become Strings one char per byte (ISO-8859-1), as the SPI's {@code AuthRequest}
 * wants them: the auth server and the backend get the client's bytes, whatever they are (package
 * version 2.0.0; they were UTF-8 before). Each decoder throws a {@link SaslException} whose
 * message is nginx's info-level log line ("client sent invalid ... in AUTH ... command"); the
 * protocol answers it as an invalid command.
 */
public final class Sasl {

    /** What nginx sends as the LOGIN and EXTERNAL user-name prompt: base64 of {@code "Username:"}. */
    public static final String USERNAME_PROMPT = "VXNlcm5hbWU6";

    /** The LOGIN password prompt: base64 of {@code "Password:"}. */
    public static final String PASSWORD_PROMPT = "UGFzc3dvcmQ6";

    /** The client's answer to an Auth-Error-SASL challenge that ends an OAUTHBEARER exchange (RFC 7628: %x01). */
    public static final String OAUTHBEARER_DUMMY_RESPONSE = "AQ==";

    private static final byte[] DECODE = new byte[256];

    static {
        Arrays.fill(DECODE, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.length(); i++) {
            DECODE[alphabet.charAt(i)] = (byte) i;
        }
    }

    private Sasl() {
    }

    /** User name and password (or digest, or token) taken from a client's SASL exchange. */
    public record Credentials(String user, String password) {
        @Override
        public String toString() {
            return "Credentials[user=" + user + "]";
        }
    }

    // ------------------------------------------------------------------ mechanisms

    /**
     * PLAIN (RFC 4616): {@code [authzid] NUL authcid NUL passwd}. The authorization identity is
     * ignored; the password is everything after the second NUL.
     */
    public static Credentials plain(byte[] encoded) throws SaslException {
        byte[] plain = decode(encoded, "AUTH PLAIN");
        int p = 0;
        int last = plain.length;
        while (p < last && plain[p++] != 0) {
            // skip the authorization identity and its NUL
        }
        if (p == last) {
            throw new SaslException("client sent invalid login in AUTH PLAIN command");
        }
        int login = p;
        while (p < last && plain[p] != 0) {
            p++;
        }
        if (p == last) {
            throw new SaslException("client sent invalid password in AUTH PLAIN command");
        }
        return new Credentials(text(plain, login, p), text(plain, p + 1, last));
    }

    /** LOGIN, first step: the base64 user name. */
    public static String loginUsername(byte[] encoded) throws SaslException {
        return text(decode(encoded, "AUTH LOGIN"));
    }

    /** LOGIN, second step: the base64 password. */
    public static String loginPassword(byte[] encoded) throws SaslException {
        return text(decode(encoded, "AUTH LOGIN"));
    }

    /**
     * The CRAM-MD5 challenge for a salt as {@code <random.time@server_name>} followed by CRLF
     * (the CRLF is not part of the challenge).
     */
    public static String cramMd5Challenge(String salt) {
        String bare = salt.endsWith("\r\n") ? salt.substring(0, salt.length() - 2) : salt;
        return Base64.getEncoder().encodeToString(bare.getBytes(StandardCharsets.UTF_8));
    }

    /** CRAM-MD5 response: {@code user SP hex-digest}; the digest must be 32 characters. */
    public static Credentials cramMd5(byte[] encoded) throws SaslException {
        byte[] response = decode(encoded, "AUTH CRAM-MD5");
        for (int i = 0; i < response.length; i++) {
            if (response[i] == ' ') {
                if (response.length - i - 1 == 32) {
                    return new Credentials(text(response, 0, i), text(response, i + 1, response.length));
                }
                break;
            }
        }
        throw new SaslException("client sent invalid CRAM-MD5 hash in AUTH CRAM-MD5 command");
    }

    /** EXTERNAL: the base64 authorization identity is the login; there is no password. */
    public static Credentials external(byte[] encoded) throws SaslException {
        return new Credentials(text(decode(encoded, "AUTH EXTERNAL")), "");
    }

    /**
     * XOAUTH2 (Google): {@code "user=" user ^A "auth=Bearer " token ^A ^A}; keywords compared
     * without case.
     */
    public static Credentials xoauth2(byte[] encoded) throws SaslException {
        byte[] oauth = decode(encoded, "AUTH XOAUTH2");
        int separator = indexOf(oauth, (byte) 1, 0);
        if (separator < 0 || !startsWithIgnoreCase(oauth, 0, separator, "user=")) {
            throw new SaslException("client sent invalid login in AUTH XOAUTH2 command");
        }
        int token = separator + 1;
        int end = oauth.length;
        if (!startsWithIgnoreCase(oauth, token, end, "auth=Bearer ")) {
            throw new SaslException("client sent invalid token in AUTH XOAUTH2 command");
        }
        token += "auth=Bearer ".length();
        if (end - token < 2 || oauth[end - 2] != 1 || oauth[end - 1] != 1) {
            throw new SaslException("client sent invalid token in AUTH XOAUTH2 command");
        }
        return new Credentials(text(oauth, "user=".length(), separator), text(oauth, token, end - 2));
    }

    /**
     * OAUTHBEARER (RFC 7628): a GS2 header {@code n,a=user,} then ^A-separated key=value pairs,
     * of which {@code auth=Bearer token}; {@code =2C} and {@code =3D} in the user name stand for
     * {@code ,} and {@code =}.
     */
    public static Credentials oauthbearer(byte[] encoded) throws SaslException {
        byte[] oauth = decode(encoded, "AUTH OAUTHBEARER");
        int p = 0;
        int last = oauth.length;
        int loginStart = -1;
        int loginEnd = -1;
        int prev = -1;
        while (p < last) {
            if (oauth[p] == ',') {
                if (prev >= 0 && p - prev > 2 && startsWithIgnoreCase(oauth, prev, p, "a=")) {
                    loginStart = prev + 2;
                    loginEnd = p;
                    break;
                }
                p++;
                prev = p;
                continue;
            }
            if (oauth[p] == 1) {
                break;
            }
            p++;
        }
        if (loginStart < 0) {
            throw new SaslException("client sent invalid login in AUTH OAUTHBEARER command");
        }
        int tokenStart = -1;
        int tokenEnd = -1;
        prev = -1;
        while (p < last) {
            if (oauth[p] == 1) {
                if (prev >= 0 && p - prev > "auth=Bearer ".length()
                        && startsWithIgnoreCase(oauth, prev, p, "auth=Bearer ")) {
                    tokenStart = prev + "auth=Bearer ".length();
                    tokenEnd = p;
                    break;
                }
                p++;
                prev = p;
                continue;
            }
            p++;
        }
        if (tokenStart < 0) {
            throw new SaslException("client sent invalid token in AUTH OAUTHBEARER command");
        }
        return new Credentials(unescapeSaslName(oauth, loginStart, loginEnd), text(oauth, tokenStart, tokenEnd));
    }

    private static String unescapeSaslName(byte[] b, int from, int to) throws SaslException {
        byte[] out = new byte[to - from];
        int n = 0;
        int p = from;
        while (p < to) {
            if (b[p] == '=') {
                // the login is always followed by the ',' that ended it, as in nginx
                byte c1 = p + 1 < b.length ? b[p + 1] : 0;
                byte c2 = p + 2 < b.length ? b[p + 2] : 0;
                if (c1 == '2' && (c2 == 'C' || c2 == 'c')) {
                    out[n++] = ',';
                } else if (c1 == '3' && (c2 == 'D' || c2 == 'd')) {
                    out[n++] = '=';
                } else {
                    throw new SaslException("client sent invalid login in AUTH OAUTHBEARER command");
                }
                p += 3;
                continue;
            }
            out[n++] = b[p++];
        }
        return text(out, 0, n);
    }

    // ------------------------------------------------------------------ base64, as ngx_decode_base64

    /**
     * Decodes base64 as nginx does: the standard alphabet up to the first {@code '='} (padding and
     * anything after it is ignored, missing padding is accepted), and a length of 4n+1 characters
     * is an error.
     *
     * @return the bytes, or null when the text is not base64
     */
    public static byte[] decodeBase64(byte[] text) {
        int len = 0;
        while (len < text.length && text[len] != '=') {
            if (DECODE[text[len] & 0xff] < 0) {
                return null;
            }
            len++;
        }
        if (len % 4 == 1) {
            return null;
        }
        byte[] out = new byte[len / 4 * 3 + Math.max(0, len % 4 - 1)];
        int o = 0;
        int i = 0;
        while (len - i > 3) {
            int v = DECODE[text[i]] << 18 | DECODE[text[i + 1]] << 12 | DECODE[text[i + 2]] << 6 | DECODE[text[i + 3]];
            out[o++] = (byte) (v >> 16);
            out[o++] = (byte) (v >> 8);
            out[o++] = (byte) v;
            i += 4;
        }
        if (len - i > 1) {
            out[o++] = (byte) (DECODE[text[i]] << 2 | DECODE[text[i + 1]] >> 4);
        }
        if (len - i > 2) {
            out[o++] = (byte) (DECODE[text[i + 1]] << 4 | DECODE[text[i + 2]] >> 2);
        }
        return out;
    }

    private static byte[] decode(byte[] encoded, String command) throws SaslException {
        byte[] decoded = decodeBase64(encoded);
        if (decoded == null) {
            throw new SaslException("client sent invalid base64 encoding in " + command + " command");
        }
        return decoded;
    }

    // ------------------------------------------------------------------ bytes

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static int indexOf(byte[] b, byte value, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /** Whether {@code b[from, to)} starts with the ASCII {@code prefix}, letters compared without case. */
    private static boolean startsWithIgnoreCase(byte[] b, int from, int to, String prefix) {
        if (to - from < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            int c = b[from + i];
            int e = prefix.charAt(i);
            if (c != e && lower(c) != lower(e)) {
                return false;
            }
        }
        return true;
    }

    private static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }
}
