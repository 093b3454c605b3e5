package org.mailproxy.resolver.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.spi.HostResolver.HostName;
import org.mailproxy.core.spi.HostResolver.HostName.Status;
import org.mailproxy.resolver.ZoneStats;

/**
 * SERVFAIL from a real server: a DNSSEC-validating dnsmasq (root trust anchor) forwarding to a
 * plain dnsmasq that cannot prove anything is insecure, so validation fails and the validating
 * server answers SERVFAIL; its own configured records are answered directly.
 */
class ServfailTest {

    /** The root zone's KSK-2017 DS, dnsmasq's trust-anchors.conf. */
    private static final String ROOT_ANCHOR =
            "--trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";

    @TempDir
    static Path dir;

    private static Dnsmasq upstream;
    private static Dnsmasq validating;

    private ResolverComponent module;

    @BeforeAll
    static void startDns() {
        upstream = Dnsmasq.start(dir, "--address=/servfail.test/127.0.0.8",
                "--ptr-record=7.0.0.127.in-addr.arpa,host.servfail.test");
        validating = Dnsmasq.start(dir, "--dnssec", ROOT_ANCHOR, "--server=" + upstream.address().getAddress()
                .getHostAddress() + "#" + upstream.port(), "--ptr-record=8.0.0.127.in-addr.arpa,host.servfail.test");
    }

    @AfterAll
    static void stopDns() {
        if (validating != null) {
            validating.close();
        }
        if (upstream != null) {
            upstream.close();
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

    private HostName resolve(String client, String zone) throws Exception {
        return module.resolve(InetAddress.getByName(client), TestConfigs.server(module,
                "resolver " + validating.endpoint() + " status_zone=" + zone + ";", "resolver_timeout 30s;"))
                .toCompletableFuture().get(40, TimeUnit.SECONDS);
    }

    @Test
    void servfailOnThePtrLookupIsTempunavail() throws Exception {
        HostName name = resolve("127.0.0.7", "ptr");

        assertEquals(new HostName(Status.TEMPUNAVAIL, null), name);
        assertEquals("[TEMPUNAVAIL]", name.xclientName());
        ZoneStats z = module.zone("ptr").orElseThrow();
        assertEquals(1, z.serverFailure(), "SERVFAIL, not a timeout: " + z + "\n" + validating.output());
        assertEquals(0, z.timedOut());
        assertEquals(0, z.nameQueries());
    }

    @Test
    void servfailOnTheForwardLookupIsTempunavail() throws Exception {
        HostName name = resolve("127.0.0.8", "name");

        assertEquals(new HostName(Status.TEMPUNAVAIL, null), name);
        ZoneStats z = module.zone("name").orElseThrow();
        assertEquals(1, z.addrQueries());
        assertEquals(1, z.nameQueries());
        assertEquals(1, z.success(), "the PTR answer: " + z + "\n" + validating.output());
        assertEquals(1, z.serverFailure(), "the forward lookup: " + z);
        assertTrue(validating.queries("A", "host.servfail.test") > 0);
    }
}
