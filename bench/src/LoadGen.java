import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load generator of the mail proxy benchmark (bench/run.sh). Blocking sockets, one thread per
 * concurrent client; every loop is bounded by a deadline and every read by a socket timeout.
 *
 *   sessions PROTO PORT CONC SECONDS USERS CPU_PID      sessions/s, login p50/p99, CPU s per 1000
 *   bulk     PROTO PORT CONC COUNT   BULKUSER CPU_PID   MB/s of 5 MB messages, CPU s per GB
 *   idle     PORT N SECONDS USERS RSS_PID [JVM_PID]     RSS per idle authenticated IMAP session
 *   responder PORT SECONDS                             a trivial IMAP/POP3/SMTP server (see Responder)
 *
 * PROTO is imap, pop3 or smtp; USERS is "user:pass,user:pass"; CPU_PID / RSS_PID is the root of a
 * process tree whose utime+stime (or VmRSS) is summed over the root and its descendants
 * (0: not measured). Prints one "RESULT key=value ..." line.
 */
public final class LoadGen {
    static final String HOST = "127.0.0.1";
    static final int TIMEOUT_MS = 15_000;
    static final int BULK_SIZE = 5 * 1024 * 1024;

    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "sessions" -> sessions(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]),
                    Integer.parseInt(a[4]), users(a[5]), Integer.parseInt(a[6]));
            case "bulk" -> bulk(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]),
                    Integer.parseInt(a[4]), users(a[5])[0], Integer.parseInt(a[6]));
            case "idle" -> idle(Integer.parseInt(a[1]), Integer.parseInt(a[2]), Integer.parseInt(a[3]),
                    users(a[4]), Integer.parseInt(a[5]), a.length > 6 ? Integer.parseInt(a[6]) : 0);
            case "message" -> Files.write(Path.of(a[1]), bulkMessage());
            case "responder" -> Responder.run(Integer.parseInt(a[1]), Integer.parseInt(a[2]));
            default -> throw new IllegalArgumentException(a[0]);
        }
    }

    static String[][] users(String s) {
        String[] parts = s.split(",");
        String[][] u = new String[parts.length][];
        for (int i = 0; i < parts.length; i++) u[i] = parts[i].split(":", 2);
        return u;
    }

    // ---------------------------------------------------------------- sessions/s

    static void sessions(String proto, int port, int conc, int seconds, String[][] users, int cpuPid)
            throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicLong ok = new AtomicLong(), errors = new AtomicLong();
        List<long[]> lat = new ArrayList<>();
        List<String> firstErr = new ArrayList<>();
        Thread[] threads = new Thread[conc];
        double cpu0 = cpuSeconds(cpuPid);
        long t0 = System.nanoTime();
        for (int i = 0; i < conc; i++) {
            final int id = i;
            long[] mine = new long[200_000];
            synchronized (lat) { lat.add(mine); }
            threads[i] = new Thread(() -> {
                int n = 0;
                int k = 0;
                while (System.nanoTime() < deadline && n < mine.length - 1) {
                    String[] u = users[(id + k++) % users.length];
                    try {
                        long l = session(proto, port, u[0], u[1]);
                        mine[++n] = l;
                        ok.incrementAndGet();
                    } catch (Exception e) {
                        if (errors.incrementAndGet() <= 3) synchronized (firstErr) { firstErr.add(String.valueOf(e)); }
                    }
                }
                mine[0] = n;
            });
            threads[i].start();
        }
        for (Thread t : threads) t.join(seconds * 1000L + 2 * TIMEOUT_MS);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        double cpu = cpuSeconds(cpuPid) - cpu0;
        long total = 0;
        for (long[] m : lat) total += m[0];
        long[] all = new long[(int) total];
        int p = 0;
        for (long[] m : lat) for (int i = 1; i <= m[0]; i++) all[p++] = m[i];
        Arrays.sort(all);
        double p50 = all.length == 0 ? 0 : all[all.length / 2] / 1e6;
        double p99 = all.length == 0 ? 0 : all[Math.min(all.length - 1, (int) (all.length * 0.99))] / 1e6;
        System.out.printf(Locale.ROOT, "RESULT sessions=%d errors=%d rate=%.1f p50ms=%.2f p99ms=%.2f cpu=%.2f cpu_per_1000=%.3f%n",
                ok.get(), errors.get(), ok.get() / elapsed, p50, p99, cpu,
                ok.get() == 0 ? 0 : cpu * 1000 / ok.get());
        for (String e : firstErr) System.err.println("loadgen " + proto + " error: " + e);
    }

    /** One session; returns the login latency in ns. */
    static long session(String proto, int port, String user, String pass) throws IOException {
        try (Conn c = new Conn(port)) {
            switch (proto) {
                case "imap": {
                    c.expect("* OK");
                    long t = System.nanoTime();
                    c.send("a1 LOGIN " + user + " " + pass);
                    c.tagged("a1");
                    long l = System.nanoTime() - t;
                    c.send("a2 NOOP");
                    c.tagged("a2");
                    c.send("a3 LOGOUT");
                    c.tagged("a3");
                    return l;
                }
                case "pop3": {
                    c.expect("+OK");
                    long t = System.nanoTime();
                    c.send("USER " + user);
                    c.expect("+OK");
                    c.send("PASS " + pass);
                    c.expect("+OK");
                    long l = System.nanoTime() - t;
                    c.send("STAT");
                    c.expect("+OK");
                    c.send("QUIT");
                    c.expect("+OK");
                    return l;
                }
                case "smtp": {
                    c.smtp("220");
                    c.send("EHLO loadgen.test.example");
                    c.smtp("250");
                    long t = System.nanoTime();
                    c.send("AUTH PLAIN " + Base64.getEncoder().encodeToString(
                            ("\0" + user + "\0" + pass).getBytes(StandardCharsets.UTF_8)));
                    c.smtp("235");
                    long l = System.nanoTime() - t;
                    c.send("MAIL FROM:<" + user + "@test.example>");
                    c.smtp("250");
                    c.send("RCPT TO:<sink@test.example>");
                    c.smtp("250");
                    c.send("DATA");
                    c.smtp("354");
                    c.send("From: <" + user + "@test.example>\r\nTo: <sink@test.example>\r\nSubject: bench\r\n\r\nhello\r\n.");
                    c.smtp("250");
                    c.send("QUIT");
                    c.smtp("221");
                    return l;
                }
                default:
                    throw new IllegalArgumentException(proto);
            }
        }
    }

    // ---------------------------------------------------------------- bulk

    static byte[] bulkMessage() {
        StringBuilder sb = new StringBuilder(BULK_SIZE + 200);
        sb.append("From: <bulk@test.example>\r\nTo: <sink@test.example>\r\nSubject: bulk 5 MB\r\n\r\n");
        String line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJK\r\n"; // 84
        while (sb.length() + line.length() <= BULK_SIZE) sb.append(line);
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static void bulk(String proto, int port, int conc, int count, String[] user, int cpuPid) throws Exception {
        byte[] msg = bulkMessage();
        AtomicLong bytes = new AtomicLong(), done = new AtomicLong(), errors = new AtomicLong(), next = new AtomicLong();
        long deadline = System.nanoTime() + 120_000_000_000L;
        double cpu0 = cpuSeconds(cpuPid);
        long t0 = System.nanoTime();
        Thread[] threads = new Thread[conc];
        for (int i = 0; i < conc; i++) {
            threads[i] = new Thread(() -> {
                while (next.getAndIncrement() < count && System.nanoTime() < deadline) {
                    try {
                        bytes.addAndGet(bulkOne(proto, port, user, msg));
                        done.incrementAndGet();
                    } catch (Exception e) {
                        if (errors.incrementAndGet() <= 3) System.err.println("loadgen bulk " + proto + " error: " + e);
                    }
                }
            });
            threads[i].start();
        }
        for (Thread t : threads) t.join(130_000);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        double cpu = cpuSeconds(cpuPid) - cpu0;
        double gb = bytes.get() / 1e9;
        System.out.printf(Locale.ROOT, "RESULT messages=%d errors=%d mbps=%.1f cpu=%.2f cpu_per_gb=%.2f%n",
                done.get(), errors.get(), bytes.get() / 1e6 / elapsed, cpu, gb == 0 ? 0 : cpu / gb);
    }

    static long bulkOne(String proto, int port, String[] u, byte[] msg) throws IOException {
        try (Conn c = new Conn(port)) {
            switch (proto) {
                case "imap": {
                    c.expect("* OK");
                    c.send("a1 LOGIN " + u[0] + " " + u[1]);
                    c.tagged("a1");
                    c.send("a2 EXAMINE INBOX");
                    c.tagged("a2");
                    c.send("a3 FETCH 1 BODY.PEEK[]");
                    long n = 0;
                    while (true) {
                        String l = c.line();
                        if (l.startsWith("a3 ")) {
                            if (!l.startsWith("a3 OK")) throw new IOException(l);
                            break;
                        }
                        int b = l.lastIndexOf('{');
                        if (l.startsWith("* ") && b > 0 && l.endsWith("}")) {
                            long len = Long.parseLong(l.substring(b + 1, l.length() - 1));
                            c.skip(len);
                            n += len;
                        }
                    }
                    if (n < BULK_SIZE / 2) throw new IOException("short fetch " + n);
                    c.send("a4 LOGOUT");
                    c.tagged("a4");
                    return n;
                }
                case "pop3": {
                    c.expect("+OK");
                    c.send("USER " + u[0]);
                    c.expect("+OK");
                    c.send("PASS " + u[1]);
                    c.expect("+OK");
                    c.send("RETR 1");
                    c.expect("+OK");
                    long n = 0;
                    while (true) {
                        String l = c.line();
                        if (l.equals(".")) break;
                        n += l.length() + 2;
                    }
                    if (n < BULK_SIZE / 2) throw new IOException("short retr " + n);
                    c.send("QUIT");
                    c.expect("+OK");
                    return n;
                }
                case "smtp": {
                    c.smtp("220");
                    c.send("EHLO loadgen.test.example");
                    c.smtp("250");
                    c.send("AUTH PLAIN " + Base64.getEncoder().encodeToString(
                            ("\0" + u[0] + "\0" + u[1]).getBytes(StandardCharsets.UTF_8)));
                    c.smtp("235");
                    c.send("MAIL FROM:<" + u[0] + "@test.example>");
                    c.smtp("250");
                    c.send("RCPT TO:<sink@test.example>");
                    c.smtp("250");
                    c.send("DATA");
                    c.smtp("354");
                    c.out.write(msg);
                    c.send(".");
                    c.smtp("250");
                    c.send("QUIT");
                    c.smtp("221");
                    return msg.length;
                }
                default:
                    throw new IllegalArgumentException(proto);
            }
        }
    }

    // ---------------------------------------------------------------- idle sessions

    /**
     * {@code n} authenticated IMAP sessions held open. RSS of the process tree before and after
     * (a JVM's RSS does not follow its live data: its heap stays committed after earlier load); for
     * a JVM ({@code jvmPid} not 0) also its live heap after a full GC before and after, through
     * {@code jcmd}: the memory the sessions themselves take.
     */
    static void idle(int port, int n, int seconds, String[][] users, int rssPid, int jvmPid) throws Exception {
        long heap0 = liveHeapKb(jvmPid);
        long rss0 = rssKb(rssPid);
        List<Conn> open = new ArrayList<>();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        int errors = 0;
        try {
            // 50 at a time, logged in, then kept open without traffic
            int conc = 50;
            for (int i = 0; i < n && System.nanoTime() < deadline; i += conc) {
                int m = Math.min(conc, n - i);
                Conn[] batch = new Conn[m];
                CountDownLatch latch = new CountDownLatch(m);
                int[] err = new int[1];
                for (int j = 0; j < m; j++) {
                    final int jj = j, idx = i + j;
                    new Thread(() -> {
                        try {
                            Conn c = new Conn(port);
                            c.expect("* OK");
                            String[] u = users[idx % users.length];
                            c.send("a1 LOGIN " + u[0] + " " + u[1]);
                            c.tagged("a1");
                            batch[jj] = c;
                        } catch (Exception e) {
                            synchronized (err) { if (err[0]++ == 0) System.err.println("loadgen idle error: " + e); }
                        } finally {
                            latch.countDown();
                        }
                    }).start();
                }
                latch.await();
                for (Conn c : batch) if (c != null) open.add(c);
                errors += err[0];
            }
            Thread.sleep(2000); // let the processes settle
            long rss1 = rssKb(rssPid);
            long heap1 = liveHeapKb(jvmPid);
            System.out.printf(Locale.ROOT, "RESULT open=%d errors=%d rss0_kb=%d rss1_kb=%d per_session_kb=%.1f whole_per_session_kb=%.1f heap_per_session_kb=%s%n",
                    open.size(), errors, rss0, rss1, open.isEmpty() ? 0 : (rss1 - rss0) / (double) open.size(),
                    open.isEmpty() ? 0 : rss1 / (double) open.size(),
                    jvmPid == 0 || open.isEmpty() ? "-" : String.format(Locale.ROOT, "%.1f", (heap1 - heap0) / (double) open.size()));
        } finally {
            for (Conn c : open) c.close();
        }
    }

    /** A JVM's heap in use (KB) right after a full GC, read with jcmd; 0 when pid is 0. */
    static long liveHeapKb(int pid) throws Exception {
        if (pid == 0) return 0;
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        // one line per generation (serial, parallel) or one for the heap (G1); not Metaspace's
        long kb = 0;
        boolean found = false;
        for (String line : info.split("\n")) {
            var m = java.util.regex.Pattern.compile("(generation|heap|space) +total \\d+K, used (\\d+)K").matcher(line);
            if (m.find() && !line.contains("Metaspace") && !line.contains("class space")) {
                kb += Long.parseLong(m.group(2));
                found = true;
            }
        }
        if (!found) throw new IOException("no heap figure in: " + info);
        return kb;
    }

    static String jcmd(int pid, String command) throws Exception {
        Process p = new ProcessBuilder("jcmd", String.valueOf(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("jcmd " + command + ": " + out);
        return out;
    }

    // ---------------------------------------------------------------- /proc

    /** utime+stime in seconds of pid and its descendants (0 when pid is 0). */
    static double cpuSeconds(int pid) throws IOException {
        if (pid == 0) return 0;
        long ticks = 0;
        for (int p : tree(pid)) {
            String[] f = statFields(p);
            if (f != null) ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
        return ticks / 100.0; // USER_HZ
    }

    static long rssKb(int pid) throws IOException {
        if (pid == 0) return 0;
        long kb = 0;
        for (int p : tree(pid)) {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/" + p + "/status"))) {
                    if (l.startsWith("VmRSS:")) kb += Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            } catch (IOException e) { /* gone */ }
        }
        return kb;
    }

    /** Fields after "(comm)": index 0 = state, 1 = ppid, 11 = utime, 12 = stime. */
    static String[] statFields(int pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    static List<Integer> tree(int root) throws IOException {
        List<int[]> all = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                String[] f = statFields(Integer.parseInt(name));
                if (f != null) all.add(new int[] {Integer.parseInt(name), Integer.parseInt(f[1])});
            }
        }
        List<Integer> out = new ArrayList<>(List.of(root));
        for (int i = 0; i < out.size(); i++) {
            int parent = out.get(i);
            for (int[] pp : all) if (pp[1] == parent) out.add(pp[0]);
        }
        return out;
    }

    // ---------------------------------------------------------------- line protocol

    static final class Conn implements AutoCloseable {
        final Socket s;
        final InputStream in;
        final OutputStream out;
        final ByteArrayOutputStream buf = new ByteArrayOutputStream(256);

        Conn(int port) throws IOException {
            s = new Socket();
            s.setTcpNoDelay(true);
            s.setSoTimeout(TIMEOUT_MS);
            s.connect(new InetSocketAddress(HOST, port), TIMEOUT_MS);
            in = new BufferedInputStream(s.getInputStream(), 65536);
            out = s.getOutputStream();
        }

        void send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String line() throws IOException {
            buf.reset();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) throw new IOException("connection closed" + (buf.size() > 0 ? " after " + buf : ""));
                if (b != '\r') buf.write(b);
            }
            return buf.toString(StandardCharsets.UTF_8);
        }

        void skip(long n) throws IOException {
            while (n > 0) {
                long k = in.skip(n);
                if (k <= 0) {
                    if (in.read() < 0) throw new IOException("closed in literal");
                    k = 1;
                }
                n -= k;
            }
        }

        void expect(String prefix) throws IOException {
            String l = line();
            if (!l.startsWith(prefix)) throw new IOException("expected " + prefix + ", got: " + l);
        }

        void tagged(String tag) throws IOException {
            while (true) {
                String l = line();
                if (l.startsWith(tag + " ")) {
                    if (!l.startsWith(tag + " OK")) throw new IOException(l);
                    return;
                }
            }
        }

        void smtp(String code) throws IOException {
            while (true) {
                String l = line();
                if (l.length() >= 4 && l.charAt(3) == '-') continue;
                if (!l.startsWith(code)) throw new IOException("expected " + code + ", got: " + l);
                return;
            }
        }

        @Override
        public void close() {
            try { s.close(); } catch (IOException e) { /* ignore */ }
        }
    }

    // ---------------------------------------------------------------- the generator's ceiling

    /**
     * The load generator's own ceiling: a server that answers the sessions of {@link #session} with
     * the least work possible (one thread, non-blocking, a canned reply per line, no
     * authentication, nothing stored). Sessions/s against it show what the generator can drive
     * when the server costs next to nothing, so that "direct", nginx and mailproxy figures well
     * below it are the servers' and not the generator's.
     */
    static final class Responder {
        /** Runs three listeners (imap PORT, pop3 PORT+1, smtp PORT+2) for SECONDS. */
        static void run(int port, int seconds) throws IOException {
            try (Selector sel = Selector.open()) {
                String[] protos = {"imap", "pop3", "smtp"};
                for (int i = 0; i < 3; i++) {
                    ServerSocketChannel ss = ServerSocketChannel.open();
                    ss.bind(new InetSocketAddress(HOST, port + i), 1024);
                    ss.configureBlocking(false);
                    ss.register(sel, SelectionKey.OP_ACCEPT, protos[i]);
                }
                long end = System.nanoTime() + seconds * 1_000_000_000L;
                while (System.nanoTime() < end) {
                    sel.select(1000);
                    for (var it = sel.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey k = it.next();
                        it.remove();
                        try {
                            if (k.isAcceptable()) {
                                SocketChannel c = ((ServerSocketChannel) k.channel()).accept();
                                if (c == null) continue;
                                c.configureBlocking(false);
                                c.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                                Peer p = new Peer((String) k.attachment());
                                c.register(sel, SelectionKey.OP_READ, p);
                                c.write(ascii(p.greeting()));
                            } else if (k.isReadable()) {
                                SocketChannel c = (SocketChannel) k.channel();
                                Peer p = (Peer) k.attachment();
                                p.in.clear();
                                if (c.read(p.in) < 0) { c.close(); continue; }
                                p.in.flip();
                                StringBuilder out = new StringBuilder();
                                while (p.in.hasRemaining()) {
                                    byte b = p.in.get();
                                    if (b == '\n') { p.line(out); p.line.setLength(0); }
                                    else if (b != '\r') p.line.append((char) b);
                                }
                                if (out.length() > 0) c.write(ascii(out.toString()));
                                if (p.quit) c.close();
                            }
                        } catch (IOException e) {
                            k.channel().close();
                        }
                    }
                }
            }
        }

        static ByteBuffer ascii(String s) {
            return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
        }

        static final class Peer {
            final String proto;
            final ByteBuffer in = ByteBuffer.allocate(65536);
            final StringBuilder line = new StringBuilder();
            boolean data;
            boolean quit;

            Peer(String proto) { this.proto = proto; }

            String greeting() {
                return switch (proto) {
                    case "imap" -> "* OK ready\r\n";
                    case "pop3" -> "+OK ready\r\n";
                    default -> "220 responder ESMTP\r\n";
                };
            }

            void line(StringBuilder out) {
                String l = line.toString();
                switch (proto) {
                    case "imap" -> {
                        String tag = l.contains(" ") ? l.substring(0, l.indexOf(' ')) : l;
                        if (l.toUpperCase(Locale.ROOT).contains(" LOGOUT")) { out.append("* BYE\r\n"); quit = true; }
                        out.append(tag).append(" OK done\r\n");
                    }
                    case "pop3" -> {
                        out.append("+OK\r\n");
                        quit = l.equalsIgnoreCase("QUIT");
                    }
                    default -> {
                        if (data) {
                            if (l.equals(".")) { data = false; out.append("250 2.0.0 queued\r\n"); }
                            return;
                        }
                        String v = l.length() >= 4 ? l.substring(0, 4).toUpperCase(Locale.ROOT) : l;
                        switch (v) {
                            case "EHLO" -> out.append("250-responder\r\n250 AUTH PLAIN LOGIN\r\n");
                            case "AUTH" -> out.append("235 2.7.0 ok\r\n");
                            case "DATA" -> { data = true; out.append("354 go\r\n"); }
                            case "QUIT" -> { quit = true; out.append("221 bye\r\n"); }
                            default -> out.append("250 2.1.0 ok\r\n");
                        }
                    }
                }
            }
        }
    }
}
