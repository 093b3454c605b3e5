package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The SASL decoders, with the inputs of nginx's mail_imap.t and Angie's mail_oauth.t. */
class SaslTest {

    private static byte[] b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.ISO_8859_1))
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    @Test
    void base64AsNginxDecodesIt() {
        assertEquals("test", text(Sasl.decodeBase64(bytes("dGVzdA=="))));
        assertEquals("test", text(Sasl.decodeBase64(bytes("dGVzdA"))));
        assertEquals("test", text(Sasl.decodeBase64(bytes("dGVzdA=garbage!"))));
        assertEquals("", text(Sasl.decodeBase64(bytes(""))));
        assertEquals("", text(Sasl.decodeBase64(bytes("="))));
        assertArrayEquals(new byte[] {1}, Sasl.decodeBase64(bytes("AQ==")));
        assertNull(Sasl.decodeBase64(bytes("dGVzd")), "one character over");
        assertNull(Sasl.decodeBase64(bytes("dGV*dA==")));
        assertNull(Sasl.decodeBase64(bytes("dGV zdA==")));
        assertEquals(2, Sasl.decodeBase64(bytes("foo")).length, "nginx decodes 3 characters to 2 bytes");
    }

    @Test
    void plain() throws Exception {
        Sasl.Credentials c = Sasl.plain(b64("\0test@example.com\0secret"));
        assertEquals("test@example.com", text(c.login()));
        assertEquals("secret", text(c.password()));
        c = Sasl.plain(b64("admin\0user\0pass word\0"));
        assertEquals("user", text(c.login()));
        assertEquals("pass word\0", text(c.password()), "everything after the second NUL");
        assertEquals("", text(Sasl.plain(b64("\0\0x")).login()));
        assertEquals("client sent invalid login in AUTH PLAIN command",
                assertThrows(Sasl.Invalid.class, () -> Sasl.plain(b64("user"))).getMessage());
        assertEquals("client sent invalid password in AUTH PLAIN command",
                assertThrows(Sasl.Invalid.class, () -> Sasl.plain(b64("\0user"))).getMessage());
        assertEquals("client sent invalid base64 encoding in AUTH PLAIN command",
                assertThrows(Sasl.Invalid.class, () -> Sasl.plain(bytes("*"))).getMessage());
        assertThrows(Sasl.Invalid.class, () -> Sasl.plain(bytes("=")));
    }

    @Test
    void loginAndExternal() throws Exception {
        assertEquals("test@example.com", text(Sasl.login(b64("test@example.com"))));
        assertEquals("client sent invalid base64 encoding in AUTH LOGIN command",
                assertThrows(Sasl.Invalid.class, () -> Sasl.login(bytes("*"))).getMessage());
        assertEquals("test@example.com", text(Sasl.external(b64("test@example.com"))));
        assertEquals("", text(Sasl.external(bytes("="))));
    }

    @Test
    void cramMd5() throws Exception {
        Sasl.Credentials c = Sasl.cramMd5(b64("test@example.com " + "0".repeat(32)));
        assertEquals("test@example.com", text(c.login()));
        assertEquals("0".repeat(32), text(c.password()));
        assertEquals("client sent invalid CRAM-MD5 hash in AUTH CRAM-MD5 command",
                assertThrows(Sasl.Invalid.class, () -> Sasl.cramMd5(b64("test " + "0".repeat(31)))).getMessage());
        assertThrows(Sasl.Invalid.class, () -> Sasl.cramMd5(b64("0".repeat(32))));
    }

    @Test
    void saltAndChallenge() {
        String salt = Sasl.salt("mail.example.com");
        assertTrue(salt.matches("<\\d+\\.\\d+@mail\\.example\\.com>\r\n"), salt);
        String challenge = Sasl.cramMd5Challenge("+ ", salt);
        assertTrue(challenge.startsWith("+ ") && challenge.endsWith("\r\n"));
        assertEquals(salt.substring(0, salt.length() - 2),
                new String(Base64.getDecoder().decode(challenge.substring(2, challenge.length() - 2)),
                        StandardCharsets.US_ASCII));
    }

    @Test
    void xoauth2() throws Exception {
        Sasl.Credentials c = Sasl.xoauth2(b64("user=test@example.com\001auth=Bearer secretok\001\001"));
        assertEquals("test@example.com", text(c.login()));
        assertEquals("secretok", text(c.password()));
        c = Sasl.xoauth2(b64("auth=bearer tok\001user=u\001\001"));
        assertEquals("u", text(c.login()));
        assertEquals("tok", text(c.password()));
        assertThrows(Sasl.Invalid.class, () -> Sasl.xoauth2(b64("user=u\001\001")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.xoauth2(b64("user=u\001auth=Basic x\001\001")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.xoauth2(b64("user=u\001auth=Bearer x")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.xoauth2(bytes("*")));
    }

    @Test
    void oauthbearer() throws Exception {
        Sasl.Credentials c = Sasl.oauthbearer(b64("n,a=test@example.com,\001auth=Bearer secretok\001\001"));
        assertEquals("test@example.com", text(c.login()));
        assertEquals("secretok", text(c.password()));
        c = Sasl.oauthbearer(b64("n,a=test=3D=2C@example.com,\001auth=Bearer secretok\001\001"));
        assertEquals("test=,@example.com", text(c.login()), "RFC 5801 escapes");
        c = Sasl.oauthbearer(b64("n,,\001host=imap.example.com\001port=143\001auth=Bearer t\001\001"));
        assertEquals("", text(c.login()));
        assertEquals("t", text(c.password()));
        assertThrows(Sasl.Invalid.class, () -> Sasl.oauthbearer(b64("n,a=test=2X,\001auth=Bearer t\001\001")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.oauthbearer(b64("n,user=test,\001auth=Bearer t\001\001")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.oauthbearer(b64("n,a=test,\001host=x\001\001")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.oauthbearer(b64("x,a=test,\001auth=Bearer t\001\001")));
        assertThrows(Sasl.Invalid.class, () -> Sasl.oauthbearer(b64("n,a=test\001auth=Bearer t\001\001")));
    }

    @Test
    void errorAcknowledgement() {
        assertTrue(Sasl.isErrorAcknowledgement(bytes("")));
        assertTrue(Sasl.isErrorAcknowledgement(bytes("AQ==")));
        assertTrue(Sasl.isErrorAcknowledgement(bytes("AQ")));
        assertFalse(Sasl.isErrorAcknowledgement(bytes("foo")));
        assertFalse(Sasl.isErrorAcknowledgement(bytes("*")));
        assertFalse(Sasl.isErrorAcknowledgement(bytes("AA==")));
    }
}
