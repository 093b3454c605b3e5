package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.concurrent.Callable;
import javax.inject.Inject;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.mailproxy.itests.fixtures.ProxiedLogin;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Modules switched at runtime in a real Karaf, with real clients relaying to the real Dovecot and
 * Postfix ({@link MailBackends}) after logins authorised by the real HTTP {@link AuthHttpServer}:
 *
 * <ul>
 * <li>{@code bundle:stop} of a protocol bundle (imap, pop3, smtp), and {@code feature:uninstall}
 *     of its feature, close that protocol's listeners while the other protocols keep serving; a
 *     session already relaying keeps working (IMAP SELECT/FETCH, POP3 RETR, SMTP a message
 *     delivered by Postfix); a session not logged in yet gets nginx's internal error and is closed;
 *     starting the bundle (installing
 *     the feature) again brings the listeners back and new logins work;</li>
 * <li>with the auth_http bundle stopped a login gets the protocol's temporary error at once;</li>
 * <li>with the resolver bundle stopped an SMTP server that configures a resolver sends
 *     {@code [TEMPUNAVAIL]} as the client's host name (auth_http {@code Client-Host}, XCLIENT NAME).</li>
 * </ul>
 * Every change is undone in a finally block: the suite's other classes share this Karaf.
 */
public class RuntimeModularityIT extends MailProxyTestSupport {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Map<String, String> BUNDLES = Map.of("imap", "org.mailproxy.imap", "pop3",
            "org.mailproxy.pop3", "smtp", "org.mailproxy.smtp");
    private static final String AUTH_HTTP_BUNDLE = "org.mailproxy.auth.http";
    private static final String RESOLVER_BUNDLE = "org.mailproxy.resolver";
    /** The parts of the `mail` feature, installed one by one so that one of them can be uninstalled. */
    private static final String MAIL_PARTS = "mail-core mail-pop3 mail-imap mail-smtp mail-resolver mail-auth-http mail-shell";

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private Configuration extra;

    @Before
    public void setUp() throws Exception {
        for (String bundle : BUNDLES.values()) {
            awaitBundleState(bundle, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        }
        auth = AuthHttpServer.start(port("auth_http"));
        for (String protocol : BUNDLES.keySet()) {
            await(protocol + " port accepts", () -> accepts(port(protocol)));
        }
    }

    @After
    public void tearDown() throws Exception {
        if (extra != null) {
            extra.delete();
        }
        if (auth != null) {
            auth.close();
        }
    }

    // ------------------------------------------------------------------ protocol bundles

    @Test
    public void bundleStopOfImapKeepsRelayingSessions() throws Exception {
        switchProtocolOffAndOn("imap", () -> admin("bundle:stop " + BUNDLES.get("imap")),
                () -> admin("bundle:start " + BUNDLES.get("imap")));
    }

    @Test
    public void bundleStopOfPop3KeepsRelayingSessions() throws Exception {
        switchProtocolOffAndOn("pop3", () -> admin("bundle:stop " + BUNDLES.get("pop3")),
                () -> admin("bundle:start " + BUNDLES.get("pop3")));
    }

    @Test
    public void bundleStopOfSmtpKeepsRelayingSessions() throws Exception {
        switchProtocolOffAndOn("smtp", () -> admin("bundle:stop " + BUNDLES.get("smtp")),
                () -> admin("bundle:start " + BUNDLES.get("smtp")));
    }

    @Test
    public void featureUninstallOfEachProtocolKeepsRelayingSessions() throws Exception {
        // `mail` (the boot feature) includes every part; while it is installed, its parts cannot be
        // uninstalled on their own. Require the parts one by one, then drop `mail`: no bundle changes.
        admin("feature:install " + MAIL_PARTS);
        admin("feature:uninstall mail");
        try {
            for (String protocol : List.of("imap", "pop3", "smtp")) {
                switchProtocolOffAndOn(protocol, () -> {
                    admin("feature:uninstall mail-" + protocol);
                    await(BUNDLES.get(protocol) + " uninstalled", () -> bundle(BUNDLES.get(protocol)) == null);
                }, () -> {
                    admin("feature:install mail-" + protocol);
                    awaitBundleState(BUNDLES.get(protocol), Bundle.ACTIVE, WAIT);
                });
            }
        } finally {
            admin("feature:install mail");
            for (String bundle : BUNDLES.values()) {
                awaitBundleState(bundle, Bundle.ACTIVE, WAIT);
            }
        }
    }

    /**
     * Logs a session in (relaying) and opens one that only read the greeting, switches the
     * protocol off, checks listeners and sessions, switches it on again and logs in anew.
     */
    private void switchProtocolOffAndOn(String protocol, Step off, Step on) throws Exception {
        int port = port(protocol);
        String marker = protocol + "-" + System.nanoTime();
        MailBackends.seed(MailBackends.ALICE, ProxiedLogin.message(MailBackends.ALICE, marker));
        boolean switchedOff = false;
        try (ProxiedLogin relaying = ProxiedLogin.login(protocol, port, MailBackends.ALICE, MailBackends.ALICE_PASSWORD);
             LineClient greeted = ProxiedLogin.greeted(protocol, port)) {
            long logMark = mailLogMark();
            off.run();
            switchedOff = true;
            await(protocol + " listener on " + port + " closed", () -> !accepts(port));
            // the server is reported inactive, in nginx's manner: what, where defined, and why
            Pattern inactive = Pattern.compile("\\[warn\\].*server " + protocol + " 127\\.0\\.0\\.1:" + port
                    + " in \\S+/mail\\.conf:\\d+ is inactive: protocol module \"" + protocol + "\" is not active");
            await("mail.log reports the " + protocol + " server on " + port + " inactive",
                    () -> inactive.matcher(mailLogSince(logMark)).find());
            for (String other : BUNDLES.keySet()) {
                if (!other.equals(protocol)) {
                    try (LineClient c = ProxiedLogin.greeted(other, port(other))) {
                        // greeted: the other protocols keep serving
                    }
                }
            }
            // not logged in yet: the session needs the protocol's code; nginx's internal error, then closed
            assertEquals(ProxiedLogin.internalError(protocol), greeted.readLine());
            ProxiedLogin.assertClosedByProxy(greeted);
            // relaying: the core carries it on without the protocol's code
            relaying.assertServes(marker);
            on.run();
            switchedOff = false;
            await(protocol + " listener on " + port + " open again", () -> accepts(port));
            try (ProxiedLogin fresh = ProxiedLogin.login(protocol, port, MailBackends.BOB, MailBackends.BOB_PASSWORD)) {
                // a new login through the restarted protocol reaches the backend
            }
            // and the old session still goes on (POP3 sees its maildrop as of login: the same message)
            String marker2 = protocol.equals("pop3") ? marker : marker + "-after";
            MailBackends.seed(MailBackends.ALICE, ProxiedLogin.message(MailBackends.ALICE, marker2));
            relaying.assertServes(marker2);
        } finally {
            if (switchedOff) {
                on.run();
            }
        }
    }

    // ------------------------------------------------------------------ auth_http and resolver

    @Test
    public void withoutTheAuthHttpBundleALoginGetsATemporaryErrorAtOnce() throws Exception {
        Bundle authHttp = awaitBundleState(AUTH_HTTP_BUNDLE, Bundle.ACTIVE, WAIT);
        admin("bundle:stop " + AUTH_HTTP_BUNDLE);
        try {
            assertTemporaryError("imap", "a1 LOGIN alice alicepw", ProxiedLogin.internalError("imap"));
            assertTemporaryError("pop3", "USER alice", "+OK");
            assertTemporaryError("smtp", "AUTH PLAIN " + java.util.Base64.getEncoder().encodeToString(
                    "\0alice\0alicepw".getBytes(java.nio.charset.StandardCharsets.UTF_8)), ProxiedLogin.internalError("smtp"));
            assertTrue("no request reached the auth server", auth.requests().isEmpty());
        } finally {
            authHttp.start();
        }
        awaitBundleState(AUTH_HTTP_BUNDLE, Bundle.ACTIVE, WAIT);
        await("logins work again", () -> {
            try (ProxiedLogin c = ProxiedLogin.login("imap", port("imap"), MailBackends.ALICE, MailBackends.ALICE_PASSWORD)) {
                return true;
            } catch (AssertionError | IOException e) {
                return false;
            }
        });
    }

    /** Sends the login (for POP3 USER, then PASS) and expects the reply within 5 s, then the close. */
    private void assertTemporaryError(String protocol, String login, String reply) throws Exception {
        try (LineClient c = new LineClient("127.0.0.1", port(protocol), Duration.ofSeconds(5))) {
            c.readLine();
            long start = System.nanoTime();
            switch (protocol) {
                case "pop3" -> {
                    assertEquals(reply, c.command(login));
                    assertEquals(ProxiedLogin.internalError("pop3"), c.command("PASS alicepw"));
                }
                case "smtp" -> {
                    c.send("EHLO client.example");
                    c.readSmtpReply();
                    assertEquals(reply, c.command(login));
                }
                default -> assertEquals(reply, c.command(login));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(protocol + " answered after " + millis + " ms", millis < 5000);
            ProxiedLogin.assertClosedByProxy(c);
        }
    }

    @Test
    public void withoutTheResolverBundleSmtpSendsTempUnavail() throws Exception {
        int smtpPort = freePort();
        int dnsPort = freePort(); // nothing answers there: no lookup must be made
        extra = configAdmin.getFactoryConfiguration("org.mailproxy.server", "itest-no-resolver", "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", "127.0.0.1:" + smtpPort);
        props.put("protocol", "smtp");
        props.put("xclient", "on");
        props.put("resolver", "127.0.0.1:" + dnsPort);
        extra.update(props);
        await("smtp server with a resolver on " + smtpPort, () -> accepts(smtpPort));
        Bundle resolver = awaitBundleState(RESOLVER_BUNDLE, Bundle.ACTIVE, WAIT);
        admin("bundle:stop " + RESOLVER_BUNDLE);
        try {
            long mark = MailBackends.postfixLogMark();
            String marker = "tempunavail-" + System.nanoTime();
            try (ProxiedLogin c = ProxiedLogin.login("smtp", smtpPort, MailBackends.ALICE, MailBackends.ALICE_PASSWORD)) {
                AuthHttpServer.Request request = auth.awaitRequest(Duration.ofSeconds(10));
                assertEquals("[TEMPUNAVAIL]", request.header("Client-Host"));
                c.assertServes(marker);
            }
            // XCLIENT NAME=[TEMPUNAVAIL] was accepted by Postfix, which logs such a name as "unknown"
            MailBackends.awaitPostfixLog("client=unknown[127.0.0.1]", mark, Duration.ofSeconds(10));
        } finally {
            resolver.start();
        }
        awaitBundleState(RESOLVER_BUNDLE, Bundle.ACTIVE, WAIT);
    }

    // ------------------------------------------------------------------ helpers

    /** Runs a console command with the roles of the karaf user's admingroup (Karaf's command ACLs check them). */
    private String admin(String command) {
        return executeCommand(command, WAIT, new RolePrincipal("admin"), new RolePrincipal("manager"),
                new RolePrincipal("viewer"), new RolePrincipal("systembundles"));
    }

    /** An action that switches something off or on. */
    private interface Step {
        void run() throws Exception;
    }

    /** Polls the condition until it holds; fails after {@link #WAIT}. */
    static void await(String what, Callable<Boolean> condition) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > end) {
                fail(what + ": not within " + WAIT);
            }
            Thread.sleep(100);
        }
    }
}
