package org.mailproxy.core.net;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IoSession;

/**
 * Which connections the I/O threads read into pooled buffers: the two connections of a relay
 * whose filter chains are empty (no TLS, no PROXY header left to read).
 *
 * <p>There every buffer read from one connection goes, as it is, into the write queue of the other,
 * and is given back to the pool once written ({@link #written}). Before the relay the protocols
 * keep what they read (a line split over two reads, pipelined commands), and a TLS filter reads
 * the buffer and writes another one, so those reads stay in buffers of their own, which the
 * garbage collector takes.
 */
public final class PooledReads {

    private static final AttributeKey POOLED = new AttributeKey(PooledReads.class, "pooled");

    private PooledReads() {
    }

    /** Marks both connections of a relay, when nothing but the relay sees what they read. */
    public static void allow(IoSession client, IoSession backend) {
        if (client.getFilterChain().getAll().isEmpty() && backend.getFilterChain().getAll().isEmpty()) {
            client.setAttribute(POOLED, Boolean.TRUE);
            backend.setAttribute(POOLED, Boolean.TRUE);
        }
    }

    /**
     * A buffer is written (MINA's messageSent): frees it, which gives a pooled read buffer back to
     * its pool and leaves any other buffer as it is. MINA frees only the duplicate it wrote
     * ({@code DefaultWriteRequest} duplicates every buffer), so the handler of the written message
     * frees the buffer itself, and nothing may use it after.
     */
    public static void written(Object message) {
        if (message instanceof IoBuffer) {
            ((IoBuffer) message).free();
        }
    }

    /** Whether reads of {@code connection} may go into pooled buffers. */
    public static boolean allowed(IoSession connection) {
        return connection.containsAttribute(POOLED);
    }
}
