package org.mailproxy.core.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code listen} directive: the address as nginx's {@code ngx_parse_url()} reads it for a
 * listening socket, and the parameters as {@code ngx_mail_core_listen()} reads them.
 *
 * <p>Address forms: {@code 143}, {@code *:143}, {@code 0.0.0.0:143}, {@code 127.0.0.1:143},
 * {@code localhost:143} (every address the name resolves to, as nginx binds them all),
 * {@code [::1]:143}, {@code [::]:143}, {@code unix:/path}, and port ranges {@code 8143-8145}.
 * One directive may thus give several {@link ListenSpec}s.
 */
final class ListenParser {

    /** {@code sizeof(((struct sockaddr_un *) 0)->sun_path)} on Linux. */
    private static final int SUN_PATH = 108;

    private ListenParser() {
    }

    static List<ListenSpec> parse(Directive d) throws ConfigException {
        String url = d.arg(0);
        Path unix = null;
        List<InetSocketAddress> addresses = List.of();
        if (url.length() >= 5 && url.regionMatches(true, 0, "unix:", 0, 5)) {
            unix = unixPath(d, url);
        } else {
            addresses = url.startsWith("[") ? inet6(d, url) : inet(d, url);
        }
        Options o = options(d);
        if (unix != null) {
            return List.of(new ListenSpec(null, unix, o.ssl, o.proxyProtocol, o.backlog, o.rcvbuf, o.sndbuf,
                    o.bind, o.ipv6only, o.reuseport, o.keepalive, d.file(), d.line()));
        }
        List<ListenSpec> specs = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            ListenSpec spec = new ListenSpec(address, null, o.ssl, o.proxyProtocol, o.backlog, o.rcvbuf,
                    o.sndbuf, o.bind, o.ipv6only, o.reuseport, o.keepalive, d.file(), d.line());
            if (specs.stream().noneMatch(s -> sameSocket(s, spec))) {
                specs.add(spec);
            }
        }
        return List.copyOf(specs);
    }

    /** Whether two listens are the same socket (nginx's {@code ngx_cmp_sockaddr(..., 1)}). */
    static boolean sameSocket(ListenSpec a, ListenSpec b) {
        if (a.unixPath() != null || b.unixPath() != null) {
            return a.unixPath() != null && a.unixPath().equals(b.unixPath());
        }
        return a.port() == b.port() && a.address().getAddress().equals(b.address().getAddress());
    }

    private static ConfigException urlError(Directive d, String error) {
        return d.error(error + " in \"" + d.arg(0) + "\" of the \"listen\" directive");
    }

    private static Path unixPath(Directive d, String url) throws ConfigException {
        String path = url.substring(5);
        if (path.isEmpty()) {
            throw urlError(d, "no path in the unix domain socket");
        }
        if (path.getBytes(StandardCharsets.UTF_8).length + 1 > SUN_PATH) {
            throw urlError(d, "too long path in the unix domain socket");
        }
        try {
            return Path.of(path);
        } catch (InvalidPathException e) {
            throw urlError(d, "invalid path in the unix domain socket");
        }
    }

    /** The ports of {@code N} or {@code N-M}. */
    private record Ports(int first, int last) {
    }

    private static Ports ports(Directive d, String text) throws ConfigException {
        int dash = text.indexOf('-');
        int last = 0;
        String first = text;
        if (dash >= 0) {
            last = port(d, text.substring(dash + 1));
            first = text.substring(0, dash);
        }
        int n = port(d, first);
        if (last != 0 && n > last) {
            throw urlError(d, "invalid port range");
        }
        return new Ports(n, last == 0 ? n : last);
    }

    private static int port(Directive d, String text) throws ConfigException {
        long n = Values.parseNumber(text);
        if (n < 1 || n > 65535) {
            throw urlError(d, "invalid port");
        }
        return (int) n;
    }

    /** {@code 143} or {@code 143-145} alone, or null when the text is not a port (then it is a host). */
    private static Ports portOnly(Directive d, String text) throws ConfigException {
        int dash = text.indexOf('-');
        String first = text;
        long last = 0;
        if (dash >= 0) {
            last = Values.parseNumber(text.substring(dash + 1));
            if (last < 0) {
                return null;
            }
            first = text.substring(0, dash);
        }
        long n = Values.parseNumber(first);
        if (n < 0) {
            return null;
        }
        if (last > 65535 || dash >= 0 && last < 1 || n < 1 || n > 65535) {
            throw urlError(d, "invalid port");
        }
        if (last != 0 && n > last) {
            throw urlError(d, "invalid port range");
        }
        return new Ports((int) n, last == 0 ? (int) n : (int) last);
    }

    private static List<InetSocketAddress> inet(Directive d, String url) throws ConfigException {
        if (url.indexOf('/') >= 0 || url.indexOf('?') >= 0) {
            throw urlError(d, "invalid host");
        }
        int colon = url.indexOf(':');
        if (colon < 0) {
            Ports only = portOnly(d, url);
            if (only != null) {
                return socketAddresses(List.of(anyIpv4()), only);
            }
            /* nginx would listen on port 0, a random port: useless for a mail server */
            throw urlError(d, url.isEmpty() ? "no host" : "no port");
        }
        Ports ports = ports(d, url.substring(colon + 1));
        String host = url.substring(0, colon);
        if (host.isEmpty()) {
            throw urlError(d, "no host");
        }
        if (host.equals("*")) {
            return socketAddresses(List.of(anyIpv4()), ports);
        }
        byte[] ipv4 = ipv4(host);
        if (ipv4 != null) {
            return socketAddresses(List.of(address(ipv4)), ports);
        }
        try {
            return socketAddresses(List.of(InetAddress.getAllByName(host)), ports);
        } catch (UnknownHostException | SecurityException e) {
            throw urlError(d, "host not found");
        }
    }

    private static List<InetSocketAddress> inet6(Directive d, String url) throws ConfigException {
        int close = url.indexOf(']');
        if (close < 0) {
            throw urlError(d, "invalid host");
        }
        String rest = url.substring(close + 1);
        if (rest.indexOf('/') >= 0) {
            throw urlError(d, "invalid host");
        }
        if (rest.isEmpty()) {
            throw urlError(d, "no port");
        }
        if (rest.charAt(0) != ':') {
            throw urlError(d, "invalid host");
        }
        Ports ports = ports(d, rest.substring(1));
        String host = url.substring(1, close);
        if (host.isEmpty()) {
            throw urlError(d, "no host");
        }
        InetAddress address = ipv6(host);
        if (address == null) {
            throw urlError(d, "invalid IPv6 address");
        }
        return socketAddresses(List.of(address), ports);
    }

    private static List<InetSocketAddress> socketAddresses(List<InetAddress> addresses, Ports ports) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (InetAddress a : addresses) {
            for (int port = ports.first(); port <= ports.last(); port++) {
                out.add(new InetSocketAddress(a, port));
            }
        }
        return out;
    }

    private static InetAddress anyIpv4() {
        return address(new byte[4]);
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** nginx's {@code ngx_inet_addr()}: four decimal octets, quirks included, or null. */
    static byte[] ipv4(String text) {
        byte[] out = new byte[4];
        int octet = 0;
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                octet = octet * 10 + (c - '0');
                if (octet > 255) {
                    return null;
                }
                continue;
            }
            if (c == '.' && n < 3) {
                out[n++] = (byte) octet;
                octet = 0;
                continue;
            }
            return null;
        }
        if (n != 3) {
            return null;
        }
        out[3] = (byte) octet;
        return out;
    }

    /** An IPv6 literal (hex digits, colons, an optional dotted IPv4 tail), or null. */
    private static InetAddress ipv6(String text) {
        if (text.indexOf(':') < 0) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.')) {
                return null;
            }
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /* ---- parameters ---- */

    private static final class Options {
        boolean ssl;
        boolean proxyProtocol;
        boolean bind;
        boolean reuseport;
        int backlog = -1;
        int rcvbuf = -1;
        int sndbuf = -1;
        Boolean ipv6only;
        ListenSpec.KeepAlive keepalive;
    }

    private static Options options(Directive d) throws ConfigException {
        Options o = new Options();
        List<String> args = d.args();
        for (int i = 1; i < args.size(); i++) {
            String p = args.get(i);
            if (p.equals("bind")) {
                o.bind = true;
            } else if (p.startsWith("backlog=")) {
                long n = Values.parseNumber(p.substring(8));
                if (n <= 0 || n > Integer.MAX_VALUE) {
                    throw d.error("invalid backlog \"" + p + "\"");
                }
                o.backlog = (int) n;
            } else if (p.startsWith("rcvbuf=")) {
                o.rcvbuf = buffer(d, p, "rcvbuf");
            } else if (p.startsWith("sndbuf=")) {
                o.sndbuf = buffer(d, p, "sndbuf");
            } else if (p.startsWith("ipv6only=o")) {
                String rest = p.substring(10);
                if (rest.equals("n")) {
                    o.ipv6only = Boolean.TRUE;
                } else if (rest.equals("ff")) {
                    o.ipv6only = Boolean.FALSE;
                } else {
                    throw d.error("invalid ipv6only flags \"" + p.substring(9) + "\"");
                }
            } else if (p.equals("ssl")) {
                o.ssl = true;
            } else if (p.startsWith("so_keepalive=")) {
                o.keepalive = keepalive(d, p.substring(13));
            } else if (p.equals("proxy_protocol")) {
                o.proxyProtocol = true;
            } else if (p.equals("reuseport")) {
                o.reuseport = true;
            } else if (p.equals("multipath")) {
                throw d.error("multipath is not supported on this platform: the JDK has no MPTCP sockets");
            } else {
                throw d.error("the invalid \"" + p + "\" parameter");
            }
        }
        return o;
    }

    private static int buffer(Directive d, String p, String what) throws ConfigException {
        long n = Values.parseSize(p.substring(what.length() + 1));
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw d.error("invalid " + what + " \"" + p + "\"");
        }
        return (int) n;
    }

    /** {@code on}, {@code off} or {@code [idle]:[intvl]:[cnt]} where idle and intvl are times in seconds. */
    private static ListenSpec.KeepAlive keepalive(Directive d, String value) throws ConfigException {
        if (value.equals("on")) {
            return new ListenSpec.KeepAlive(true, null, null, null);
        }
        if (value.equals("off")) {
            return new ListenSpec.KeepAlive(false, null, null, null);
        }
        String[] parts = {value, "", ""};
        int first = value.indexOf(':');
        if (first >= 0) {
            parts[0] = value.substring(0, first);
            String rest = value.substring(first + 1);
            int second = rest.indexOf(':');
            parts[1] = second < 0 ? rest : rest.substring(0, second);
            parts[2] = second < 0 ? "" : rest.substring(second + 1);
        }
        long idle = parts[0].isEmpty() ? 0 : Values.parseTimeSeconds(parts[0]);
        long interval = parts[1].isEmpty() ? 0 : Values.parseTimeSeconds(parts[1]);
        long count = parts[2].isEmpty() ? 0 : Values.parseNumber(parts[2]);
        if (idle < 0 || interval < 0 || count < 0 || count > Integer.MAX_VALUE
                || idle == 0 && interval == 0 && count == 0) {
            throw d.error("invalid so_keepalive value: \"" + value + "\"");
        }
        return new ListenSpec.KeepAlive(true, idle == 0 ? null : Duration.ofSeconds(idle),
                interval == 0 ? null : Duration.ofSeconds(interval), count == 0 ? null : (int) count);
    }
}
