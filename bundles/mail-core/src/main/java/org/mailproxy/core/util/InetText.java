package org.mailproxy.core.util;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * nginx's address text: {@code ngx_inet_addr} and {@code ngx_inet6_addr} (what {@code Auth-Server}
 * accepts: IP literals only, IPv6 without brackets), and {@code ngx_inet_ntop} /
 * {@code ngx_inet6_ntop} (how {@code Client-IP} and the peer names in log lines are written:
 * {@code ::1}, {@code 2001:db8::1}, {@code ::ffff:1.2.3.4}).
 *
 * <p>The one copy for every bundle that writes an address as nginx does: auth_http (Client-IP,
 * Auth-Server, peer names), the resolver (its settings and log lines), listen addresses and the
 * PROXY protocol header.
 */
public final class InetText {

    private InetText() {
    }

    /** An IPv4 or IPv6 literal as {@code ngx_parse_addr} reads it, or null when it is not one. */
    public static InetAddress parseAddress(String text) {
        byte[] v4 = parseIpv4(text);
        byte[] bytes = v4 != null ? v4 : parseIpv6(text);
        if (bytes == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * {@code ngx_inet_addr}: four decimal octets separated by dots, each below 256. Like nginx it
     * takes leading zeros and empty octets ({@code 1..2.3} is 1.0.2.3).
     */
    public static byte[] parseIpv4(String text) {
        long addr = 0;
        long octet = 0;
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                octet = Math.min(octet * 10 + (c - '0'), 1000);
                continue;
            }
            if (c == '.' && octet < 256) {
                addr = (addr << 8) + octet;
                octet = 0;
                n++;
                continue;
            }
            return null;
        }
        if (n == 3 && octet < 256) {
            addr = (addr << 8) + octet;
            return new byte[] {(byte) (addr >> 24), (byte) (addr >> 16), (byte) (addr >> 8), (byte) addr};
        }
        return null;
    }

    /** {@code ngx_inet6_addr}: an IPv6 literal without brackets, with {@code ::} and a dotted tail. */
    public static byte[] parseIpv6(String text) {
        int len = text.length();
        if (len == 0) {
            return null;
        }
        byte[] addr = new byte[16];
        int a = 0;
        int zero = -1;
        int digit = -1;
        int len4 = 0;
        int nibbles = 0;
        int word = 0;
        int n = 8;
        int p = 0;

        if (text.charAt(0) == ':') {
            p++;
            len--;
        }

        for (; len > 0; len--) {
            char c = text.charAt(p++);

            if (c == ':') {
                if (nibbles > 0) {
                    digit = p;
                    len4 = len;
                    addr[a++] = (byte) (word >> 8);
                    addr[a++] = (byte) word;
                    if (--n > 0) {
                        nibbles = 0;
                        word = 0;
                        continue;
                    }
                } else if (zero < 0) {
                    digit = p;
                    len4 = len;
                    zero = a;
                    continue;
                }
                return null;
            }

            if (c == '.' && nibbles > 0) {
                if (n < 2 || digit < 0) {
                    return null;
                }
                byte[] v4 = parseIpv4(text.substring(digit, digit + len4 - 1));
                if (v4 == null) {
                    return null;
                }
                addr[a++] = v4[0];
                addr[a++] = v4[1];
                word = ((v4[2] & 0xff) << 8) | (v4[3] & 0xff);
                n--;
                break;
            }

            if (++nibbles > 4) {
                return null;
            }
            if (c >= '0' && c <= '9') {
                word = word * 16 + (c - '0');
                continue;
            }
            char lc = (char) (c | 0x20);
            if (lc >= 'a' && lc <= 'f') {
                word = word * 16 + (lc - 'a') + 10;
                continue;
            }
            return null;
        }

        if (nibbles == 0 && zero < 0) {
            return null;
        }

        addr[a++] = (byte) (word >> 8);
        addr[a++] = (byte) word;

        if (--n > 0) {
            if (zero >= 0) {
                n *= 2;
                for (int s = a - 1; s >= zero; s--) {
                    addr[s + n] = addr[s];
                }
                for (int i = zero; i < zero + n; i++) {
                    addr[i] = 0;
                }
                return addr;
            }
        } else if (zero < 0) {
            return addr;
        }
        return null;
    }

    /** {@code ngx_inet_ntop}: dotted quad, or nginx's compressed IPv6 form. */
    public static String text(InetAddress address) {
        byte[] p = address.getAddress();
        if (p.length == 4) {
            return (p[0] & 0xff) + "." + (p[1] & 0xff) + "." + (p[2] & 0xff) + "." + (p[3] & 0xff);
        }
        return ipv6(p);
    }

    /** The text of a socket address's host: {@link #text} when it is resolved, else its host string. */
    public static String host(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        return ip != null ? text(ip) : address.getHostString();
    }

    /** {@code ngx_sock_ntop} with the port: {@code 1.2.3.4:25}, {@code [::1]:25}. */
    public static String hostPort(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host = host(address);
        if (ip != null && ip.getAddress().length == 16) {
            host = "[" + host + "]";
        }
        return host + ":" + address.getPort();
    }

    private static String ipv6(byte[] p) {
        int zero = -1;
        int last = -1;
        int max = 1;
        int n = 0;
        for (int i = 0; i < 16; i += 2) {
            if (p[i] != 0 || p[i + 1] != 0) {
                if (max < n) {
                    zero = last;
                    max = n;
                }
                n = 0;
                continue;
            }
            if (n++ == 0) {
                last = i;
            }
        }
        if (max < n) {
            zero = last;
            max = n;
        }

        StringBuilder out = new StringBuilder(45);
        int end = 16;
        if (zero == 0) {
            if ((max == 5 && (p[10] & 0xff) == 0xff && (p[11] & 0xff) == 0xff)
                    || max == 6
                    || (max == 7 && p[14] != 0 && p[15] != 1)) {
                end = 12;
            }
            out.append(':');
        }
        for (int i = 0; i < end; i += 2) {
            if (i == zero) {
                out.append(':');
                i += (max - 1) * 2;
                continue;
            }
            out.append(Integer.toHexString((p[i] & 0xff) * 256 + (p[i + 1] & 0xff)));
            if (i < 14) {
                out.append(':');
            }
        }
        if (end == 12) {
            out.append(p[12] & 0xff).append('.').append(p[13] & 0xff).append('.')
                    .append(p[14] & 0xff).append('.').append(p[15] & 0xff);
        }
        return out.toString();
    }
}
