package org.mailproxy.core.session;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A scripted backend on 127.0.0.1: each accepted connection runs the script on its own thread. */
public final class TestBackend implements Closeable {

    /** What the backend does with one connection. */
    public interface Script {
        void serve(Socket socket) throws Exception;
    }

    private final ServerSocket server;
    private final CompletableFuture<Void> firstDone = new CompletableFuture<>();

    private TestBackend(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    Thread worker = new Thread(() -> {
                        try (socket) {
                            socket.setSoTimeout(10_000);
                            script.serve(socket);
                            firstDone.complete(null);
                        } catch (Throwable e) {
                            firstDone.completeExceptionally(e);
                        }
                    }, "test-backend-connection");
                    worker.setDaemon(true);
                    worker.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "test-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static TestBackend start(Script script) throws IOException {
        return new TestBackend(script);
    }

    /** The proxy's MINA connection to the backend of {@code session} (its write queue), or null. */
    public static org.apache.mina.core.session.IoSession proxyConnection(MailSession session) {
        return session.backendConnection();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Waits for the first connection's script to end, rethrowing what it threw (its assertions). */
    public void awaitScript() throws InterruptedException, TimeoutException {
        try {
            firstDone.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error error) {
                throw error;
            }
            throw new AssertionError("backend script failed", cause);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
