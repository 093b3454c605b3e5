package org.mailproxy.resolver.internal;

import java.net.InetAddress;
import java.util.List;
import org.xbill.DNS.Name;

/**
 * The outcome of one DNS lookup (one name and type), as the state nginx hands to a resolver
 * context: an rcode, or {@link #TIMEDOUT}, or {@link #ERROR}; for success the PTR target, or the
 * addresses, or the CNAME to follow.
 *
 * @param code      0 (success), an rcode 1-5, {@link #TIMEDOUT} or {@link #ERROR}
 * @param ptr       the first PTR target, for a PTR success
 * @param addresses the A or AAAA addresses (empty: no data, or a CNAME to follow)
 * @param cname     the last CNAME of an answer without addresses, or null
 * @param ttl       seconds the answer may be cached (0: not at all; -1: an answer without
 *                  records, which sets no limit when combined with another)
 */
record Answer(int code, Name ptr, List<InetAddress> addresses, Name cname, long ttl) {

    static final int OK = 0;
    static final int FORMERR = 1;
    static final int SERVFAIL = 2;
    static final int NXDOMAIN = 3;
    static final int NOTIMP = 4;
    static final int REFUSED = 5;
    /** nginx's {@code NGX_RESOLVE_TIMEDOUT} (= ETIMEDOUT on Linux). */
    static final int TIMEDOUT = 110;
    /** nginx's {@code NGX_ERROR}: the resolver stopped, or an internal failure. */
    static final int ERROR = -1;

    Answer {
        addresses = List.copyOf(addresses);
    }

    static Answer failure(int code) {
        return new Answer(code, null, List.of(), null, 0);
    }

    boolean ok() {
        return code == OK;
    }

    /** {@code ngx_resolver_strerror()}. */
    static String strerror(int code) {
        return switch (code) {
            case FORMERR -> "Format error";
            case SERVFAIL -> "Server failure";
            case NXDOMAIN -> "Host not found";
            case NOTIMP -> "Unimplemented";
            case REFUSED -> "Operation refused";
            case TIMEDOUT -> "Operation timed out";
            default -> "Unknown error";
        };
    }
}
