package org.mailproxy.core.net;

import java.net.InetSocketAddress;

/**
 * What became of one {@link ListenBinding} after {@link ListenerSet#apply}.
 *
 * @param binding the binding
 * @param socket  the local address of the socket that serves it (with the real port when the listen
 *                asked for port 0), or null when it failed; several bindings may share one socket
 * @param error   null when bound, else the reason in nginx's words, such as
 *                {@code bind() to 0.0.0.0:143 failed (98: Address already in use)}
 */
public record BindingState(ListenBinding binding, InetSocketAddress socket, String error) {

    /** Whether connections to this listen are being accepted. */
    public boolean bound() {
        return error == null;
    }
}
