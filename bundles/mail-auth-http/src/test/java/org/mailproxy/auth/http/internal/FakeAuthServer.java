package org.mailproxy.auth.http.internal;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real auth server for the tests, on 127.0.0.1 (TCP) or a unix socket, written on raw sockets so
 * that it can record the exact request bytes and answer anything, malformed or partial included.
 * Each connection: read the request up to the empty line, record it, then let the script answer.
 */
final class FakeAuthServer implements Closeable {

    /** What the server does on one connection after reading the request. */
    @FunctionalInterface
    interface Script {
        void answer(int index, Conn conn) throws IOException, InterruptedException;
    }

    /** One accepted connection. */
    static final class Conn {
        final InputStream in;
        final OutputStream out;
        private final Closeable socket;

        Conn(InputStream in, OutputStream out, Closeable socket) {
            this.in = in;
            this.out = out;
            this.socket = socket;
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Keeps the connection open without answering until the peer closes it (or a long time). */
        void hang() throws IOException {
            byte[] b = new byte[256];
            while (in.read(b) >= 0) {
                // discard
            }
        }

        void close() throws IOException {
            socket.close();
        }
    }

    /** Answers with this text and closes, as an HTTP/1.0 server. */
    static Script reply(String text) {
        return (i, c) -> {
            c.send(text);
            c.close();
        };
    }

    /** {@code HTTP/1.0 200 OK} with these header lines (CRLF after each), an empty line, close. */
    static Script headers(String... lines) {
        StringBuilder b = new StringBuilder("HTTP/1.0 200 OK\r\n");
        for (String l : lines) {
            b.append(l).append("\r\n");
        }
        return reply(b.append("\r\n").toString());
    }

    /** One script per connection, in order; the last one repeats. */
    static Script sequence(Script... scripts) {
        return (i, c) -> scripts[Math.min(i, scripts.length - 1)].answer(i, c);
    }

    private final Object listener;
    private final Thread thread;
    private final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>();
    private final List<Long> arrivals = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final BlockingQueue<Integer> peerClosed = new LinkedBlockingQueue<>();
    private final List<Closeable> open = new CopyOnWriteArrayList<>();
    private final Path unixPath;
    private volatile Script script;
    private volatile boolean closed;

    private FakeAuthServer(Object listener, Path unixPath, Script script) {
        this.listener = listener;
        this.unixPath = unixPath;
        this.script = script;
        this.thread = new Thread(this::acceptLoop, "fake-auth-server");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    static FakeAuthServer tcp(Script script) throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        return new FakeAuthServer(s, null, script);
    }

    static FakeAuthServer unix(Path path, Script script) throws IOException {
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ch.bind(UnixDomainSocketAddress.of(path));
        return new FakeAuthServer(ch, path, script);
    }

    void script(Script s) {
        this.script = s;
    }

    int port() {
        return ((ServerSocket) listener).getLocalPort();
    }

    /** {@code 127.0.0.1:PORT} */
    String address() {
        return "127.0.0.1:" + port();
    }

    /** The next recorded request, waiting up to 10 s. */
    byte[] request() throws InterruptedException {
        byte[] r = requests.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request reached the auth server");
        }
        return r;
    }

    String requestText() throws InterruptedException {
        return new String(request(), StandardCharsets.ISO_8859_1);
    }

    /** System.nanoTime() of each request's arrival, in order. */
    List<Long> arrivals() {
        return arrivals;
    }

    int connections() {
        return connections.get();
    }

    /** Waits until the client closed a connection that the script kept open (hang()). */
    boolean awaitPeerClose() throws InterruptedException {
        return peerClosed.poll(10, TimeUnit.SECONDS) != null;
    }

    private void acceptLoop() {
        while (!closed) {
            Conn conn;
            try {
                if (listener instanceof ServerSocket s) {
                    Socket socket = s.accept();
                    open.add(socket);
                    conn = new Conn(socket.getInputStream(), socket.getOutputStream(), socket);
                } else {
                    SocketChannel ch = ((ServerSocketChannel) listener).accept();
                    open.add(ch);
                    conn = new Conn(Channels.newInputStream(ch), Channels.newOutputStream(ch), ch);
                }
            } catch (IOException e) {
                return;
            }
            int index = connections.getAndIncrement();
            Thread t = new Thread(() -> serve(index, conn), "fake-auth-conn-" + index);
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(int index, Conn conn) {
        try {
            byte[] request = readRequest(conn.in);
            arrivals.add(System.nanoTime());
            requests.add(request);
            script.answer(index, conn);
            peerClosed.add(index);
        } catch (IOException | InterruptedException e) {
            peerClosed.add(index);
        } finally {
            try {
                conn.close();
            } catch (IOException e) {
                // ignore
            }
        }
    }

    /** Up to and including the empty line (or whatever came before EOF). */
    private static byte[] readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            if (c == '\r' && (state == 0 || state == 2)) {
                state++;
            } else if (c == '\n' && (state == 1 || state == 3)) {
                state++;
                if (state == 4) {
                    break;
                }
            } else {
                state = c == '\r' ? 1 : 0;
            }
        }
        return b.toByteArray();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        ((Closeable) listener).close();
        for (Closeable c : open) {
            try {
                c.close();
            } catch (IOException e) {
                // ignore
            }
        }
        if (unixPath != null) {
            Files.deleteIfExists(unixPath);
        }
    }
}
