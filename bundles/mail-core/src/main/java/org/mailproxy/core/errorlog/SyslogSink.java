package org.mailproxy.core.errorlog;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.mailproxy.core.config.SyslogTarget;

/**
 * nginx's syslog writer ({@code ngx_syslog_writer()}): one UDP datagram per message, an RFC 3164
 * header and the whole error log line (plain or JSON) as the message:
 * <pre>
 * &lt;190&gt;Nov 26 01:02:03 mailhost mailproxy: 2026/11/26 01:02:03 [info] 4242#57: *7 client timed out ...
 * </pre>
 * PRI is facility * 8 + the message's own level (the {@code severity=} parameter applies to access
 * logs only, as in nginx); the time is local with a space-padded day, the host name is left out
 * with {@code nohostname}. Datagrams are capped at nginx's size.
 */
final class SyslogSink implements Sink {

    /** nginx's {@code NGX_SYSLOG_MAX_STR}: the error line, a header, a 255-char host and a 32-char tag. */
    static final int MAX_DATAGRAM = 2048 + "<255>Jan 01 00:00:00 ".length() + 255 + 32 + 2;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ENGLISH);

    private final SyslogTarget target;
    private final String hostname;
    private final ZoneId zone;
    private DatagramChannel channel;
    private boolean failed;
    private boolean closed;

    SyslogSink(SyslogTarget target, String hostname, ZoneId zone) {
        this.target = target;
        this.hostname = hostname;
        this.zone = zone;
    }

    /** The datagram's text for a line of {@code level} at {@code millis}. */
    String datagram(String line, Severity level, long millis) {
        StringBuilder out = new StringBuilder(line.length() + 64);
        out.append('<').append(target.facility() * 8 + level.ordinal()).append('>');
        out.append(TIME.format(Instant.ofEpochMilli(millis).atZone(zone))).append(' ');
        if (!target.nohostname()) {
            out.append(hostname).append(' ');
        }
        out.append(target.tag()).append(": ").append(line);
        return out.toString();
    }

    @Override
    public synchronized void write(String line, Severity level) {
        if (closed) {
            return;
        }
        byte[] bytes = datagram(line, level, System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8);
        int length = Math.min(bytes.length, MAX_DATAGRAM);
        try {
            if (channel == null) {
                channel = DatagramChannel.open();
                channel.connect(new InetSocketAddress(target.host(), target.port()));
            }
            channel.write(ByteBuffer.wrap(bytes, 0, length));
            failed = false;
        } catch (IOException | RuntimeException e) {
            if (!failed) {
                StderrSink.raw("mailproxy: sending to syslog server " + target.host() + ":" + target.port()
                        + " failed: " + e);
            }
            failed = true;
            closeChannel();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeChannel();
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
            channel = null;
        }
    }
}
