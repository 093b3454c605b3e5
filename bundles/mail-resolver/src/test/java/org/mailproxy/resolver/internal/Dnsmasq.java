package org.mailproxy.resolver.internal;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.mailproxy.core.util.InetText;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A real dnsmasq on 127.0.0.1 (or ::1) and a free high port, run as a child process for one test or test
 * class. It answers only from its options (no /etc/hosts, no /etc/resolv.conf, no upstream unless
 * given). Starting it fails the test, with the reason and dnsmasq's own output, when the binary is
 * missing (Debian package dnsmasq-base, src/test/dnsmasq-install.sh) or it does not answer.
 */
final class Dnsmasq implements AutoCloseable {

    private static final Duration READY = Duration.ofSeconds(15);

    /** The name asked to see whether dnsmasq answers yet. */
    private static final String PROBE = "ready.probe";

    private final Process process;
    private final InetAddress listen;
    private final int port;
    private final Path log;

    private Dnsmasq(Process process, InetAddress listen, int port, Path log) {
        this.process = process;
        this.listen = listen;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts dnsmasq with these options besides the fixed ones (no daemon, 127.0.0.1 only, no
     * resolv.conf, no hosts file, queries logged) and waits until it answers.
     */
    static Dnsmasq start(Path dir, String... options) {
        return start(dir, InetAddress.getLoopbackAddress(), options);
    }

    /**
     * {@link #start(Path, String...)} on the IPv6 loopback address {@code ::1}. A host without one
     * fails the test here, saying so: the test is about IPv6 and means nothing without it.
     */
    static Dnsmasq startOnIpv6Loopback(Path dir, String... options) {
        InetAddress v6;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("::1", 0))) {
            v6 = probe.getLocalAddress();
        } catch (IOException e) {
            throw new AssertionError("this host has no IPv6 loopback address ::1 (see `ip -6 addr show lo`;"
                    + " net.ipv6.conf.lo.disable_ipv6 must be 0): " + e, e);
        }
        return start(dir, v6, options);
    }

    private static Dnsmasq start(Path dir, InetAddress listen, String... options) {
        String binary = binary();
        List<String> tried = new ArrayList<>();
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freePort(listen);
            Path log = dir.resolve("dnsmasq-" + port + ".log");
            List<String> command = new ArrayList<>(List.of(binary, "--no-daemon", "--port=" + port,
                    "--listen-address=" + listen.getHostAddress(), "--bind-interfaces", "--no-resolv", "--no-hosts",
                    "--conf-file=/dev/null", "--pid-file", "--log-queries"));
            command.addAll(List.of(options));
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new AssertionError("dnsmasq could not be started (" + binary + ": " + e.getMessage()
                        + "). The resolver tests need a real DNS server: install the Debian package dnsmasq-base"
                        + " (bundles/mail-resolver/src/test/dnsmasq-install.sh), or give its path with"
                        + " -Dmailproxy.dnsmasq=/path/to/dnsmasq", e);
            }
            Dnsmasq server = new Dnsmasq(process, listen, port, log);
            if (server.awaitReady()) {
                return server;
            }
            tried.add("port " + port + ": " + server.output());
            server.close();
        }
        throw new AssertionError("dnsmasq did not start and answer on " + listen.getHostAddress() + " (" + binary + " "
                + String.join(" ", options) + "):\n" + String.join("\n", tried));
    }

    /**
     * The binary, as {@link #find()} finds it. On a fresh machine where it is missing and the tests
     * run as root, the Debian package is installed first with src/test/dnsmasq-install.sh, so that
     * the README's single test command works on a machine that has only Java, Maven and apt.
     */
    private static synchronized String binary() {
        String found = find();
        if (!found.contains(File.separator) && "root".equals(System.getProperty("user.name"))) {
            File script = new File("src/test/dnsmasq-install.sh");
            if (script.isFile()) {
                try {
                    Process install = new ProcessBuilder("bash", script.getPath()).inheritIO().start();
                    install.waitFor();
                } catch (IOException e) {
                    throw new AssertionError("running " + script + " failed: " + e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                found = find();
            }
        }
        return found;
    }

    /** The binary: -Dmailproxy.dnsmasq (a path or a name), searched on PATH and in the sbin folders. */
    private static String find() {
        String configured = System.getProperty("mailproxy.dnsmasq", "dnsmasq");
        if (configured.isBlank()) {
            configured = "dnsmasq";
        }
        if (configured.contains(File.separator)) {
            return configured;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        List<String> dirs = new ArrayList<>(List.of(path.split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/local/sbin"));
        for (String dir : dirs) {
            if (!dir.isEmpty()) {
                File f = new File(dir, configured);
                if (f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        return configured;
    }

    /** A port free for both UDP and TCP on this address (dnsmasq binds both). */
    private static int freePort(InetAddress listen) {
        for (int i = 0; i < 50; i++) {
            try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(listen, 0))) {
                int port = udp.getLocalPort();
                try (ServerSocket tcp = new ServerSocket(port, 1, listen)) {
                    return port;
                } catch (IOException e) {
                    // taken for TCP: try another
                }
            } catch (IOException e) {
                throw new AssertionError("no free UDP port on " + listen.getHostAddress(), e);
            }
        }
        throw new AssertionError("no port free for both UDP and TCP on " + listen.getHostAddress());
    }

    private boolean awaitReady() {
        long end = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                SimpleResolver probe = new SimpleResolver(address());
                probe.setTimeout(Duration.ofMillis(300));
                Message q = Message.newQuery(Record.newRecord(Name.fromConstantString(PROBE + "."), Type.A, DClass.IN));
                probe.send(q);
                return true;
            } catch (IOException e) {
                sleep(100);
            }
        }
        return false;
    }

    InetSocketAddress address() {
        return new InetSocketAddress(listen, port);
    }

    /** {@code 127.0.0.1:PORT} or {@code [::1]:PORT}, as a resolver argument. */
    String endpoint() {
        return InetText.hostPort(address());
    }

    int port() {
        return port;
    }

    /** What dnsmasq printed (its query log). */
    String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** How many queries of this type for this name dnsmasq logged receiving from a client. */
    long queries(String type, String name) {
        String needle = "query[" + type + "] " + name + " from";
        return output().lines().filter(l -> l.contains(needle)).count();
    }

    /** How many queries dnsmasq logged receiving, its own readiness probes left out. */
    long clientQueries() {
        return output().lines().filter(l -> l.contains("query[") && !l.contains(PROBE)).count();
    }

    /** Stops dnsmasq and waits until it is gone, so its port no longer answers. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
