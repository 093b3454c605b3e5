package org.mailproxy.core.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * One {@code set_real_ip_from} value, as nginx's {@code ngx_cidr_t}: an address with a mask
 * ({@code 192.0.2.0/24}, {@code 2001:db8::/32}; a plain address is a /32 or /128), or
 * {@code unix:} for connections over a unix-domain socket. {@link #parse} reads what
 * {@code ngx_ptocidr} reads: address bits below the mask are cleared (nginx warns "low address
 * bits of ... are meaningless" and does the same). Host names are not resolved: nginx would
 * resolve them once at configuration time, which here would put a DNS lookup on the
 * configuration thread; an address or a CIDR is required instead.
 *
 * @param address the network address (low bits cleared), or null for {@code unix:}
 * @param bits    the prefix length; -1 for {@code unix:}
 */
public record CidrRange(InetAddress address, int bits) {

    /** {@code unix:}: matches unix-domain peers. */
    public static final CidrRange UNIX = new CidrRange(null, -1);

    /**
     * Parses {@code address}, {@code address/bits} or {@code unix:}.
     *
     * @throws IllegalArgumentException when the text is none of these
     */
    public static CidrRange parse(String text) {
        if (text.equals("unix:")) {
            return UNIX;
        }
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        byte[] raw = literal(host);
        if (raw == null) {
            throw new IllegalArgumentException("invalid address \"" + text + "\"");
        }
        int max = raw.length * 8;
        int bits = max;
        if (slash >= 0) {
            String b = text.substring(slash + 1);
            if (b.isEmpty() || b.length() > 3 || !b.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("invalid mask in \"" + text + "\"");
            }
            bits = Integer.parseInt(b);
            if (bits > max) {
                throw new IllegalArgumentException("invalid mask in \"" + text + "\"");
            }
        }
        if (raw.length == 16 && bits >= 96 && isV4Mapped(raw)) {
            // Java reports IPv4-mapped peers as IPv4 addresses: match them as such
            raw = Arrays.copyOfRange(raw, 12, 16);
            bits -= 96;
        }
        byte[] masked = mask(raw, bits);
        try {
            return new CidrRange(InetAddress.getByAddress(masked), bits);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("invalid address \"" + text + "\"");
        }
    }

    /** Whether {@code peer} (the connection's real peer) is in this range; as {@code ngx_cidr_match}, families must agree. */
    public boolean matches(SocketAddress peer) {
        if (address == null) {
            return peer != null && !(peer instanceof InetSocketAddress);
        }
        if (!(peer instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return false;
        }
        byte[] raw = inet.getAddress().getAddress();
        byte[] net = address.getAddress();
        return raw.length == net.length && Arrays.equals(mask(raw, bits), net);
    }

    @Override
    public String toString() {
        return address == null ? "unix:" : address.getHostAddress() + "/" + bits;
    }

    private static boolean isV4Mapped(byte[] raw) {
        for (int i = 0; i < 10; i++) {
            if (raw[i] != 0) {
                return false;
            }
        }
        return raw[10] == (byte) 0xff && raw[11] == (byte) 0xff;
    }

    private static byte[] mask(byte[] raw, int bits) {
        byte[] out = raw.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            out[i] &= (byte) (0xff00 >> keep);
        }
        return out;
    }

    /**
     * The bytes of an IPv4 or IPv6 literal, or null. Never a DNS lookup: IPv4 is read here
     * (four decimal octets, as {@code ngx_inet_addr}), and only text that {@link InetAddress}
     * reads as an IPv6 literal without lookup (hex digits, colons, dots, at least one colon,
     * starting with a hex digit or a colon) is passed to it.
     */
    public static byte[] literal(String text) {
        byte[] v4 = ipv4(text);
        if (v4 != null) {
            return v4;
        }
        if (text.isEmpty() || text.indexOf(':') < 0 || !(Character.digit(text.charAt(0), 16) >= 0 || text.charAt(0) == ':')) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != ':' && c != '.' && Character.digit(c, 16) < 0) {
                return null;
            }
        }
        try {
            InetAddress a = InetAddress.getByName(text);
            byte[] raw = a.getAddress();
            if (raw.length == 4) {
                // Java turns ::ffff:a.b.c.d into an IPv4 address; keep what was written
                byte[] mapped = new byte[16];
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                System.arraycopy(raw, 0, mapped, 12, 4);
                return mapped;
            }
            return raw;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** {@code ngx_inet_addr}: four decimal octets below 256, separated by dots. */
    private static byte[] ipv4(String text) {
        long addr = 0;
        int octet = 0;
        int dots = 0;
        boolean digits = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                octet = Math.min(octet * 10 + (c - '0'), 1000);
                digits = true;
            } else if (c == '.' && octet < 256) {
                addr = (addr << 8) + octet;
                octet = 0;
                dots++;
            } else {
                return null;
            }
        }
        if (dots != 3 || octet >= 256 || !digits) {
            return null;
        }
        addr = (addr << 8) + octet;
        return new byte[] {(byte) (addr >> 24), (byte) (addr >> 16), (byte) (addr >> 8), (byte) addr};
    }
}
