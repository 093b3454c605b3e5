package org.mailproxy.core.spi;

import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.session.MailSession;

/**
 * The protocol's side of one client session before the relay starts: greeting, command parsing,
 * authentication and the decision to connect to a backend (nginx: a protocol's
 * {@code init_session} and {@code auth_state} handlers).
 *
 * <p>The core calls these methods one at a time, never concurrently, with the session's lock held
 * (see {@link MailSession#execute}). They must not block: authentication and DNS answer later, on
 * other threads, through {@link MailSession#execute}.
 *
 * <p>Once {@link MailSession#startRelay} is called the core forgets the handler: no further
 * calls, not even {@link #onClose()}.
 */
public interface ProtocolHandler {

    /** The connection is ready: send the greeting (or arm {@code smtp_greeting_delay}). */
    void onStart();

    /**
     * Bytes from the client, exactly as read; parse them byte by byte and keep the parser state
     * between calls, as nginx's resumable parsers do.
     *
     * <p>Consume bytes by advancing the buffer's position. Bytes still remaining when the method
     * returns are kept by the core and handed back first, ahead of newly read bytes, on the next
     * call; if the relay starts before that, they are sent to the backend ahead of everything else
     * (pipelined commands after a login). To stop at a command boundary while an answer is
     * pending, call {@link MailSession#suspendReading()} and return with the rest unconsumed. The
     * buffer must not be used after the method returns. A handler that leaves bytes unconsumed
     * while reading is not suspended waits for more of a line and must bound that line itself
     * (nginx: {@code imap_client_buffer} and friends).
     *
     * @param data the bytes read, position at the first unconsumed byte
     */
    void onData(IoBuffer data);

    /**
     * Nothing arrived from the client for the server's {@code timeout}. The core closes the session
     * after this returns, once anything written here is sent. nginx sends nothing and only logs
     * "client timed out"; the default does the same.
     */
    default void onTimeout() {
    }

    /**
     * The session is closed (by either side, a limit, a timeout or shutdown) before the relay
     * started. Release what the handler holds, such as a pending authentication. Writing is
     * pointless here.
     */
    default void onClose() {
    }
}
