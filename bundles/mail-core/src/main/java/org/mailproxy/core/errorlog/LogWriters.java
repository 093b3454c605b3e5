package org.mailproxy.core.errorlog;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.mailproxy.core.config.ErrorLog;

/** Makes the {@link LogWriter}s of {@code error_log} directives, with their sinks. */
public final class LogWriters {

    private final Path base;
    private final ZoneId zone;
    private final String hostname;

    /**
     * @param base     the directory relative file names are taken from
     * @param zone     the time zone of plain lines and syslog headers (nginx: local time)
     * @param hostname the host name in syslog headers
     */
    public LogWriters(Path base, ZoneId zone, String hostname) {
        this.base = base;
        this.zone = zone;
        this.hostname = hostname;
    }

    /** The writers of {@code logs}, in order; files are opened (and created) now, as nginx does. */
    public List<LogWriter> create(List<ErrorLog> logs) {
        List<LogWriter> out = new ArrayList<>();
        for (ErrorLog log : logs) {
            out.add(new LogWriter(log, sink(log), zone));
        }
        return out;
    }

    private Sink sink(ErrorLog log) {
        if (log.syslog() != null) {
            return new SyslogSink(log.syslog(), hostname, zone);
        }
        if (log.target().equals("stderr")) {
            return new StderrSink();
        }
        FileSink file = new FileSink(base.resolve(log.target()).normalize());
        file.open();
        return file;
    }

    /** nginx's {@code cycle->hostname}: the host name, lower case. */
    public static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        } catch (Exception e) {
            return "localhost";
        }
    }
}
