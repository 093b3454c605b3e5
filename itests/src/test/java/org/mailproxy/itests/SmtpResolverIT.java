package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.mailproxy.itests.fixtures.AuthHttpServer;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The client's host name from the real resolver bundle (the HostResolver service, directives
 * {@code resolver ADDR:PORT valid=…}) against a real DNS server, end to end through Karaf: a dnsmasq
 * started by the test on a free loopback port answers the PTR of 127.0.0.1 (and the forward lookup
 * that nginx's check needs); the auth server sees it as {@code Client-Host}, and with
 * {@code xclient on} the real Postfix logs it as the client name from XCLIENT NAME=. A PTR whose
 * forward lookup does not contain 127.0.0.1 gives {@code [UNAVAILABLE]}, which Postfix logs as
 * {@code unknown}.
 */
public class SmtpResolverIT extends MailProxyTestSupport {

    private static final String SMTP_BUNDLE = "org.mailproxy.smtp";
    private static final String RESOLVER_BUNDLE = "org.mailproxy.resolver";

    @Inject
    private ConfigurationAdmin configAdmin;

    private AuthHttpServer auth;
    private Process dnsmasq;
    private Path dnsmasqLog;
    private final List<Configuration> servers = new ArrayList<>();
    private final List<LineClient> clients = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        awaitBundleState(SMTP_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        awaitBundleState(RESOLVER_BUNDLE, Bundle.ACTIVE, DEFAULT_TIMEOUT);
        auth = AuthHttpServer.start(port("auth_http")).failureWait(1);
    }

    @After
    public void tearDown() throws Exception {
        for (LineClient c : clients) {
            c.close();
        }
        for (Configuration server : servers) {
            server.delete();
        }
        if (auth != null) {
            auth.close();
        }
        stopDnsmasq();
        dnsmasqLog = null;
    }

    @Test
    public void resolvedNameReachesAuthServerAndPostfix() throws Exception {
        int dns = startDnsmasq("--ptr-record=1.0.0.127.in-addr.arpa,client.test.example",
                "--host-record=client.test.example,127.0.0.1");
        int port = server("itest-smtp-resolver", "xclient", "on",
                "resolver", "127.0.0.1:" + dns + " valid=1s", "resolver_timeout", "5s");
        long mark = MailBackends.postfixLogMark();
        sendAsAlice(port, "smtpresolverit-named");

        AuthHttpServer.Request r = auth.requests().get(0);
        assertEquals("alice", r.user());
        assertEquals("client.test.example", r.header("Client-Host"));
        String line = MailBackends.awaitPostfixLog("sasl_username=alice", mark, Duration.ofSeconds(10));
        assertTrue(line, line.contains("client=client.test.example[127.0.0.1]"));
        assertTrue(log(), log().contains("query[PTR] 1.0.0.127.in-addr.arpa"));
        assertTrue(log(), log().contains("query[A] client.test.example"));
    }

    @Test
    public void ptrWithoutMatchingForwardIsUnavailable() throws Exception {
        int dns = startDnsmasq("--ptr-record=1.0.0.127.in-addr.arpa,liar.test.example",
                "--host-record=liar.test.example,127.0.0.2");
        int port = server("itest-smtp-resolver-liar", "xclient", "on",
                "resolver", "127.0.0.1:" + dns + " valid=1s", "resolver_timeout", "5s");
        long mark = MailBackends.postfixLogMark();
        sendAsAlice(port, "smtpresolverit-liar");

        AuthHttpServer.Request r = auth.requests().get(0);
        assertEquals("alice", r.user());
        assertEquals("[UNAVAILABLE]", r.header("Client-Host"));
        String line = MailBackends.awaitPostfixLog("sasl_username=alice", mark, Duration.ofSeconds(10));
        assertTrue(line, line.contains("client=unknown[127.0.0.1]"));
        // the forward lookup was really asked, and its answer (127.0.0.2 only) rejected the name
        assertTrue(log(), log().contains("query[PTR] 1.0.0.127.in-addr.arpa"));
        assertTrue(log(), log().contains("query[A] liar.test.example"));
    }

    // ---------------------------------------------------------------- helpers

    private void sendAsAlice(int port, String id) throws Exception {
        LineClient c = new LineClient("127.0.0.1", port, Duration.ofSeconds(20));
        clients.add(c);
        assertEquals("220 mail.test.example ESMTP ready", c.readLine());
        c.send("EHLO client.example");
        c.readSmtpReply();
        String auth64 = Base64.getEncoder().encodeToString(
                ("\0alice\0" + MailBackends.USERS.get("alice")).getBytes(StandardCharsets.UTF_8));
        assertEquals("235 2.0.0 OK", c.command("AUTH PLAIN " + auth64));
        assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<sender@client.example>"));
        assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<alice@test.example>"));
        c.send("DATA");
        assertTrue(last(c).startsWith("354"));
        c.sendRaw(("X-Test-Id: " + id + "\r\nFrom: sender@client.example\r\nTo: alice@test.example\r\n"
                + "Subject: resolver\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
        c.send(".");
        String queued = last(c);
        assertTrue(queued, queued.startsWith("250 2.0.0 Ok: queued"));
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        MailBackends.awaitDelivery("alice", "X-Test-Id: " + id, Duration.ofSeconds(20));
    }

    private static String last(LineClient c) throws IOException {
        List<String> lines = c.readSmtpReply();
        return lines.get(lines.size() - 1);
    }

    /** Adds an smtp server through Config Admin and waits until it listens. */
    private int server(String alias, String... directives) throws Exception {
        return addServer(configAdmin, servers, alias, "127.0.0.1:%d", concat(new String[] {"protocol", "smtp"}, directives));
    }

    // ---------------------------------------------------------------- dnsmasq

    /** Starts a real dnsmasq on 127.0.0.1 and a free port answering only from these options; returns the port. */
    private int startDnsmasq(String... records) throws Exception {
        String binary = dnsmasqBinary();
        List<String> tried = new ArrayList<>();
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freeUdpTcpPort();
            dnsmasqLog = Files.createTempFile("smtpresolverit-dnsmasq-" + port, ".log");
            List<String> command = new ArrayList<>(List.of(binary, "--no-daemon", "--port=" + port,
                    "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                    "--conf-file=/dev/null", "--pid-file", "--log-queries"));
            // authoritative for these zones: an AAAA with no record is NODATA, not REFUSED (no upstream)
            command.addAll(List.of("--local=/test.example/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/"));
            command.addAll(List.of(records));
            dnsmasq = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dnsmasqLog.toFile()).start();
            if (answers(port)) {
                return port;
            }
            tried.add("port " + port + ": " + log());
            stopDnsmasq();
            dnsmasqLog = null;
        }
        fail("dnsmasq did not start and answer on 127.0.0.1:\n" + String.join("\n", tried));
        return -1;
    }

    /** /usr/sbin/dnsmasq (Debian's dnsmasq-base), installed with apt-get first when missing and running as root. */
    private static synchronized String dnsmasqBinary() throws Exception {
        File binary = new File("/usr/sbin/dnsmasq");
        if (!binary.canExecute() && "root".equals(System.getProperty("user.name"))) {
            ProcessBuilder update = new ProcessBuilder("apt-get", "update", "-q").inheritIO();
            update.environment().put("DEBIAN_FRONTEND", "noninteractive");
            update.start().waitFor();
            ProcessBuilder install = new ProcessBuilder("apt-get", "install", "-y", "-q", "dnsmasq-base").inheritIO();
            install.environment().put("DEBIAN_FRONTEND", "noninteractive");
            install.start().waitFor();
        }
        if (!binary.canExecute()) {
            fail("dnsmasq is missing: install the Debian package dnsmasq-base");
        }
        return binary.getPath();
    }

    /** Whether dnsmasq answers a DNS query over UDP within 15 s (a hand-built query for "ready.probe" A). */
    private boolean answers(int port) throws Exception {
        ByteArrayBuilder q = new ByteArrayBuilder();
        q.bytes(0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
        for (String label : List.of("ready", "probe")) {
            q.bytes(label.length());
            for (char ch : label.toCharArray()) {
                q.bytes(ch);
            }
        }
        q.bytes(0x00, 0x00, 0x01, 0x00, 0x01);
        byte[] query = q.toArray();
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(300);
            while (System.nanoTime() < end && dnsmasq.isAlive()) {
                socket.send(new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), port));
                byte[] buf = new byte[512];
                DatagramPacket reply = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(reply);
                    if (reply.getLength() >= 12 && buf[0] == 0x12 && buf[1] == 0x34) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    // not yet
                } catch (IOException e) {
                    Thread.sleep(100); // ICMP port unreachable: not listening yet
                }
            }
        }
        return false;
    }

    private void stopDnsmasq() throws InterruptedException {
        if (dnsmasq != null) {
            dnsmasq.destroy();
            if (!dnsmasq.waitFor(5, TimeUnit.SECONDS)) {
                dnsmasq.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            dnsmasq = null;
        }
        if (dnsmasqLog != null) {
            try {
                Files.deleteIfExists(dnsmasqLog);
            } catch (IOException e) {
                // only a leftover temporary file
            }
        }
    }

    private String log() {
        try {
            return dnsmasqLog != null && Files.exists(dnsmasqLog)
                    ? Files.readString(dnsmasqLog, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(dnsmasq log unreadable: " + e + ")";
        }
    }

    private static final class ByteArrayBuilder {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        void bytes(int... values) {
            for (int v : values) {
                out.write(v);
            }
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }

    // ---------------------------------------------------------------- ports

    /** A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
    private static int freeUdpTcpPort() throws IOException {
        for (int i = 0; i < 50; i++) {
            try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                int port = udp.getLocalPort();
                try (ServerSocket tcp = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                    return port;
                } catch (IOException e) {
                    // taken for TCP: try another
                }
            }
        }
        throw new IOException("no port free for both UDP and TCP on 127.0.0.1");
    }

}
