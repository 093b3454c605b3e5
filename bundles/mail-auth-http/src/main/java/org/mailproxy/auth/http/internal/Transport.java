package org.mailproxy.auth.http.internal;

/** A way to reach the auth server: TCP through MINA, or a unix socket. */
interface Transport {

    /**
     * Connects for the attempt (or takes a kept-alive connection when the attempt asks for reuse),
     * sends its request and feeds it what comes back. Must not block the caller; must report every
     * end (data, close, failure) to the attempt.
     */
    void open(Attempt attempt);

    /** Releases the transport's threads and connections. */
    void close();
}
