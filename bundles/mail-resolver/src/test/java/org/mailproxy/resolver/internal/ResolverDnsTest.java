package org.mailproxy.resolver.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.HostResolver.HostName;
import org.mailproxy.core.spi.HostResolver.HostName.Status;
import org.mailproxy.resolver.ResolverSettings;
import org.mailproxy.resolver.ZoneStats;

/**
 * The client host name lookup against a real DNS server: dnsmasq on 127.0.0.1, answering only
 * from the records given here. Client addresses are plain values (nothing connects from them).
 */
class ResolverDnsTest {

    @TempDir
    static Path dir;

    /** The main server: authoritative (NXDOMAIN for unknown names) for test., in-addr.arpa., ip6.arpa. */
    private static Dnsmasq dns;

    private ResolverComponent module;

    @BeforeAll
    static void startDns() {
        dns = Dnsmasq.start(dir, records());
    }

    /** The records of the main server; answers have TTL 0 (dnsmasq's default for its own records). */
    static String[] records() {
        return new String[] {
            "--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/",
            // 127.0.0.10 <-> good.example.test
            "--host-record=good.example.test,127.0.0.10",
            // 127.0.0.11 -> liar.example.test, which is 127.0.0.99
            "--ptr-record=11.0.0.127.in-addr.arpa,liar.example.test",
            "--host-record=liar.example.test,127.0.0.99",
            // 127.0.0.12: no PTR
            // PTR names with characters RFC 1034 does not allow; the forward records exist, so only
            // the character check can make these [UNAVAILABLE]
            "--ptr-record=13.0.0.127.in-addr.arpa,bad name.example.test",
            "--ptr-record=14.0.0.127.in-addr.arpa,bad_name.example.test",
            "--host-record=bad_name.example.test,127.0.0.14",
            "--ptr-record=15.0.0.127.in-addr.arpa,bad/name.example.test",
            "--ptr-record=19.0.0.127.in-addr.arpa,bad\\\\name.example.test",
            // upper case in the PTR answer
            "--ptr-record=16.0.0.127.in-addr.arpa,Mixed.Example.Test",
            "--host-record=mixed.example.test,127.0.0.16",
            // only IPv6: ::1 <-> six.example.test
            "--host-record=six.example.test,::1",
            // both families
            "--host-record=dual.example.test,127.0.0.17,2001:db8::17",
            // a PTR name that is a CNAME
            "--ptr-record=18.0.0.127.in-addr.arpa,alias.example.test",
            "--cname=alias.example.test,real.example.test",
            "--host-record=real.example.test,127.0.0.18",
        };
    }

    @AfterAll
    static void stopDns() {
        if (dns != null) {
            dns.close();
        }
    }

    @BeforeEach
    void start() {
        module = new ResolverComponent();
        module.activate();
    }

    @AfterEach
    void stop() {
        module.deactivate();
    }

    private HostName resolve(String client, String... mailLines) {
        return resolve(ip(client), TestConfigs.server(module, mailLines));
    }

    private HostName resolve(InetAddress client, ServerConfig server) {
        try {
            return module.resolve(client, server).toCompletableFuture().get(40, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("resolve() completed exceptionally", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("resolve() did not complete", e);
        }
    }

    private static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private String resolver(String options) {
        return "resolver " + dns.endpoint() + (options.isEmpty() ? "" : " " + options) + ";";
    }

    private ZoneStats zone(String name) {
        return module.zone(name).orElseThrow(() -> new AssertionError("no zone " + name));
    }

    @Test
    void nameWhosForwardLookupContainsTheClientIsFound() {
        HostName name = resolve("127.0.0.10", resolver("status_zone=found"));

        assertEquals(new HostName(Status.FOUND, "good.example.test"), name);
        assertEquals("good.example.test", name.xclientName());
        ZoneStats z = zone("found");
        assertEquals(1, z.addrQueries());
        assertEquals(1, z.nameQueries());
        assertEquals(2, z.success());
        assertEquals(2, z.responses());
    }

    @Test
    void nameWhoseForwardLookupLacksTheClientIsUnavailable() {
        HostName name = resolve("127.0.0.11", resolver(""));

        assertEquals(new HostName(Status.UNAVAILABLE, null), name);
        assertEquals("[UNAVAILABLE]", name.xclientName());
    }

    @Test
    void addressWithoutPtrIsUnavailable() {
        HostName name = resolve("127.0.0.12", resolver("status_zone=nx"));

        assertEquals(Status.UNAVAILABLE, name.status());
        ZoneStats z = zone("nx");
        assertEquals(1, z.addrQueries());
        assertEquals(0, z.nameQueries());
        assertEquals(1, z.notFound());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "127.0.0.13, bad name.example.test",
        "127.0.0.14, bad_name.example.test",
        "127.0.0.15, bad/name.example.test",
        "127.0.0.19, bad\\name.example.test",
    })
    void ptrNameWithCharactersOutsideRfc1034IsUnavailableAndGoesNoFurther(String client, String ptr) {
        String zone = "invalid-" + client;
        HostName name = resolve(client, resolver("status_zone=" + zone));

        assertEquals(new HostName(Status.UNAVAILABLE, null), name);
        assertEquals("[UNAVAILABLE]", name.xclientName());
        ZoneStats z = zone(zone);
        assertEquals(1, z.addrQueries(), "the PTR lookup was made");
        assertEquals(1, z.success(), "and answered");
        assertEquals(0, z.nameQueries(), "the name was not looked up");
        assertEquals(0, dns.queries("A", ptr) + dns.queries("AAAA", ptr), "dnsmasq was not asked for " + ptr);
        assertTrue(dns.queries("PTR", reverse(client)) > 0, "dnsmasq was asked for the PTR of " + client);
    }

    @Test
    void ptrNameIsLowerCased() {
        assertEquals(new HostName(Status.FOUND, "mixed.example.test"), resolve("127.0.0.16", resolver("")));
    }

    @Test
    void forwardLookupFollowsCname() {
        assertEquals(new HostName(Status.FOUND, "alias.example.test"), resolve("127.0.0.18", resolver("")));
    }

    @Test
    void ipv6ClientIsFoundThroughIp6ArpaAndAaaa() {
        assertEquals(new HostName(Status.FOUND, "six.example.test"), resolve("::1", resolver("")));
        assertEquals(new HostName(Status.FOUND, "dual.example.test"), resolve("2001:db8::17", resolver("")));
    }

    @Test
    void ipv6OffAsksOnlyForARecords() {
        long aaaaBefore = dns.queries("AAAA", "six.example.test");

        assertEquals(Status.UNAVAILABLE, resolve("::1", resolver("ipv6=off")).status());
        assertEquals(aaaaBefore, dns.queries("AAAA", "six.example.test"), "no AAAA query with ipv6=off");
        assertEquals(new HostName(Status.FOUND, "dual.example.test"), resolve("127.0.0.17", resolver("ipv6=off")));
    }

    @Test
    void ipv4OffAsksOnlyForAaaaRecords() {
        long aBefore = dns.queries("A", "dual.example.test");

        assertEquals(Status.UNAVAILABLE, resolve("127.0.0.17", resolver("ipv4=off")).status());
        assertEquals(aBefore, dns.queries("A", "dual.example.test"), "no A query with ipv4=off");
        assertEquals(new HostName(Status.FOUND, "dual.example.test"), resolve("2001:db8::17", resolver("ipv4=off")));
    }

    @Test
    void resolverOffIsUnavailableAsNginxSendsWithoutResolver() {
        assertEquals(new HostName(Status.UNAVAILABLE, null), resolve("127.0.0.10", "resolver off;"));
        assertEquals(new HostName(Status.UNAVAILABLE, null), resolve("127.0.0.10"));
        long before = dns.queries("PTR", "10.0.0.127.in-addr.arpa");
        resolve("127.0.0.10", "resolver off " + dns.endpoint() + ";");
        assertEquals(before, dns.queries("PTR", "10.0.0.127.in-addr.arpa"), "off means off");
    }

    @Test
    void clientWithoutIpAddressIsTempunavailWithAResolver() {
        assertEquals(new HostName(Status.TEMPUNAVAIL, null), resolve(null, TestConfigs.server(module, resolver(""))));
        assertEquals(new HostName(Status.UNAVAILABLE, null), resolve(null, TestConfigs.server(module)));
    }

    @Test
    void serverThatNeverAnswersGivesTempunavailAfterResolverTimeout() throws Exception {
        try (DatagramSocket blackhole = silentServer()) {
            HostName name = resolve("127.0.0.10", "resolver 127.0.0.1:" + blackhole.getLocalPort()
                    + " status_zone=blackhole;", "resolver_timeout 1s;");

            assertEquals(new HostName(Status.TEMPUNAVAIL, null), name);
            assertEquals("[TEMPUNAVAIL]", name.xclientName());
            ZoneStats z = zone("blackhole");
            assertEquals(1, z.timedOut());
            assertEquals(0, z.success());
        }
    }

    @Test
    void unreachableServerGivesTempunavail() {
        int closed = closedPort();
        HostName name = resolve("127.0.0.10", "resolver 127.0.0.1:" + closed + " status_zone=dead;",
                "resolver_timeout 1500ms;");

        assertEquals(new HostName(Status.TEMPUNAVAIL, null), name);
        assertEquals(1, zone("dead").timedOut());
    }

    @Test
    void answersAreCachedForTheirTtl() {
        try (Dnsmasq ttl = Dnsmasq.start(dir, "--local=/test/", "--local=/in-addr.arpa/", "--local-ttl=3600",
                "--host-record=cached.example.test,127.0.0.40")) {
            String conf = "resolver " + ttl.endpoint() + " status_zone=ttl;";
            assertEquals(new HostName(Status.FOUND, "cached.example.test"), resolve("127.0.0.40", conf,
                    "resolver_timeout 2s;"));
            ttl.close();

            assertEquals(new HostName(Status.FOUND, "cached.example.test"), resolve("127.0.0.40", conf,
                    "resolver_timeout 2s;"));
            ZoneStats z = zone("ttl");
            assertEquals(2, z.addrQueries(), "cache hits count as queries, as in Angie");
            assertEquals(4, z.success());
        }
    }

    /** A cached answer lasts its TTL (1 s here), then dnsmasq is asked again. */
    @Test
    void aCachedAnswerExpiresAfterItsTtl() throws InterruptedException {
        try (Dnsmasq short1 = Dnsmasq.start(dir, "--local=/test/", "--local=/in-addr.arpa/", "--local-ttl=1",
                "--host-record=brief.example.test,127.0.0.43")) {
            String conf = "resolver " + short1.endpoint() + ";";
            String ptr = "43.0.0.127.in-addr.arpa";
            assertEquals(new HostName(Status.FOUND, "brief.example.test"), resolve("127.0.0.43", conf));
            assertEquals(1, short1.queries("PTR", ptr));
            assertEquals(1, short1.queries("A", "brief.example.test"));

            assertEquals(new HostName(Status.FOUND, "brief.example.test"), resolve("127.0.0.43", conf));
            assertEquals(1, short1.queries("PTR", ptr), "within the TTL: from the cache");
            assertEquals(1, short1.queries("A", "brief.example.test"), "within the TTL: from the cache");

            Thread.sleep(2000);
            assertEquals(new HostName(Status.FOUND, "brief.example.test"), resolve("127.0.0.43", conf));
            assertEquals(2, short1.queries("PTR", ptr), "after the TTL: asked again");
            assertEquals(2, short1.queries("A", "brief.example.test"), "after the TTL: asked again");
        }
    }

    /** {@code valid=1s} ends an entry whose TTL is an hour after one second, as nginx's valid= replaces the TTL. */
    @Test
    void validShorterThanTheTtlEndsTheEntryEarly() throws InterruptedException {
        try (Dnsmasq hour = Dnsmasq.start(dir, "--local=/test/", "--local=/in-addr.arpa/", "--local-ttl=3600",
                "--host-record=hour.example.test,127.0.0.44")) {
            String ptr = "44.0.0.127.in-addr.arpa";
            String withValid = "resolver " + hour.endpoint() + " valid=1s;";
            assertEquals(new HostName(Status.FOUND, "hour.example.test"), resolve("127.0.0.44", withValid));
            assertEquals(new HostName(Status.FOUND, "hour.example.test"), resolve("127.0.0.44", withValid));
            assertEquals(1, hour.queries("PTR", ptr), "within valid=1s: from the cache");

            Thread.sleep(2000);
            assertEquals(new HostName(Status.FOUND, "hour.example.test"), resolve("127.0.0.44", withValid));
            assertEquals(2, hour.queries("PTR", ptr), "valid=1s, not the TTL of 3600 s: asked again");
            assertEquals(2, hour.queries("A", "hour.example.test"), "valid=1s, not the TTL of 3600 s: asked again");
        }
    }

    @Test
    void validOverridesTheTtlOfZero() {
        try (Dnsmasq zero = Dnsmasq.start(dir, "--local=/test/", "--local=/in-addr.arpa/",
                "--host-record=valid.example.test,127.0.0.41",
                "--host-record=uncached.example.test,127.0.0.42")) {
            String withValid = "resolver " + zero.endpoint() + " valid=60s;";
            String withoutValid = "resolver " + zero.endpoint() + ";";
            assertEquals(Status.FOUND, resolve("127.0.0.41", withValid, "resolver_timeout 2s;").status());
            assertEquals(Status.FOUND, resolve("127.0.0.42", withoutValid, "resolver_timeout 2s;").status());
            zero.close();

            assertEquals(new HostName(Status.FOUND, "valid.example.test"),
                    resolve("127.0.0.41", withValid, "resolver_timeout 2s;"), "valid=60s: answered from the cache");
            assertEquals(new HostName(Status.TEMPUNAVAIL, null),
                    resolve("127.0.0.42", withoutValid, "resolver_timeout 2s;"), "TTL 0: not cached");
        }
    }

    /**
     * A name server on the IPv6 loopback: asked over IPv6, and written as nginx writes it
     * ({@code [::1]:PORT}) in the settings and the log lines. Fails, saying why, on a host without ::1.
     */
    @Test
    void aNameServerOnIpv6Loopback() {
        try (Dnsmasq six = Dnsmasq.startOnIpv6Loopback(dir, records())) {
            String endpoint = "[::1]:" + six.port();
            assertEquals(endpoint, six.endpoint());
            ServerConfig server = TestConfigs.server(module, "resolver " + endpoint + " valid=5s;");
            ResolverSettings settings = server.get("resolver");
            assertEquals(endpoint + " valid=5s", settings.toString());
            assertEquals(endpoint, DnsEngine.text(settings.servers().get(0)), "the resolver's name in log lines");

            assertEquals(new HostName(Status.FOUND, "good.example.test"), resolve(ip("127.0.0.10"), server));
            assertEquals(1, six.queries("PTR", "10.0.0.127.in-addr.arpa"));
            assertTrue(six.output().contains("query[PTR] 10.0.0.127.in-addr.arpa from ::1"), six.output());
        }
    }

    @Test
    void serversAreAskedInTurn() {
        try (Dnsmasq second = Dnsmasq.start(dir, records())) {
            long firstBefore = dns.clientQueries();
            String conf = "resolver " + dns.endpoint() + " " + second.endpoint() + ";";
            for (int i = 0; i < 4; i++) {
                assertEquals(Status.FOUND, resolve(i % 2 == 0 ? "127.0.0.10" : "127.0.0.16", conf).status());
            }
            long first = dns.clientQueries() - firstBefore;
            long other = second.clientQueries();
            assertTrue(first > 0 && other > 0, "both servers asked: " + first + " and " + other);
        }
    }

    @Test
    void unreachableServerInTheRotationIsPassedOver() {
        String conf = "resolver 127.0.0.1:" + closedPort() + " " + dns.endpoint() + " status_zone=rr-dead;";
        for (int i = 0; i < 4; i++) {
            assertEquals(new HostName(Status.FOUND, "good.example.test"), resolve("127.0.0.10", conf));
        }
        assertEquals(0, zone("rr-dead").timedOut());
    }

    @Test
    void silentServerInTheRotationIsPassedOverAfterTheResendInterval() throws Exception {
        try (DatagramSocket blackhole = silentServer()) {
            String conf = "resolver 127.0.0.1:" + blackhole.getLocalPort() + " " + dns.endpoint() + ";";
            for (int i = 0; i < 2; i++) {
                assertEquals(new HostName(Status.FOUND, "good.example.test"), resolve("127.0.0.10", conf));
            }
        }
    }

    @Test
    void sameQuestionInFlightIsAskedOnce() throws Exception {
        try (DatagramSocket silent = silentServer()) {
            java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
            Thread reader = new Thread(() -> {
                byte[] buffer = new byte[512];
                while (!silent.isClosed()) {
                    try {
                        silent.receive(new java.net.DatagramPacket(buffer, buffer.length));
                        received.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            reader.setDaemon(true);
            reader.start();
            ServerConfig server = TestConfigs.server(module, "resolver 127.0.0.1:" + silent.getLocalPort() + ";",
                    "resolver_timeout 1s;");
            var one = module.resolve(ip("127.0.0.10"), server).toCompletableFuture();
            var two = module.resolve(ip("127.0.0.10"), server).toCompletableFuture();

            assertEquals(Status.TEMPUNAVAIL, one.get(20, TimeUnit.SECONDS).status());
            assertEquals(Status.TEMPUNAVAIL, two.get(20, TimeUnit.SECONDS).status());
            assertEquals(1, received.get(), "one PTR query for two lookups of the same address");
        }
    }

    @Test
    void resolveDoesNotWaitForDnsAndStoppingCompletesPendingLookups() throws Exception {
        try (DatagramSocket blackhole = silentServer()) {
            ServerConfig server = TestConfigs.server(module, "resolver 127.0.0.1:" + blackhole.getLocalPort() + ";");
            var pending = module.resolve(ip("127.0.0.10"), server).toCompletableFuture();
            assertTrue(!pending.isDone(), "resolve() returned before the DNS answer (resolver_timeout is 30s)");

            module.deactivate();

            assertEquals(new HostName(Status.TEMPUNAVAIL, null), pending.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void resolveAfterDeactivateIsTempunavailNotAnException() {
        ServerConfig server = TestConfigs.server(module, resolver(""));
        module.deactivate();
        assertEquals(new HostName(Status.TEMPUNAVAIL, null), resolve(ip("127.0.0.10"), server));
    }

    /** {@code 13.0.0.127.in-addr.arpa} for {@code 127.0.0.13}. */
    static String reverse(String ipv4) {
        String[] o = ipv4.split("\\.");
        return o[3] + "." + o[2] + "." + o[1] + "." + o[0] + ".in-addr.arpa";
    }

    /** A UDP socket on 127.0.0.1 that receives queries and never answers (while the test holds it). */
    static DatagramSocket silentServer() throws java.net.SocketException {
        return new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** A UDP port on 127.0.0.1 that nobody listens on (the kernel answers ICMP port unreachable). */
    static int closedPort() {
        try (DatagramSocket s = silentServer()) {
            return s.getLocalPort();
        } catch (java.net.SocketException e) {
            throw new AssertionError(e);
        }
    }
}
