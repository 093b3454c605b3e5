package org.mailproxy.core.proxyprotocol;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import org.mailproxy.core.config.CidrRange;
import org.mailproxy.core.spi.AuthRequest.ProxyProtocolInfo;

/**
 * Reads a PROXY protocol header, version 1 (text) or 2 (binary), as nginx's
 * {@code ngx_proxy_protocol_read} does, but from bytes that may arrive in pieces: it tells
 * "incomplete, read more" apart from "broken", so a header split over several TCP segments is
 * accepted (nginx peeks once and refuses a split header) while anything that cannot become a
 * valid header is refused as soon as it is seen.
 *
 * <ul>
 * <li>v1: {@code PROXY TCP4|TCP6 src dst sport dport\r\n}, at most {@value #V1_MAX_HEADER} bytes;
 *     addresses of hex digits, colons and dots, ports 0-65535. {@code PROXY UNKNOWN ...\r\n} is
 *     skipped and gives no addresses.</li>
 * <li>v2: the 12-byte signature, version 2, a length; the whole header at most
 *     {@value #MAX_HEADER} bytes (nginx's {@code NGX_PROXY_PROTOCOL_MAX_HEADER}). Command LOCAL
 *     (or any but PROXY), a transport other than STREAM, families UNSPEC and UNIX: the header is
 *     skipped and gives no addresses. TLVs are skipped.</li>
 * </ul>
 * Errors carry nginx's log text: {@code broken header: "..."}, {@code unknown PROXY protocol
 * version: N}, {@code header is too large}.
 */
public final class ProxyHeaderParser {

    /** The longest v1 header, CRLF included (PROXY protocol specification, nginx's NGX_PROXY_PROTOCOL_V1_MAX_HEADER). */
    public static final int V1_MAX_HEADER = 107;
    /** The longest header read, v2 with its TLVs (nginx's NGX_PROXY_PROTOCOL_MAX_HEADER). */
    public static final int MAX_HEADER = 4096;

    static final byte[] V2_SIGNATURE = {'\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final int V2_HEADER = 16;

    /**
     * What {@link #parse} found.
     *
     * @param length the header's length in bytes when complete, 0 when more bytes are needed, -1 when broken
     * @param info   the addresses it announced, or null (UNKNOWN, LOCAL, other families, or not complete)
     * @param error  the log text when broken, else null
     */
    public record Result(int length, ProxyProtocolInfo info, String error) {

        static final Result MORE = new Result(0, null, null);

        public boolean complete() {
            return length > 0;
        }

        public boolean broken() {
            return length < 0;
        }

        static Result broken(String error) {
            return new Result(-1, null, error);
        }
    }

    private ProxyHeaderParser() {
    }

    /** Parses {@code buf[0..len)}, the first bytes of a connection. */
    public static Result parse(byte[] buf, int len) {
        if (startsWith(buf, len, V2_SIGNATURE)) {
            if (len < V2_HEADER) {
                return Result.MORE;
            }
            return v2(buf, len);
        }
        Result r = v1(buf, Math.min(len, V1_MAX_HEADER));
        if (r == Result.MORE && len >= V1_MAX_HEADER) {
            return brokenHeader(buf, len);
        }
        return r;
    }

    /** Whether {@code buf[0..len)} and {@code prefix} agree on their common length. */
    private static boolean startsWith(byte[] buf, int len, byte[] prefix) {
        int n = Math.min(len, prefix.length);
        for (int i = 0; i < n; i++) {
            if (buf[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- v1

    private static Result v1(byte[] buf, int len) {
        if (!startsWith(buf, len, V1_PREFIX)) {
            return brokenHeader(buf, len);
        }
        int p = V1_PREFIX.length;
        if (len <= p) {
            return Result.MORE;
        }
        if (buf[p] == 'U') {
            byte[] unknown = "UNKNOWN".getBytes(StandardCharsets.US_ASCII);
            if (!startsWith(copyFrom(buf, p, len), len - p, unknown)) {
                return brokenHeader(buf, len);
            }
            if (len - p < unknown.length) {
                return Result.MORE;
            }
            for (int i = p + unknown.length; i < len - 1; i++) {
                if (buf[i] == '\r' && buf[i + 1] == '\n') {
                    return new Result(i + 2, null, null);
                }
            }
            return Result.MORE;
        }
        // "TCP4 " or "TCP6 "
        for (int i = 0; i < 5; i++, p++) {
            if (p == len) {
                return Result.MORE;
            }
            byte b = buf[p];
            boolean ok = switch (i) {
                case 0 -> b == 'T';
                case 1 -> b == 'C';
                case 2 -> b == 'P';
                case 3 -> b == '4' || b == '6';
                default -> b == ' ';
            };
            if (!ok) {
                return brokenHeader(buf, len);
            }
        }
        int srcStart = p;
        int srcEnd = address(buf, p, len);
        if (srcEnd < 0) {
            return srcEnd == -1 ? Result.MORE : brokenHeader(buf, len);
        }
        int dstStart = srcEnd + 1;
        int dstEnd = address(buf, dstStart, len);
        if (dstEnd < 0) {
            return dstEnd == -1 ? Result.MORE : brokenHeader(buf, len);
        }
        int sportStart = dstEnd + 1;
        int sportEnd = port(buf, sportStart, len, (byte) ' ');
        if (sportEnd < 0) {
            return sportEnd == -1 ? Result.MORE : brokenHeader(buf, len);
        }
        int dportStart = sportEnd + 1;
        int dportEnd = port(buf, dportStart, len, (byte) '\r');
        if (dportEnd < 0) {
            return dportEnd == -1 ? Result.MORE : brokenHeader(buf, len);
        }
        if (dportEnd + 1 == len) {
            return Result.MORE;
        }
        if (buf[dportEnd + 1] != '\n') {
            return brokenHeader(buf, len);
        }
        String src = ascii(buf, srcStart, srcEnd);
        String dst = ascii(buf, dstStart, dstEnd);
        int sport = Integer.parseInt(ascii(buf, sportStart, sportEnd));
        int dport = Integer.parseInt(ascii(buf, dportStart, dportEnd));
        return new Result(dportEnd + 2, new ProxyProtocolInfo(socket(src, sport), socket(dst, dport)), null);
    }

    /** The index of the space ending an address from {@code p}; -1 need more, -2 broken. */
    private static int address(byte[] buf, int p, int len) {
        for (int i = p; i < len; i++) {
            byte c = buf[i];
            if (c == ' ') {
                return i;
            }
            if (c != ':' && c != '.' && Character.digit(c, 16) < 0) {
                return -2;
            }
        }
        return -1;
    }

    /** The index of {@code sep} ending a port from {@code p}; -1 need more, -2 broken (not 0-65535). */
    private static int port(byte[] buf, int p, int len, byte sep) {
        long n = 0;
        for (int i = p; i < len; i++) {
            byte c = buf[i];
            if (c == sep) {
                return i == p ? -2 : i;
            }
            if (c < '0' || c > '9') {
                return -2;
            }
            n = n * 10 + (c - '0');
            if (n > 65535) {
                return -2;
            }
        }
        return -1;
    }

    /**
     * A v1 address as a socket address: resolved when it is an IP literal (never a DNS lookup),
     * else unresolved with the text as received (nginx passes such text on to the auth server as
     * it is, and does not use it as the client address).
     */
    private static InetSocketAddress socket(String text, int port) {
        byte[] raw = CidrRange.literal(text);
        if (raw != null) {
            try {
                return new InetSocketAddress(InetAddress.getByAddress(raw), port);
            } catch (UnknownHostException e) {
                // not an address after all
            }
        }
        return InetSocketAddress.createUnresolved(text, port);
    }

    // ---------------------------------------------------------------- v2

    private static Result v2(byte[] buf, int len) {
        int version = (buf[12] & 0xff) >> 4;
        if (version != 2) {
            return Result.broken("unknown PROXY protocol version: " + version);
        }
        int body = ((buf[14] & 0xff) << 8) | (buf[15] & 0xff);
        int total = V2_HEADER + body;
        if (total > MAX_HEADER) {
            return Result.broken("header is too large");
        }
        if (len < total) {
            return Result.MORE;
        }
        int command = buf[12] & 0x0f;
        int transport = buf[13] & 0x0f;
        int family = (buf[13] & 0xff) >> 4;
        if (command != 1 || transport != 1 || (family != 1 && family != 2)) {
            return new Result(total, null, null); // LOCAL, not a stream, UNSPEC or UNIX: no addresses
        }
        int addrLen = family == 1 ? 4 : 16;
        if (body < 2 * addrLen + 4) {
            return Result.broken("broken header: PROXY protocol v2 address block of " + body
                    + " bytes is too short for " + (family == 1 ? "TCP over IPv4" : "TCP over IPv6"));
        }
        byte[] src = new byte[addrLen];
        byte[] dst = new byte[addrLen];
        System.arraycopy(buf, V2_HEADER, src, 0, addrLen);
        System.arraycopy(buf, V2_HEADER + addrLen, dst, 0, addrLen);
        int ports = V2_HEADER + 2 * addrLen;
        int sport = ((buf[ports] & 0xff) << 8) | (buf[ports + 1] & 0xff);
        int dport = ((buf[ports + 2] & 0xff) << 8) | (buf[ports + 3] & 0xff);
        try {
            return new Result(total, new ProxyProtocolInfo(new InetSocketAddress(InetAddress.getByAddress(src), sport),
                    new InetSocketAddress(InetAddress.getByAddress(dst), dport)), null);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes are always an address
        }
    }

    // ---------------------------------------------------------------- helpers

    /** nginx's {@code broken header: "..."}: the bytes up to the first CR or LF, non-printable ones escaped. */
    static Result brokenHeader(byte[] buf, int len) {
        StringBuilder text = new StringBuilder("broken header: \"");
        for (int i = 0; i < len && buf[i] != '\r' && buf[i] != '\n'; i++) {
            int c = buf[i] & 0xff;
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                text.append(String.format("\\x%02X", c));
            } else {
                text.append((char) c);
            }
        }
        return Result.broken(text.append('"').toString());
    }

    private static byte[] copyFrom(byte[] buf, int from, int len) {
        byte[] out = new byte[len - from];
        System.arraycopy(buf, from, out, 0, out.length);
        return out;
    }

    private static String ascii(byte[] buf, int from, int to) {
        return new String(buf, from, to - from, StandardCharsets.US_ASCII);
    }
}
