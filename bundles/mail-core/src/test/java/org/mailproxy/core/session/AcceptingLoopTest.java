package org.mailproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The I/O threads accepting in their own loops, with real listening sockets. */
class AcceptingLoopTest {

    private IoThreadPool threads;
    private ServerSocketChannel listener;
    private final BlockingQueue<Accepted> accepted = new ArrayBlockingQueue<>(64);

    private record Accepted(boolean onIoThread, SocketChannel connection) {
    }

    @BeforeEach
    void start() throws Exception {
        threads = new IoThreadPool(2);
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        listener.configureBlocking(false);
    }

    @AfterEach
    void stop() throws Exception {
        threads.dispose();
        listener.close();
        for (Accepted a : accepted) {
            a.connection().close();
        }
    }

    private void record(SocketChannel connection) {
        accepted.add(new Accepted(IoThreadPool.current() != null, connection));
    }

    @Test
    void everyConnectionIsAcceptedOnceByAnIoThread() throws Exception {
        threads.startAccepting(listener, this::record);
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        for (int i = 0; i < 20; i++) {
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
                Accepted a = accepted.poll(5, TimeUnit.SECONDS);
                assertTrue(a != null && a.onIoThread(), "accepted on an I/O thread");
                assertEquals(client.getLocalPort(), ((InetSocketAddress) a.connection().getRemoteAddress()).getPort());
            }
        }
        Thread.sleep(100);
        assertEquals(0, accepted.size(), "no connection accepted twice, none made up");
    }

    @Test
    void aStoppedListenerFreesItsPortAtOnce() throws Exception {
        threads.startAccepting(listener, this::record);
        InetSocketAddress address = (InetSocketAddress) listener.getLocalAddress();
        new Socket(address.getAddress(), address.getPort()).close();
        assertTrue(accepted.poll(5, TimeUnit.SECONDS) != null);

        threads.stopAccepting(listener);
        listener.close(); // the socket closes only once no selector holds it any more
        assertThrows(ConnectException.class, () -> new Socket(address.getAddress(), address.getPort()).close());
        try (ServerSocketChannel again = ServerSocketChannel.open()) {
            again.bind(address); // a reload may bind the same port again right away
        }
    }

    @Test
    void disposingWhileListeningEndsTheLoops() {
        threads.startAccepting(listener, this::record);
        assertTimeoutPreemptively(Duration.ofSeconds(5), threads::dispose,
                "the listening keys must not keep the loops from ending (the pool gives up after 10 s)");
    }
}
