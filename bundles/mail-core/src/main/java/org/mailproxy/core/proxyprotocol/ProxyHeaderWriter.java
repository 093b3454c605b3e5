package org.mailproxy.core.proxyprotocol;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.mailproxy.core.util.InetText;

/**
 * The PROXY protocol header the proxy sends to a backend ({@code proxy_protocol on|v2}; nginx's
 * {@code ngx_proxy_protocol_write} and {@code ngx_proxy_protocol_v2_write_header}): source = the
 * session's client address (after {@code set_real_ip_from}), destination = the address the
 * client connected to.
 *
 * <ul>
 * <li>v1: {@code PROXY TCP4 1.2.3.4 5.6.7.8 1234 25\r\n}; {@code PROXY UNKNOWN\r\n} when an
 *     address is not an IP one. When the two families differ (an IPv4 client named by PROXY
 *     protocol on an IPv6 listen), both are written as IPv6, the IPv4 one as {@code ::ffff:a.b.c.d}:
 *     nginx writes the family of the client and the destination as it is, a mixed line the
 *     specification does not allow.</li>
 * <li>v2: version 2, command PROXY, STREAM; AF_INET when both are IPv4, else AF_INET6 with IPv4
 *     promoted to {@code ::ffff:a.b.c.d}; AF_UNSPEC without addresses when one is not IP. No
 *     TLVs.</li>
 * </ul>
 */
public final class ProxyHeaderWriter {

    private ProxyHeaderWriter() {
    }

    /** {@code proxy_protocol off|on|v2} as a version number: 0, 1 or 2. */
    public static int version(String directiveValue) {
        return switch (directiveValue == null ? "off" : directiveValue) {
            case "on" -> 1;
            case "v2" -> 2;
            default -> 0;
        };
    }

    /** The header of {@code version} (1 or 2). */
    public static byte[] header(int version, InetSocketAddress source, InetSocketAddress destination) {
        return switch (version) {
            case 1 -> v1(source, destination);
            case 2 -> v2(source, destination);
            default -> throw new IllegalArgumentException("PROXY protocol version " + version);
        };
    }

    /** Version 1, text. */
    public static byte[] v1(InetSocketAddress source, InetSocketAddress destination) {
        InetAddress src = source.getAddress();
        InetAddress dst = destination.getAddress();
        if (src == null || dst == null) {
            return "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);
        }
        boolean v4 = src instanceof Inet4Address && dst instanceof Inet4Address;
        String line = "PROXY " + (v4 ? "TCP4 " : "TCP6 ") + text(src, v4) + " " + text(dst, v4) + " "
                + source.getPort() + " " + destination.getPort() + "\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    /** Version 2, binary. */
    public static byte[] v2(InetSocketAddress source, InetSocketAddress destination) {
        InetAddress src = source.getAddress();
        InetAddress dst = destination.getAddress();
        ByteArrayOutputStream out = new ByteArrayOutputStream(52);
        out.writeBytes(ProxyHeaderParser.V2_SIGNATURE);
        out.write(0x21); // version 2, PROXY
        if (src == null || dst == null) {
            out.write(0x01); // AF_UNSPEC, STREAM
            out.write(0);
            out.write(0);
            return out.toByteArray();
        }
        boolean v4 = src instanceof Inet4Address && dst instanceof Inet4Address;
        out.write(v4 ? 0x11 : 0x21);
        int len = v4 ? 12 : 36;
        out.write(len >> 8);
        out.write(len);
        out.writeBytes(bytes(src, v4));
        out.writeBytes(bytes(dst, v4));
        out.write(source.getPort() >> 8);
        out.write(source.getPort());
        out.write(destination.getPort() >> 8);
        out.write(destination.getPort());
        return out.toByteArray();
    }

    private static byte[] bytes(InetAddress address, boolean v4) {
        byte[] raw = address.getAddress();
        if (v4 || raw.length == 16) {
            return raw;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(raw, 0, mapped, 12, 4);
        return mapped;
    }

    /** nginx's address text: dotted quad, or compressed IPv6 without brackets or zone. */
    static String text(InetAddress address, boolean v4) {
        byte[] raw = address.getAddress();
        if (raw.length == 4) {
            String quad = (raw[0] & 0xff) + "." + (raw[1] & 0xff) + "." + (raw[2] & 0xff) + "." + (raw[3] & 0xff);
            return v4 ? quad : "::ffff:" + quad;
        }
        return InetText.text(address);
    }
}
