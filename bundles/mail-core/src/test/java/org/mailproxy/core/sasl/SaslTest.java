package org.mailproxy.core.sasl;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The SASL decoders on nginx's rules and with nginx's log words. */
class SaslTest {

    private static byte[] b64(String s) {
        return Base64.getEncoder().encode(s.getBytes(UTF_8));
    }

    private static String failure(Executable e) {
        return assertThrows(SaslException.class, e::run).getMessage();
    }

    @FunctionalInterface
    private interface Executable {
        void run() throws Exception;
    }

    /** Credentials stay the client's bytes, one char per byte: Latin-1 and invalid UTF-8 included. */
    @Test
    void credentialsAreTheClientsBytes() throws Exception {
        byte[] user = {'j', (byte) 0xc3, (byte) 0xb6, 'r', 'g', (byte) 0xff};
        byte[] pass = {'p', (byte) 0xe9, (byte) 0xff};
        byte[] plain = new byte[2 + user.length + pass.length];
        System.arraycopy(user, 0, plain, 1, user.length);
        System.arraycopy(pass, 0, plain, 2 + user.length, pass.length);
        Sasl.Credentials c = Sasl.plain(Base64.getEncoder().encode(plain));
        assertArrayEquals(user, c.user().getBytes(ISO_8859_1));
        assertArrayEquals(pass, c.password().getBytes(ISO_8859_1));
        assertArrayEquals(user, Sasl.loginUsername(Base64.getEncoder().encode(user)).getBytes(ISO_8859_1));
        assertArrayEquals(pass, Sasl.loginPassword(Base64.getEncoder().encode(pass)).getBytes(ISO_8859_1));
    }

    @Test
    void base64AsNginxDecodesIt() {
        assertArrayEquals("abc".getBytes(), Sasl.decodeBase64("YWJj".getBytes(ISO_8859_1)));
        assertArrayEquals("ab".getBytes(), Sasl.decodeBase64("YWI=".getBytes(ISO_8859_1)));
        assertArrayEquals("ab".getBytes(), Sasl.decodeBase64("YWI".getBytes(ISO_8859_1)), "padding optional");
        assertArrayEquals("a".getBytes(), Sasl.decodeBase64("YQ==garbage".getBytes(ISO_8859_1)), "stops at =");
        assertArrayEquals(new byte[0], Sasl.decodeBase64(new byte[0]));
        assertNull(Sasl.decodeBase64("Y".getBytes(ISO_8859_1)), "4n+1 characters");
        assertNull(Sasl.decodeBase64("YW*j".getBytes(ISO_8859_1)));
        assertNull(Sasl.decodeBase64("*".getBytes(ISO_8859_1)), "the SASL cancel is no base64");
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        assertArrayEquals(all, Sasl.decodeBase64(Base64.getEncoder().encode(all)));
    }

    @Test
    void plain() throws Exception {
        assertEquals(new Sasl.Credentials("alice", "pw"), Sasl.plain(b64("\0alice\0pw")));
        assertEquals(new Sasl.Credentials("alice", "pw"), Sasl.plain(b64("admin\0alice\0pw")), "authzid ignored");
        assertEquals(new Sasl.Credentials("alice", "p\0w"), Sasl.plain(b64("\0alice\0p\0w")));
        assertEquals(new Sasl.Credentials("", ""), Sasl.plain(b64("\0\0")));
        assertEquals("client sent invalid login in AUTH PLAIN command", failure(() -> Sasl.plain(b64("alice"))));
        assertEquals("client sent invalid login in AUTH PLAIN command", failure(() -> Sasl.plain(b64("alice\0"))));
        assertEquals("client sent invalid password in AUTH PLAIN command",
                failure(() -> Sasl.plain(b64("\0alice"))));
        assertEquals("client sent invalid base64 encoding in AUTH PLAIN command",
                failure(() -> Sasl.plain("*".getBytes(ISO_8859_1))));
    }

    @Test
    void login() throws Exception {
        assertEquals("alice", Sasl.loginUsername(b64("alice")));
        assertEquals("p\u00c3\u00a4 ss", Sasl.loginPassword(b64("pä ss")), "UTF-8 stays its bytes, one char per byte");
        assertEquals("", Sasl.loginUsername(new byte[0]));
        assertEquals("client sent invalid base64 encoding in AUTH LOGIN command",
                failure(() -> Sasl.loginUsername("*".getBytes(ISO_8859_1))));
    }

    @Test
    void cramMd5() throws Exception {
        String salt = "<123.456@mail.example>\r\n";
        assertEquals(Base64.getEncoder().encodeToString("<123.456@mail.example>".getBytes(UTF_8)),
                Sasl.cramMd5Challenge(salt));
        String digest = "0123456789abcdef0123456789abcdef";
        assertEquals(new Sasl.Credentials("alice", digest), Sasl.cramMd5(b64("alice " + digest)));
        assertEquals("client sent invalid CRAM-MD5 hash in AUTH CRAM-MD5 command",
                failure(() -> Sasl.cramMd5(b64("alice " + digest + "0"))));
        assertEquals("client sent invalid CRAM-MD5 hash in AUTH CRAM-MD5 command",
                failure(() -> Sasl.cramMd5(b64("alice"))));
        assertEquals("client sent invalid base64 encoding in AUTH CRAM-MD5 command",
                failure(() -> Sasl.cramMd5("*".getBytes(ISO_8859_1))));
    }

    @Test
    void external() throws Exception {
        assertEquals(new Sasl.Credentials("alice", ""), Sasl.external(b64("alice")));
        assertEquals("client sent invalid base64 encoding in AUTH EXTERNAL command",
                failure(() -> Sasl.external("*".getBytes(ISO_8859_1))));
    }

    @Test
    void xoauth2() throws Exception {
        assertEquals(new Sasl.Credentials("test@example.com", "secretok"),
                Sasl.xoauth2(b64("user=test@example.com\001auth=Bearer secretok\001\001")));
        assertEquals(new Sasl.Credentials("a", "t"), Sasl.xoauth2(b64("USER=a\001AUTH=bearer t\001\001")));
        assertEquals("client sent invalid login in AUTH XOAUTH2 command",
                failure(() -> Sasl.xoauth2(b64("login=a\001auth=Bearer t\001\001"))));
        assertEquals("client sent invalid login in AUTH XOAUTH2 command",
                failure(() -> Sasl.xoauth2(b64("user=a"))));
        assertEquals("client sent invalid token in AUTH XOAUTH2 command",
                failure(() -> Sasl.xoauth2(b64("user=a\001auth=Basic t\001\001"))));
        assertEquals("client sent invalid token in AUTH XOAUTH2 command",
                failure(() -> Sasl.xoauth2(b64("user=a\001auth=Bearer t\001"))));
    }

    @Test
    void oauthbearer() throws Exception {
        assertEquals(new Sasl.Credentials("test@example.com", "secretok"),
                Sasl.oauthbearer(b64("n,a=test@example.com,\001auth=Bearer secretok\001\001")));
        assertEquals(new Sasl.Credentials("test=,@example.com", "secretok"),
                Sasl.oauthbearer(b64("n,a=test=3D=2C@example.com,\001auth=Bearer secretok\001\001")),
                "Angie mail_oauth.t: escaped login");
        assertEquals(new Sasl.Credentials("u", "tok"),
                Sasl.oauthbearer(b64("n,a=u,\001host=h\001port=1\001auth=Bearer tok\001\001")));
        assertEquals("client sent invalid login in AUTH OAUTHBEARER command",
                failure(() -> Sasl.oauthbearer(b64("n,,\001auth=Bearer t\001\001"))));
        assertEquals("client sent invalid login in AUTH OAUTHBEARER command",
                failure(() -> Sasl.oauthbearer(b64("n,a=te=5Bst,\001auth=Bearer t\001\001"))));
        assertEquals("client sent invalid token in AUTH OAUTHBEARER command",
                failure(() -> Sasl.oauthbearer(b64("n,a=u,\001auth=Bearer \001\001"))));
    }

    @Test
    void saltLooksLikeNginxs() {
        String salt = Salt.create("mail.example");
        assertTrue(Pattern.matches("<\\d+\\.\\d+@mail\\.example>\r\n", salt), salt);
        assertTrue(!salt.equals(Salt.create("mail.example")));
    }
}
