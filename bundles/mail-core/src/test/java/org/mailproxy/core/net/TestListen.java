package org.mailproxy.core.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.time.Duration;
import org.mailproxy.core.config.ListenSpec;

/** Builds {@link ListenSpec}s for tests, as the config parser would. */
public final class TestListen {

    private final InetSocketAddress address;
    private boolean bind;
    private Boolean ipv6only;
    private int backlog = -1;
    private int rcvbuf = -1;
    private int sndbuf = -1;
    private boolean reuseport;
    private ListenSpec.KeepAlive keepalive;

    private TestListen(InetSocketAddress address) {
        this.address = address;
    }

    public static TestListen on(String host, int port) {
        try {
            return new TestListen(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (UnknownHostException e) {
            throw new UncheckedIOException(e);
        }
    }

    public TestListen bind() {
        bind = true;
        return this;
    }

    public TestListen ipv6only(boolean on) {
        ipv6only = on;
        return this;
    }

    public TestListen backlog(int value) {
        backlog = value;
        return this;
    }

    public TestListen rcvbuf(int value) {
        rcvbuf = value;
        return this;
    }

    public TestListen sndbuf(int value) {
        sndbuf = value;
        return this;
    }

    public TestListen reuseport() {
        reuseport = true;
        return this;
    }

    public TestListen keepalive(Duration idle, Duration interval, Integer count) {
        keepalive = new ListenSpec.KeepAlive(true, idle, interval, count);
        return this;
    }

    /** {@code so_keepalive=on} or {@code so_keepalive=off}. */
    public TestListen keepalive(boolean on) {
        keepalive = new ListenSpec.KeepAlive(on, null, null, null);
        return this;
    }

    public ListenSpec spec() {
        return new ListenSpec(address, null, false, false, backlog, rcvbuf, sndbuf, bind, ipv6only, reuseport,
                keepalive, "test.conf", 1);
    }

    /** A port nothing listens on right now. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether ::1 can be bound here. */
    public static boolean ipv6Loopback() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
