package org.mailproxy.resolver.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.Values;
import org.mailproxy.resolver.ResolverSettings;

/**
 * The resolver module's directives, as {@code ngx_mail_core_module}'s {@code resolver} and
 * {@code resolver_timeout} with Angie's {@code ngx_resolver_create()} parameters:
 * <ul>
 * <li>{@code resolver address ... [valid=time] [ipv4=on|off] [ipv6=on|off] [status_zone=zone]} or
 *     {@code resolver off} (the default), mail and server context, inherited. Value: a
 *     {@link ResolverSettings}.</li>
 * <li>{@code resolver_timeout time} (30s), mail and server context, inherited. Value: a Duration.</li>
 * </ul>
 *
 * <p>As in nginx: the first argument {@code off} means off whatever follows; {@code valid=} takes a
 * time in seconds ({@code ngx_parse_time(s, 1)}: {@code 30s}, {@code 1h}, {@code 1d}, a bare
 * number); {@code ipv4=}/{@code ipv6=} take exactly {@code on} or {@code off}; an address is an IPv4
 * address or a host name with an optional {@code :port}, or an IPv6 address in brackets with an
 * optional {@code :port}; the port defaults to 53; a host name is resolved now, with the system
 * resolver, and every address it has becomes a server. Errors, with the directive's file and line:
 * {@code invalid parameter: valid=x}, {@code invalid port in resolver "host:0"},
 * {@code host not found in resolver "nosuch.example"}, {@code no host in resolver ":53"},
 * {@code invalid host in resolver "a/b"}, {@code invalid IPv6 address in resolver "[::g]"},
 * {@code "ipv4" and "ipv6" cannot both be "off"}, {@code no name servers defined}.
 *
 * <p>One difference: nginx accepts {@code unix:/path} as a resolver address (and then cannot send
 * to it); here it is refused: {@code unix domain sockets are not supported in resolver "unix:/x"}.
 */
final class ResolverDirectives {

    static final String RESOLVER = "resolver";
    static final String RESOLVER_TIMEOUT = "resolver_timeout";

    /** nginx's {@code resolver_timeout} default. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    static final int DEFAULT_PORT = 53;

    static final List<DirectiveSpec> SPECS = List.of(
            DirectiveSpec.builder(RESOLVER).context(Context.MAIL, Context.SERVER).oneOrMore()
                    .parser(ResolverDirectives::resolver).defaultValue(ResolverSettings.OFF).inherit().build(),
            DirectiveSpec.builder(RESOLVER_TIMEOUT).context(Context.MAIL, Context.SERVER).time()
                    .defaultValue(DEFAULT_TIMEOUT).inherit().build());

    private ResolverDirectives() {
    }

    /** {@code ngx_mail_core_resolver()} + {@code ngx_resolver_create()}. */
    static ResolverSettings resolver(Directive d) throws ConfigException {
        List<String> args = d.args();
        if (args.get(0).equals("off")) {
            return ResolverSettings.OFF;
        }
        List<InetSocketAddress> servers = new ArrayList<>();
        Duration valid = Duration.ZERO;
        boolean ipv4 = true;
        boolean ipv6 = true;
        String zone = null;
        for (String arg : args) {
            if (arg.startsWith("valid=")) {
                long seconds = Values.parseTimeSeconds(arg.substring(6));
                if (seconds < 0) {
                    throw d.error("invalid parameter: " + arg);
                }
                valid = Duration.ofSeconds(seconds);
                continue;
            }
            if (arg.startsWith("ipv4=")) {
                ipv4 = onOff(d, arg, arg.substring(5));
                continue;
            }
            if (arg.startsWith("ipv6=")) {
                ipv6 = onOff(d, arg, arg.substring(5));
                continue;
            }
            if (arg.startsWith("status_zone=")) {
                zone = arg.substring(12);
                continue;
            }
            servers.addAll(server(d, arg));
        }
        if (!ipv4 && !ipv6) {
            throw d.error("\"ipv4\" and \"ipv6\" cannot both be \"off\"");
        }
        if (servers.isEmpty()) {
            throw d.error("no name servers defined");
        }
        return new ResolverSettings(servers, valid, ipv4, ipv6, zone);
    }

    private static boolean onOff(Directive d, String arg, String value) throws ConfigException {
        if (value.equals("on")) {
            return true;
        }
        if (value.equals("off")) {
            return false;
        }
        throw d.error("invalid parameter: " + arg);
    }

    /** {@code ngx_parse_url()} of one resolver address with default port 53, no URI part. */
    static List<InetSocketAddress> server(Directive d, String url) throws ConfigException {
        if (url.regionMatches(true, 0, "unix:", 0, 5)) {
            throw urlError(d, "unix domain sockets are not supported", url);
        }
        if (url.startsWith("[")) {
            return List.of(inet6(d, url));
        }
        int colon = url.indexOf(':');
        int uri = url.indexOf('/');
        int query = url.indexOf('?');
        if (query >= 0 && (uri < 0 || query < uri)) {
            uri = query;
        }
        if (uri >= 0) {
            throw urlError(d, "invalid host", url);
        }
        int port = DEFAULT_PORT;
        String host = url;
        if (colon >= 0) {
            port = port(d, url, url.substring(colon + 1));
            host = url.substring(0, colon);
        }
        if (host.isEmpty()) {
            throw urlError(d, "no host", url);
        }
        byte[] literal = ipv4(host);
        if (literal != null) {
            return List.of(new InetSocketAddress(address(literal), port));
        }
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException | RuntimeException e) {
            throw urlError(d, "host not found", url);
        }
        List<InetSocketAddress> out = new ArrayList<>();
        for (InetAddress a : all) {
            if (a instanceof Inet4Address || a instanceof Inet6Address) {
                out.add(new InetSocketAddress(a, port));
            }
        }
        if (out.isEmpty()) {
            throw urlError(d, "host not found", url);
        }
        return out;
    }

    private static InetSocketAddress inet6(Directive d, String url) throws ConfigException {
        int close = url.indexOf(']', 1);
        if (close < 0) {
            throw urlError(d, "invalid host", url);
        }
        String rest = url.substring(close + 1);
        if (rest.indexOf('/') >= 0) {
            throw urlError(d, "invalid host", url);
        }
        int port = DEFAULT_PORT;
        if (!rest.isEmpty()) {
            if (rest.charAt(0) != ':') {
                throw urlError(d, "invalid host", url);
            }
            port = port(d, url, rest.substring(1));
        }
        String host = url.substring(1, close);
        if (host.isEmpty()) {
            throw urlError(d, "no host", url);
        }
        InetAddress address = ipv6(host);
        if (address == null) {
            throw urlError(d, "invalid IPv6 address", url);
        }
        return new InetSocketAddress(address, port);
    }

    private static int port(Directive d, String url, String text) throws ConfigException {
        long n = Values.parseNumber(text);
        if (n < 1 || n > 65535) {
            throw urlError(d, "invalid port", url);
        }
        return (int) n;
    }

    private static ConfigException urlError(Directive d, String error, String url) {
        return d.error(error + " in resolver \"" + url + "\"");
    }

    /** {@code ngx_inet_addr()}: exactly four decimal octets 0-255, else null. */
    static byte[] ipv4(String text) {
        byte[] out = new byte[4];
        int octet = 0;
        int value = 0;
        int digits = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                value = value * 10 + (c - '0');
                if (value > 255) {
                    return null;
                }
                digits++;
                continue;
            }
            if (c == '.' && digits > 0 && octet < 3) {
                out[octet++] = (byte) value;
                value = 0;
                digits = 0;
                continue;
            }
            return null;
        }
        if (octet != 3 || digits == 0) {
            return null;
        }
        out[3] = (byte) value;
        return out;
    }

    /** An IPv6 literal (no zone id), else null; never asks DNS. */
    static InetAddress ipv6(String text) {
        if (text.indexOf(':') < 0) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':'
                    || c == '.';
            if (!ok) {
                return null;
            }
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException | RuntimeException e) {
            return null;
        }
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
