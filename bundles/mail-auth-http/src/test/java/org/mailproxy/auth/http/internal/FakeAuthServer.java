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
 * Each connection: read the request up to the empty line, record it, then let the script answer;
 * when the script calls {@link Conn#keepOpen()}, read the next request on the same connection
 * (HTTP keep-alive), else close it.
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
        private int served;
        private boolean next;
        private volatile byte[] current = new byte[0];

        Conn(InputStream in, OutputStream out, Closeable socket) {
            this.in = in;
            this.out = out;
            this.socket = socket;
        }

        /** Requests read on this connection so far, the one being answered included (1 for the first). */
        int served() {
            return served;
        }

        /** The request being answered, as text. */
        String request() {
            return new String(current, StandardCharsets.ISO_8859_1);
        }

        /** After this answer, wait for the next request on this connection instead of closing it. */
        void keepOpen() {
            next = true;
        }

        /** Closes with a TCP reset (SO_LINGER 0) instead of a FIN. */
        void reset() throws IOException {
            if (socket instanceof Socket s) {
                s.setSoLinger(true, 0);
            }
            socket.close();
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

    /** Answers with this text and keeps the connection for the next request. */
    static Script replyKeep(String text) {
        return (i, c) -> {
            c.send(text);
            c.keepOpen();
        };
    }

    /** One script per request on a connection (1st, 2nd, ...), in order; the last one repeats. */
    static Script perRequest(Script... scripts) {
        return (i, c) -> scripts[Math.min(c.served() - 1, scripts.length - 1)].answer(i, c);
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
    private final BlockingQueue<Integer> clientClosed = new LinkedBlockingQueue<>();
    private final AtomicInteger openConnections = new AtomicInteger();
    private final AtomicInteger pipelined = new AtomicInteger();
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

    /**
     * Waits until the client closed a connection kept open for a next request ({@link Conn#keepOpen()});
     * the connection's index, or -1 when none did within 10 s.
     */
    int awaitClientClose() throws InterruptedException {
        Integer index = clientClosed.poll(10, TimeUnit.SECONDS);
        return index == null ? -1 : index;
    }

    /** Whether the client closed a kept connection within this time. */
    boolean clientClosedWithin(long millis) throws InterruptedException {
        return clientClosed.poll(millis, TimeUnit.MILLISECONDS) != null;
    }

    /** Connections accepted and not closed yet. */
    int openConnections() {
        return openConnections.get();
    }

    /** Requests that arrived while the previous one on the same connection was not answered yet. */
    int pipelined() {
        return pipelined.get();
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
            openConnections.incrementAndGet();
            Thread t = new Thread(() -> serve(index, conn), "fake-auth-conn-" + index);
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(int index, Conn conn) {
        try {
            while (true) {
                byte[] request;
                try {
                    request = readRequest(conn.in);
                } catch (IOException e) {
                    if (conn.served > 0) {
                        clientClosed.add(index);
                    }
                    throw e;
                }
                if (request.length == 0 && conn.served > 0) {
                    // the client closed the connection kept for it
                    clientClosed.add(index);
                    break;
                }
                arrivals.add(System.nanoTime());
                requests.add(request);
                conn.served++;
                conn.current = request;
                conn.next = false;
                if (conn.in.available() > 0) {
                    pipelined.incrementAndGet();
                }
                script.answer(index, conn);
                if (!conn.next) {
                    break;
                }
            }
            peerClosed.add(index);
        } catch (IOException | InterruptedException e) {
            peerClosed.add(index);
        } finally {
            openConnections.decrementAndGet();
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
