package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.IoSession;

/** The backend connection during a {@link BackendLogin}: where it goes and how to write to it. */
public final class Backend {

    private final IoSession connection;

    Backend(IoSession connection) {
        this.connection = connection;
    }

    /** The backend's address. */
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) connection.getRemoteAddress();
    }

    /** The proxy's side of the connection. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) connection.getLocalAddress();
    }

    /** Sends bytes; the array is sent as it is later, so it must not change afterwards. */
    public void write(byte[] bytes) {
        Bytes.write(connection, bytes);
    }

    /** Sends text, UTF-8 encoded (ASCII for mail commands). */
    public void write(CharSequence text) {
        Bytes.write(connection, text);
    }

    /** Sends the remaining bytes of a buffer, which then belongs to the connection. */
    public void write(IoBuffer data) {
        Bytes.write(connection, data);
    }
}
