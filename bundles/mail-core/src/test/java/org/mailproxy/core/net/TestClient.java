package org.mailproxy.core.net;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A blocking line client with a read timeout, so a broken proxy fails a test instead of hanging it. */
public final class TestClient implements Closeable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private TestClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(5000);
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static TestClient connect(String host, int port) throws IOException {
        return new TestClient(new Socket(InetAddress.getByName(host), port));
    }

    /** Connects with a small receive buffer, set before connecting so the window stays small. */
    public static TestClient connectWithReceiveBuffer(String host, int port, int rcvbuf) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(rcvbuf);
        socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), 5000);
        return new TestClient(socket);
    }

    /** The next line without CR LF, or null at EOF. */
    public String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.UTF_8);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
    }

    public void send(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** True when the peer closes the connection (EOF or reset) before the read timeout, false if data comes. */
    public boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    public InputStream in() {
        return in;
    }

    public OutputStream out() {
        return out;
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
