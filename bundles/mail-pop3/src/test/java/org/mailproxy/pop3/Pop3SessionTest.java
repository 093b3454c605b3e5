package org.mailproxy.pop3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.pop3.fixture.AuthServerStub;
import org.mailproxy.pop3.fixture.FakePop3Backend;
import org.mailproxy.pop3.fixture.Pop3Proxy;
import org.mailproxy.pop3.fixture.RawClient;

/**
 * The POP3 module end to end over real sockets, without Karaf: the core's listeners and sessions,
 * the real auth_http module asking a real HTTP auth server, a scripted POP3 backend; every reply
 * compared with nginx's text.
 */
class Pop3SessionTest {

    static final byte[] MESSAGE = ("From: a@example.com\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\n"
            + "first line\r\n.leading dot\r\n..two dots\r\nlast\r\n").getBytes(UTF_8);

    private AuthServerStub auth;
    private FakePop3Backend backend;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = new FakePop3Backend(AuthServerStub.PASSWORDS, List.of(MESSAGE));
        auth = new AuthServerStub().backend(backend.port());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        auth.close();
        backend.close();
    }

    private Pop3Proxy proxy(String mail, String server) throws Exception {
        Pop3Proxy proxy = new Pop3Proxy(mail, server, auth.url());
        closing.add(proxy);
        return proxy;
    }

    private Pop3Proxy proxy() throws Exception {
        return proxy("", "");
    }

    private RawClient greeted(Pop3Proxy proxy) throws Exception {
        RawClient c = proxy.client();
        closing.add(c);
        assertTrue(c.readLine().startsWith("+OK POP3 ready"));
        return c;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(UTF_8));
    }

    /** The salt of a salted greeting. */
    private static String salt(String greeting) {
        Matcher m = Pattern.compile("^\\+OK POP3 ready (<\\d+\\.\\d+@mx\\.example>)$").matcher(greeting);
        assertTrue(m.matches(), greeting);
        return m.group(1);
    }

    /** After a login: the mailbox is the backend's, through the relay. */
    private static void assertRelaying(RawClient c) throws Exception {
        assertEquals("+OK 1 " + MESSAGE.length, c.command("STAT"));
        assertEquals("+OK Logging out.", c.command("QUIT"));
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- before login

    @Test
    void greetingWithoutAndWithSalt() throws Exception {
        try (RawClient c = proxy().client()) {
            assertEquals("+OK POP3 ready", c.readLine());
        }
        try (RawClient c = proxy("pop3_auth plain apop;", "").client()) {
            salt(c.readLine());
        }
        try (RawClient c = proxy("pop3_auth cram-md5;", "").client()) {
            salt(c.readLine());
        }
    }

    @Test
    void capaAuthNoopQuit() throws Exception {
        RawClient c = greeted(proxy("pop3_auth plain apop cram-md5; pop3_capabilities LAST TOP USER PIPELINING UIDL;",
                "proxy_pass_error_message on;"));
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        assertEquals(List.of("LAST", "TOP", "USER", "PIPELINING", "UIDL", "SASL PLAIN LOGIN CRAM-MD5"), c.readMultiline());
        assertEquals("+OK methods supported:", c.command("AUTH"));
        assertEquals(List.of("PLAIN", "LOGIN", "CRAM-MD5"), c.readMultiline());
        assertEquals("+OK", c.command("noop"));
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("+OK Capability list follows", c.command("CAPA"));
        c.readMultiline();
        assertEquals("+OK", c.command("NOOP"));
        assertEquals("+OK", c.command("QUIT"));
        assertTrue(c.closedByPeer());
        assertTrue(auth.requests().isEmpty());
    }

    @Test
    void commandsOutsideTheAuthorizationStateAreInvalid() throws Exception {
        RawClient c = greeted(proxy());
        assertEquals("-ERR invalid command", c.command("STAT"));
        assertEquals("-ERR invalid command", c.command("PASS alicepw"), "PASS before USER");
        assertEquals("-ERR invalid command", c.command("USER"), "USER without argument");
        assertEquals("-ERR invalid command", c.command("APOP alice 0123"), "apop not enabled");
        assertEquals("-ERR invalid command", c.command("AUTH CRAM-MD5"), "cram-md5 not enabled");
        assertEquals("-ERR invalid command", c.command("AUTH XOAUTH2"), "xoauth2 not enabled");
        assertEquals("-ERR invalid command", c.command("AUTH DIGEST-MD5"));
        assertEquals("-ERR invalid command", c.command("STLS"), "no starttls");
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("-ERR invalid command", c.command("APOP alice 0123"), "only PASS CAPA QUIT NOOP after USER");
        assertEquals("-ERR invalid command", c.command("PASS"), "back to the start state");
        assertEquals("-ERR invalid command", c.command("PASS alicepw"));
    }

    // ---------------------------------------------------------------- methods

    @Test
    void proxySslStarttlsRefusedByTheBackendIsTheInternalErrorWithoutUser() throws Exception {
        RawClient c = greeted(proxy("", "proxy_ssl starttls;")); // the fake backend knows no STLS
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertEquals("STLS", backend.received().poll(5, TimeUnit.SECONDS));
        assertNull(backend.received().poll(300, TimeUnit.MILLISECONDS), "nothing in clear after the refused STLS");
    }

    @Test
    void userPass() throws Exception {
        RawClient c = greeted(proxy());
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertRelaying(c);
        AuthServerStub.Request r = auth.lastRequest();
        assertEquals("plain", r.get("Auth-Method"));
        assertEquals("alice", r.get("Auth-User"));
        assertEquals("alicepw", r.get("Auth-Pass"));
        assertEquals("pop3", r.get("Auth-Protocol"));
        assertEquals("1", r.get("Auth-Login-Attempt"));
        assertEquals("127.0.0.1", r.get("Client-IP"));
        assertNull(r.get("Auth-Salt"));
        assertEquals("USER alice", backend.received().poll(5, TimeUnit.SECONDS));
        assertEquals("PASS alicepw", backend.received().poll(5, TimeUnit.SECONDS));
    }

    @Test
    void passwordWithSpacesGoesToTheBackendAsSent() throws Exception {
        auth.answer(r -> r.decoded("Auth-Pass").equals("a b  c") ? auth.ok() : auth.refuse("no"));
        RawClient c = greeted(proxy());
        c.command("USER bob");
        assertEquals("-ERR internal server error", c.command("PASS a b  c"), "the backend refuses it");
        assertEquals("USER bob", backend.received().poll(5, TimeUnit.SECONDS));
        assertEquals("PASS a b  c", backend.received().poll(5, TimeUnit.SECONDS));
    }

    /** Latin-1 (0xE9) and never-UTF-8 (0xFF) bytes: the auth server and the backend get the client's bytes. */
    @Test
    void loginBytesReachTheBackendUnchanged() throws Exception {
        backend.passReply("+OK Logged in."); // users the backend does not know
        auth.answer(r -> auth.ok());
        RawClient c = greeted(proxy());
        c.sendBytes(new byte[] {'U', 'S', 'E', 'R', ' ', 'j', (byte) 0xc3, (byte) 0xb6, (byte) 0xe9, (byte) 0xff, '\r', '\n'});
        assertEquals("+OK", c.readLine());
        c.sendBytes(new byte[] {'P', 'A', 'S', 'S', ' ', 'p', (byte) 0xff, ' ', (byte) 0xe9, '\r', '\n'});
        assertEquals("+OK Logged in.", c.readLine());
        // the JDK's HttpServer reads header bytes one char per byte; nginx escapes only space, % and controls
        assertEquals("j\u00c3\u00b6\u00e9\u00ff", auth.lastRequest().get("Auth-User"));
        assertEquals("p\u00ff%20\u00e9", auth.lastRequest().get("Auth-Pass"));
        assertEquals("USER j\u00c3\u00b6\u00e9\u00ff", backend.received().poll(5, TimeUnit.SECONDS));
        assertEquals("PASS p\u00ff \u00e9", backend.received().poll(5, TimeUnit.SECONDS));
    }

    /** The same bytes through AUTH PLAIN and AUTH LOGIN (base64), and Auth-User / Auth-Pass bytes from the auth server. */
    @Test
    void saslLoginBytesAndAuthServerOverridesReachTheBackendUnchanged() throws Exception {
        byte[] plain = {0, 'j', (byte) 0xe9, (byte) 0xff, 0, 'p', (byte) 0xff, (byte) 0xe9};
        backend.passReply("+OK Logged in."); // users the backend does not know
        auth.answer(r -> auth.ok());
        RawClient c = greeted(proxy());
        assertEquals("+OK Logged in.", c.command("AUTH PLAIN " + Base64.getEncoder().encodeToString(plain)));
        assertEquals("j\u00e9\u00ff", auth.lastRequest().get("Auth-User"));
        assertEquals("p\u00ff\u00e9", auth.lastRequest().get("Auth-Pass"));
        assertEquals("USER j\u00e9\u00ff", backend.received().poll(5, TimeUnit.SECONDS));
        assertEquals("PASS p\u00ff\u00e9", backend.received().poll(5, TimeUnit.SECONDS));

        auth.answer(r -> {
            var ok = auth.ok();
            ok.put("Auth-User", "r\u00e9al\u00ff"); // the JDK's HttpServer writes one byte per char
            ok.put("Auth-Pass", "\u00ff\u00e9");
            return ok;
        });
        c = greeted(proxy());
        assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("+ UGFzc3dvcmQ6", c.command(Base64.getEncoder().encodeToString(new byte[] {'u', (byte) 0xe9})));
        assertEquals("+OK Logged in.", c.command(Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff})));
        assertEquals("u\u00e9", auth.lastRequest().get("Auth-User"));
        assertEquals("\u00ff", auth.lastRequest().get("Auth-Pass"));
        assertEquals("USER r\u00e9al\u00ff", backend.received().poll(5, TimeUnit.SECONDS));
        assertEquals("PASS \u00ff\u00e9", backend.received().poll(5, TimeUnit.SECONDS));
    }

    @Test
    void apopDigestCheckedByTheAuthServer() throws Exception {
        RawClient c = proxy("pop3_auth plain apop;", "").client();
        closing.add(c);
        String salt = salt(c.readLine());
        assertEquals("-ERR Invalid login or password", c.command("APOP alice " + "1".repeat(32)));
        assertTrue(c.closedByPeer(), "no Auth-Wait: closed after the error");

        c = proxy("pop3_auth plain apop;", "").client();
        closing.add(c);
        salt = salt(c.readLine());
        assertEquals("+OK Logged in.", c.command("APOP alice " + AuthServerStub.md5Hex(salt + "alicepw")));
        assertRelaying(c);
        AuthServerStub.Request r = auth.lastRequest();
        assertEquals("apop", r.get("Auth-Method"));
        assertEquals(salt, r.get("Auth-Salt"));
        assertEquals("PASS alicepw", backend.received().stream().filter(l -> l.startsWith("PASS")).findFirst().get(),
                "the backend gets Auth-Pass");
    }

    @Test
    void cramMd5DigestCheckedByTheAuthServer() throws Exception {
        RawClient c = proxy("pop3_auth cram-md5;", "").client();
        closing.add(c);
        String salt = salt(c.readLine());
        assertEquals("+ " + b64(salt), c.command("AUTH CRAM-MD5"));
        assertEquals("+OK Logged in.", c.command(b64("bob " + AuthServerStub.cramMd5("bobpw", salt))));
        assertRelaying(c);
        assertEquals("cram-md5", auth.lastRequest().get("Auth-Method"));
        assertEquals(salt, auth.lastRequest().get("Auth-Salt"));
        assertEquals("bob", auth.lastRequest().get("Auth-User"));
    }

    @Test
    void authPlainWithAndWithoutInitialResponse() throws Exception {
        Pop3Proxy proxy = proxy();
        RawClient c = greeted(proxy);
        assertEquals("+OK Logged in.", c.command("AUTH PLAIN " + b64("\0alice\0alicepw")));
        assertRelaying(c);
        c = greeted(proxy);
        assertEquals("+ ", c.command("AUTH PLAIN"));
        assertEquals("+OK Logged in.", c.command(b64("alice\0alice\0alicepw")));
        assertRelaying(c);
        assertEquals("plain", auth.lastRequest().get("Auth-Method"));
    }

    @Test
    void authLoginWithAndWithoutInitialUserName() throws Exception {
        Pop3Proxy proxy = proxy();
        RawClient c = greeted(proxy);
        assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("+ UGFzc3dvcmQ6", c.command(b64("alice")));
        assertEquals("+OK Logged in.", c.command(b64("alicepw")));
        assertRelaying(c);
        c = greeted(proxy);
        assertEquals("+ UGFzc3dvcmQ6", c.command("auth login " + b64("bob")));
        assertEquals("+OK Logged in.", c.command(b64("bobpw")));
        assertRelaying(c);
        assertEquals("plain", auth.lastRequest().get("Auth-Method"), "nginx sends LOGIN as plain");
    }

    @Test
    void starCancelsAnExchangeAsAnInvalidCommand() throws Exception {
        RawClient c = greeted(proxy("pop3_auth plain cram-md5;", ""));
        assertEquals("+ ", c.command("AUTH PLAIN"));
        assertEquals("-ERR invalid command", c.command("*"));
        assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("-ERR invalid command", c.command("*"));
        assertEquals("+ VXNlcm5hbWU6", c.command("AUTH LOGIN"));
        assertEquals("+ UGFzc3dvcmQ6", c.command(b64("alice")));
        assertEquals("-ERR invalid command", c.command("*"));
        assertTrue(c.command("AUTH CRAM-MD5").startsWith("+ "));
        assertEquals("-ERR invalid command", c.command("*"));
        assertEquals("+OK", c.command("NOOP"), "back in the start state, not closed");
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertTrue(auth.requests().size() == 1);
    }

    @Test
    void external() throws Exception {
        Pop3Proxy proxy = proxy("pop3_auth external;", "");
        RawClient c = greeted(proxy);
        assertEquals("+ VXNlcm5hbWU6", c.command("AUTH EXTERNAL"));
        assertEquals("+OK Logged in.", c.command(b64("alice")));
        assertRelaying(c);
        assertEquals("external", auth.lastRequest().get("Auth-Method"));
        assertEquals("", auth.lastRequest().get("Auth-Pass"));
        c = greeted(proxy);
        assertEquals("+OK Logged in.", c.command("AUTH EXTERNAL " + b64("bob")));

        auth.answer(r -> auth.ok()); // OK without Auth-Pass: nginx's "did not send password"
        c = greeted(proxy);
        assertEquals("-ERR internal server error", c.command("AUTH EXTERNAL " + b64("bob")));
        assertTrue(c.closedByPeer());
    }

    @Test
    void xoauth2AndOauthbearer() throws Exception {
        Pop3Proxy proxy = proxy("pop3_auth plain xoauth2 oauthbearer;", "");
        RawClient c = greeted(proxy);
        assertEquals("+OK Logged in.", c.command("AUTH XOAUTH2 " + b64("user=alice\001auth=Bearer alice-token\001\001")));
        assertRelaying(c);
        assertEquals("xoauth2", auth.lastRequest().get("Auth-Method"));
        assertEquals("alice-token", auth.lastRequest().get("Auth-Pass"));
        c = greeted(proxy);
        assertEquals("+ ", c.command("AUTH XOAUTH2"));
        assertEquals("+OK Logged in.", c.command(b64("user=alice\001auth=Bearer alice-token\001\001")));
        c = greeted(proxy);
        assertEquals("+OK Logged in.", c.command("AUTH OAUTHBEARER " + b64("n,a=alice,\001auth=Bearer alice-token\001\001")));
        assertRelaying(c);
        assertEquals("oauthbearer", auth.lastRequest().get("Auth-Method"));
        c = greeted(proxy);
        assertEquals("+ ", c.command("AUTH OAUTHBEARER"));
        assertEquals("+OK Logged in.", c.command(b64("n,a=alice,\001auth=Bearer alice-token\001\001")));
    }

    /** Angie mail_oauth.t, POP3 part: the RFC 7628 error flow with Auth-Error-SASL and Auth-Wait. */
    @Test
    void oauthErrorChallengeThenErrorAsAngie() throws Exception {
        String sasl = "eyJzY2hlbWVzIjoiQmVhcmVyIiwic3RhdHVzIjoiNDAwIn0=";
        auth.authWait(1).answer(r -> {
            if (r.get("Auth-Pass").equals("alice-token")) {
                return auth.checkCredentials(r);
            }
            Map<String, String> refused = auth.refuse("auth-failed");
            if (r.get("Auth-Pass").equals("saslfail")) {
                refused.put("Auth-Error-SASL", sasl);
            }
            return refused;
        });
        Pop3Proxy proxy = proxy("pop3_auth plain oauthbearer xoauth2;", "");
        String failing = b64("n,a=alice,\001auth=Bearer saslfail\001\001");
        RawClient c = greeted(proxy);
        long started = System.nanoTime();
        assertEquals("+ " + sasl, c.command("AUTH OAUTHBEARER " + failing));
        assertTrue(System.nanoTime() - started >= 900_000_000L, "the challenge waits Auth-Wait");
        assertEquals("-ERR auth-failed", c.command("AQ=="));
        assertEquals("+ " + sasl, c.command("AUTH OAUTHBEARER " + failing));
        assertEquals("-ERR invalid command", c.command(""), "anything but AQ== is invalid");
        assertEquals("+OK Logged in.", c.command("AUTH OAUTHBEARER " + b64("n,a=alice,\001auth=Bearer alice-token\001\001")));

        c = greeted(proxy);
        assertEquals("+ " + sasl, c.command("AUTH XOAUTH2 " + b64("user=alice\001auth=Bearer saslfail\001\001")));
        assertEquals("-ERR auth-failed", c.command(""), "XOAUTH2 ends with an empty line");

        c = greeted(proxy);
        assertEquals("-ERR auth-failed", c.command("AUTH XOAUTH2 " + b64("user=alice\001auth=Bearer bad\001\001")),
                "no Auth-Error-SASL: the error at once");
        assertEquals("+OK", c.command("NOOP"));

        auth.authWait(null);
        c = greeted(proxy);
        assertEquals("+ " + sasl, c.command("AUTH OAUTHBEARER " + failing));
        assertEquals("-ERR auth-failed", c.command("AQ=="));
        assertTrue(c.closedByPeer(), "without Auth-Wait the session ends after the error");
    }

    // ---------------------------------------------------------------- refusals, retries, errors

    @Test
    void wrongPasswordWithoutAuthWaitCloses() throws Exception {
        RawClient c = greeted(proxy());
        c.command("USER alice");
        assertEquals("-ERR Invalid login or password", c.command("PASS wrong"));
        assertTrue(c.closedByPeer());
        assertEquals(0, backend.connections());
    }

    @Test
    void authWaitDelaysTheErrorThenTheClientMayRetry() throws Exception {
        auth.authWait(1);
        RawClient c = greeted(proxy());
        c.command("USER alice");
        long started = System.nanoTime();
        assertEquals("-ERR Invalid login or password", c.command("PASS wrong"));
        assertTrue(System.nanoTime() - started >= 900_000_000L, "delayed by Auth-Wait");
        assertEquals("+ ", c.command("AUTH PLAIN"), "back in the start state");
        assertEquals("-ERR Invalid login or password", c.command(b64("\0alice\0wrong again")));
        assertEquals("+OK", c.command("USER alice"));
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertEquals(List.of("1", "2", "3"), auth.requests().stream().map(r -> r.get("Auth-Login-Attempt")).toList());
        assertRelaying(c);
    }

    @Test
    void authStatusWaitAsksAgain() throws Exception {
        int[] calls = {0};
        auth.answer(r -> ++calls[0] == 1 ? Map.of("Auth-Status", "WAIT", "Auth-Wait", "0") : auth.checkCredentials(r));
        RawClient c = greeted(proxy());
        c.command("USER alice");
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertEquals(List.of("1", "1"), auth.requests().stream().map(r -> r.get("Auth-Login-Attempt")).toList(),
                "the same request again");
    }

    @Test
    void authUserAndAuthPassOverrideTheClientsCredentials() throws Exception {
        auth.answer(r -> {
            Map<String, String> ok = auth.ok();
            ok.put("Auth-User", "bob");
            ok.put("Auth-Pass", "bobpw");
            return ok;
        });
        RawClient c = greeted(proxy());
        c.command("USER somebody@example.com");
        assertEquals("+OK Logged in.", c.command("PASS whatever"));
        assertEquals(List.of("USER bob", "PASS bobpw"), List.of(backend.received().poll(5, TimeUnit.SECONDS),
                backend.received().poll(5, TimeUnit.SECONDS)));
    }

    @Test
    void authServerDownIsATemporaryError() throws Exception {
        auth.close();
        RawClient c = greeted(proxy());
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void noAuthenticatorIsATemporaryError() throws Exception {
        Pop3Proxy proxy = Pop3Proxy.withoutAuthenticator();
        closing.add(proxy);
        RawClient c = greeted(proxy);
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void okWithoutServerIsAnInternalError() throws Exception {
        auth.answer(r -> Map.of("Auth-Status", "OK"));
        RawClient c = greeted(proxy());
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());
    }

    // ---------------------------------------------------------------- the backend login

    @Test
    void backendRefusingACorrectPasswordIsShownOnlyWithProxyPassErrorMessage() throws Exception {
        backend.passReply("-ERR [SYS/PERM] Your account is locked, call the helpdesk.");
        RawClient c = greeted(proxy("", "proxy_pass_error_message on;"));
        c.command("USER alice");
        assertEquals("-ERR [SYS/PERM] Your account is locked, call the helpdesk.", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());

        c = greeted(proxy());
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void badGreetingUnreachableOrClosingBackendIsAnInternalError() throws Exception {
        backend.greeting("-ERR go away");
        Pop3Proxy proxy = proxy();
        RawClient c = greeted(proxy);
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());

        backend.script((socket, in, out) -> FakePop3Backend.write(out, "+OK ready")); // then closes
        c = greeted(proxy);
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());

        auth.backend(1); // nothing listens there
        c = greeted(proxy);
        c.command("USER alice");
        assertEquals("-ERR internal server error", c.command("PASS alicepw"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void greetingInPiecesAndReplyWithExtraBytes() throws Exception {
        backend.script((socket, in, out) -> {
            out.write("+OK Dove".getBytes(UTF_8));
            out.flush();
            sleep(100);
            out.write("cot ready.\r\n".getBytes(UTF_8));
            out.flush();
            FakePop3Backend.readLine(in);
            FakePop3Backend.write(out, "+OK");
            FakePop3Backend.readLine(in);
            out.write("+OK Logged in.\r\n+OK 0 0\r\n".getBytes(UTF_8)); // the reply to STAT, sent early
            out.flush();
            String stat = FakePop3Backend.readLine(in);
            FakePop3Backend.write(out, "+OK got " + stat);
            sleep(500);
        });
        RawClient c = greeted(proxy());
        c.command("USER alice");
        assertEquals("+OK Logged in.", c.command("PASS alicepw"));
        assertEquals("+OK 0 0", c.readLine(), "bytes after the PASS reply reach the client");
        assertEquals("+OK got STAT", c.command("STAT"));
    }

    @Test
    void pipelinedCommandsAreKeptThroughLoginAndRelay() throws Exception {
        RawClient c = greeted(proxy());
        c.sendRaw("CAPA\r\nUSER alice\r\nPASS alicepw\r\nSTAT\r\nRETR 1\r\nQUIT\r\n");
        assertEquals("+OK Capability list follows", c.readLine());
        c.readMultiline();
        assertEquals("+OK", c.readLine());
        assertEquals("+OK Logged in.", c.readLine());
        assertEquals("+OK 1 " + MESSAGE.length, c.readLine());
        assertEquals("+OK " + MESSAGE.length + " octets", c.readLine());
        List<String> lines = c.readMultiline();
        assertEquals(".leading dot", unstuff(lines).get(5));
        assertEquals("+OK Logging out.", c.readLine());
        assertTrue(c.closedByPeer());
    }

    @Test
    void retrOfAMultiMegabyteMessageByteForByte() throws Exception {
        byte[] big = bigMessage(5 * 1024 * 1024);
        backend.close();
        backend = new FakePop3Backend(AuthServerStub.PASSWORDS, List.of(big));
        auth.backend(backend.port());
        RawClient c = greeted(proxy());
        c.command("USER alice");
        c.command("PASS alicepw");
        assertEquals("+OK " + big.length + " octets", c.command("RETR 1"));
        ByteArrayOutputStream got = new ByteArrayOutputStream(big.length);
        String line;
        while (!(line = c.readLine()).equals(".")) {
            got.write((line.startsWith("..") ? line.substring(1) : line).getBytes(UTF_8));
            got.write('\r');
            got.write('\n');
        }
        assertArrayEquals(big, got.toByteArray());
    }

    // ---------------------------------------------------------------- limits

    @Test
    void maxErrorsClosesAfterTheLastAllowedError() throws Exception {
        RawClient c = greeted(proxy("max_errors 3;", ""));
        assertEquals("-ERR invalid command", c.command("LIST"));
        assertEquals("-ERR invalid command", c.command("USER"), "refused by the handler: not counted");
        assertEquals("-ERR invalid command", c.command("RETR 1"));
        assertEquals("+OK", c.command("NOOP"));
        assertEquals("-ERR invalid command", c.command("DELE 1"));
        assertTrue(c.closedByPeer());
    }

    @Test
    void maxCommandsRefusesTheCommandBeyondAndCloses() throws Exception {
        RawClient c = greeted(proxy("max_commands 3;", ""));
        c.sendRaw("NOOP\r\nNOOP\r\nCAPA\r\nNOOP\r\nNOOP\r\n");
        assertEquals("+OK", c.readLine());
        assertEquals("+OK", c.readLine());
        assertEquals("+OK Capability list follows", c.readLine());
        c.readMultiline();
        assertEquals("-ERR invalid command", c.readLine());
        assertTrue(c.closedByPeer());
    }

    @Test
    void timeoutClosesSilently() throws Exception {
        RawClient c = greeted(proxy("timeout 300ms;", ""));
        c.timeout(5000);
        long started = System.nanoTime();
        assertNull(c.readLineOrNull());
        assertTrue(System.nanoTime() - started < 4_000_000_000L);
    }

    @Test
    void tooLongCommandClosesAndTheBufferIsConfigurable() throws Exception {
        String token = b64("user=alice\001auth=Bearer alice-token\001\001");
        String longToken = "*".repeat(3000); // no base64: an invalid command, unless too long
        RawClient c = greeted(proxy("pop3_client_buffer 128;", ""));
        assertEquals("-ERR invalid command", c.command("AUTH PLAIN " + longToken));
        assertTrue(c.closedByPeer());

        c = greeted(proxy("pop3_auth plain xoauth2;", ""));
        assertEquals("-ERR invalid command", c.command("AUTH PLAIN " + longToken), "4k by default: not too long");
        assertEquals("+OK Logged in.", c.command("AUTH XOAUTH2 " + token));
    }

    @Test
    void aRealPop3ClientLibrary() throws Exception {
        Pop3Proxy proxy = proxy("pop3_auth plain apop;", "");
        org.apache.commons.net.pop3.POP3Client client = new org.apache.commons.net.pop3.POP3Client();
        client.setDefaultTimeout(10_000);
        client.connect("127.0.0.1", proxy.port());
        try {
            assertTrue(client.login("alice", "alicepw"));
            var info = client.status();
            assertEquals(1, info.number);
            assertEquals(MESSAGE.length, info.size);
            try (java.io.Reader r = client.retrieveMessage(1)) {
                String text = new String(readAll(r));
                assertEquals(new String(MESSAGE, UTF_8), text);
            }
            assertTrue(client.logout());
        } finally {
            client.disconnect();
        }
        org.apache.commons.net.pop3.POP3Client apop = new org.apache.commons.net.pop3.POP3Client();
        apop.setDefaultTimeout(10_000);
        apop.connect("127.0.0.1", proxy.port());
        try {
            Matcher salt = Pattern.compile("<[^>]+>").matcher(apop.getReplyString());
            assertTrue(salt.find(), apop.getReplyString());
            assertTrue(apop.login("bob", salt.group(), "bobpw"), "APOP with the greeting's salt");
            assertEquals("apop", auth.lastRequest().get("Auth-Method"));
            assertTrue(apop.logout());
        } finally {
            apop.disconnect();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static char[] readAll(java.io.Reader r) throws java.io.IOException {
        java.io.CharArrayWriter w = new java.io.CharArrayWriter();
        r.transferTo(w);
        return w.toCharArray();
    }

    static List<String> unstuff(List<String> lines) {
        return lines.stream().map(l -> l.startsWith("..") ? l.substring(1) : l).toList();
    }

    /** A message of about {@code size} bytes with CRLF lines, some starting with a dot. */
    static byte[] bigMessage(int size) {
        StringBuilder b = new StringBuilder("Subject: big\r\n\r\n");
        int i = 0;
        while (b.length() < size) {
            b.append(i % 50 == 0 ? "." : "").append("line ").append(i++).append(" abcdefghijklmnopqrstuvwxyz0123456789\r\n");
        }
        return b.toString().getBytes(UTF_8);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
