package org.mailproxy.resolver;

/**
 * The counters of one {@code status_zone} at one moment, as Angie's {@code /status/resolvers/<zone>}
 * API shows them. Every lookup request counts, those answered from the cache included: a client
 * host name lookup is one {@code addr} query (the PTR lookup) and, when that finds a name, one
 * {@code name} query (the forward lookup), each ending in exactly one response kind.
 *
 * @param zone          the zone name
 * @param nameQueries   forward lookups (A/AAAA) started
 * @param addrQueries   reverse lookups (PTR) started
 * @param success       lookups that ended with an answer
 * @param formatError   ended with FORMERR
 * @param serverFailure ended with SERVFAIL
 * @param notFound      ended with NXDOMAIN (or an empty answer)
 * @param unimplemented ended with NOTIMP
 * @param refused       ended with REFUSED
 * @param timedOut      ended because {@code resolver_timeout} passed
 * @param other         ended otherwise (the resolver was stopped, an internal error)
 */
public record ZoneStats(String zone, long nameQueries, long addrQueries, long success, long formatError,
                        long serverFailure, long notFound, long unimplemented, long refused, long timedOut,
                        long other) {

    /** All lookups started. */
    public long queries() {
        return nameQueries + addrQueries;
    }

    /** All lookups ended. */
    public long responses() {
        return success + formatError + serverFailure + notFound + unimplemented + refused + timedOut + other;
    }
}
