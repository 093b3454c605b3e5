package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mailproxy.auth.http.internal.TestSupport.await;
import static org.mailproxy.auth.http.internal.TestSupport.plain;
import static org.mailproxy.auth.http.internal.TestSupport.server;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.auth.http.AuthHttpStats;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.spi.AuthResult;

/**
 * The latency counters against an auth server that takes its time: each request's latency is
 * at least the server's delay and at most what the caller waited, the total is their sum, the
 * maximum the longest of them, the mean the total over the count.
 */
class LatencyCountersTest {

    /** The server's delay before it answers the n-th connection (0-based), in milliseconds. */
    private static final long[] DELAYS = {200, 300, 220};

    private final TestSupport.RecordingLog log = new TestSupport.RecordingLog();
    private final AuthHttpModule module = new AuthHttpModule(log);
    private FakeAuthServer auth;

    @BeforeEach
    void start() throws IOException {
        module.start();
        auth = FakeAuthServer.tcp((i, c) -> {
            Thread.sleep(DELAYS[i]);
            FakeAuthServer.headers("Auth-Status: OK", "Auth-Server: 127.0.0.1", "Auth-Port: 143").answer(i, c);
        });
    }

    @AfterEach
    void stop() throws IOException {
        module.stop();
        auth.close();
    }

    @Test
    void latencyOfSlowAnswers() {
        // one connection per request, so that the n-th request meets the n-th delay
        ServerConfig config = server(module, "auth_http " + auth.address() + "/auth;\nauth_http_keepalive off;");
        long sum = 0;
        long longest = 0;
        for (long delay : DELAYS) {
            long before = module.stats().latencyTotalMicros();
            long started = System.nanoTime();
            assertInstanceOf(AuthResult.Ok.class, await(module.authenticate(plain("imap"), config)), () -> log.all().toString());
            long waitedMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started);
            long latency = module.stats().latencyTotalMicros() - before;
            assertTrue(latency >= delay * 1000, "latency " + latency + " µs below the server's delay of " + delay + " ms");
            assertTrue(latency <= waitedMicros, "latency " + latency + " µs above the " + waitedMicros + " µs waited");
            sum += latency;
            longest = Math.max(longest, latency);
        }
        AuthHttpStats s = module.stats();
        assertEquals(DELAYS.length, s.latencyCount());
        assertEquals(sum, s.latencyTotalMicros(), "the total is the sum of the requests' latencies");
        assertEquals(longest, s.latencyMaxMicros());
        assertTrue(s.latencyMaxMicros() >= 300_000, "max " + s.latencyMaxMicros() + " µs");
        assertTrue(s.latencyMeanMicros() >= 200_000, "mean " + s.latencyMeanMicros() + " µs");
        assertEquals(sum / DELAYS.length, s.latencyMeanMicros());
    }
}
