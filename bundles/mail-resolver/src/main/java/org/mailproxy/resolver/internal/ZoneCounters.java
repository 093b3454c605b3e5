package org.mailproxy.resolver.internal;

import java.util.concurrent.atomic.LongAdder;
import org.mailproxy.resolver.ZoneStats;

/** The live counters of one {@code status_zone} (Angie's {@code ngx_resolver_stats_t}). */
final class ZoneCounters {

    private final String name;
    private final LongAdder nameQueries = new LongAdder();
    private final LongAdder addrQueries = new LongAdder();
    /** By {@link Answer#code()}: 0 success, 1 FORMERR, 2 SERVFAIL, 3 NXDOMAIN, 4 NOTIMP, 5 REFUSED. */
    private final LongAdder[] responses = new LongAdder[6];
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder other = new LongAdder();

    ZoneCounters(String name) {
        this.name = name;
        for (int i = 0; i < responses.length; i++) {
            responses[i] = new LongAdder();
        }
    }

    void nameQuery() {
        nameQueries.increment();
    }

    void addrQuery() {
        addrQueries.increment();
    }

    /** {@code ngx_resolver_stats_response()}: one lookup ended with this code. */
    void response(int code) {
        if (code >= 0 && code < responses.length) {
            responses[code].increment();
        } else if (code == Answer.TIMEDOUT) {
            timedOut.increment();
        } else {
            other.increment();
        }
    }

    ZoneStats snapshot() {
        return new ZoneStats(name, nameQueries.sum(), addrQueries.sum(), responses[0].sum(), responses[1].sum(),
                responses[2].sum(), responses[3].sum(), responses[4].sum(), responses[5].sum(), timedOut.sum(),
                other.sum());
    }
}
