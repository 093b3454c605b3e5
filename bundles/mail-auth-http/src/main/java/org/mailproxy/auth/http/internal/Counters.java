package org.mailproxy.auth.http.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.mailproxy.auth.http.AuthHttpStats;

/** The counters behind {@link AuthHttpStats}. */
final class Counters {

    final LongAdder requests = new LongAdder();
    final LongAdder ok = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder waits = new LongAdder();
    final LongAdder temporaryErrors = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final AtomicLong inFlight = new AtomicLong();
    final LongAdder newConnections = new LongAdder();
    final LongAdder reusedConnections = new LongAdder();
    final LongAdder staleRetries = new LongAdder();
    final AtomicLong idleConnections = new AtomicLong();
    private final LongAdder latencyCount = new LongAdder();
    private final LongAdder latencyTotal = new LongAdder();
    private final AtomicLong latencyMax = new AtomicLong();

    void latency(long nanos) {
        long micros = nanos / 1000;
        latencyCount.increment();
        latencyTotal.add(micros);
        latencyMax.accumulateAndGet(micros, Math::max);
    }

    AuthHttpStats snapshot() {
        return new AuthHttpStats(requests.sum(), ok.sum(), failed.sum(), waits.sum(), temporaryErrors.sum(),
                timeouts.sum(), inFlight.get(), latencyCount.sum(), latencyTotal.sum(), latencyMax.get(),
                newConnections.sum(), reusedConnections.sum(), staleRetries.sum(), idleConnections.get());
    }
}
