package org.mailproxy.core.session;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of a group of sessions (one server, or one protocol): connections, logins and bytes.
 * Logins are counted from the protocol's {@link MailSession#authenticating} hook: accepted when
 * the session goes on to the backend, failed when the protocol reads the client again instead (or
 * the session closes while the answer is pending).
 */
public final class SessionCounters {

    private final AtomicLong current = new AtomicLong();
    private final LongAdder total = new LongAdder();
    private final LongAdder authOk = new LongAdder();
    private final LongAdder authFailed = new LongAdder();
    private final LongAdder authTimeouts = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesFromBackends = new LongAdder();

    void opened() {
        current.incrementAndGet();
        total.increment();
    }

    void closed(long fromClient, long fromBackend) {
        current.decrementAndGet();
        bytesFromClients.add(fromClient);
        bytesFromBackends.add(fromBackend);
    }

    void countAuthOk() {
        authOk.increment();
    }

    void countAuthFailed() {
        authFailed.increment();
    }

    void countAuthTimeout() {
        authTimeouts.increment();
    }

    void countError() {
        errors.increment();
    }

    /** Sessions open now. */
    public long current() {
        return current.get();
    }

    /** Sessions since the counters were created. */
    public long total() {
        return total.sum();
    }

    /** Logins the authenticator accepted. */
    public long authOk() {
        return authOk.sum();
    }

    /** Logins refused (or abandoned while the authenticator was asked). */
    public long authFailed() {
        return authFailed.sum();
    }

    /** Logins the authenticator could not answer in time ({@code auth_http_timeout}); part of {@link #authFailed}. */
    public long authTimeouts() {
        return authTimeouts.sum();
    }

    /** Invalid commands, backend connect/login failures. */
    public long errors() {
        return errors.sum();
    }

    /** Bytes relayed client to backend by sessions that have ended. */
    public long finishedBytesFromClients() {
        return bytesFromClients.sum();
    }

    /** Bytes relayed backend to client by sessions that have ended. */
    public long finishedBytesFromBackends() {
        return bytesFromBackends.sum();
    }
}
