package org.mailproxy.core.errorlog;

import java.time.ZoneId;
import java.util.List;
import org.mailproxy.core.config.ErrorLog;
import org.mailproxy.core.config.LogFilter;

/**
 * One configured {@code error_log}: its level, format and filters in front of its sink, in the
 * order of Angie's {@code ngx_log_error_core()}: level, then the filters (all must match), then
 * the write.
 */
public final class LogWriter implements AutoCloseable {

    private final ErrorLog config;
    private final Severity level;
    private final Sink sink;
    private final ZoneId zone;

    LogWriter(ErrorLog config, Sink sink, ZoneId zone) {
        this.config = config;
        this.level = Severity.of(config.level());
        this.sink = sink;
        this.zone = zone;
    }

    public ErrorLog config() {
        return config;
    }

    public Severity level() {
        return level;
    }

    /** Writes {@code e} when its level is within this log's level and every filter matches. */
    public void write(LogEntry e) {
        if (!e.level().within(level) || !accepts(e)) {
            return;
        }
        sink.write(config.json() ? JsonLayout.line(e) : PlainLayout.line(e, zone), e.level());
    }

    /** Angie's {@code ngx_log_filter_apply_rules()}: every rule must match. */
    boolean accepts(LogEntry e) {
        for (LogFilter f : config.filters()) {
            if (!matches(f, e)) {
                return false;
            }
        }
        return true;
    }

    private boolean matches(LogFilter f, LogEntry e) {
        return switch (f.part()) {
            // a JSON line has no text line: Angie leaves it empty, so logline rules see ""
            case LOGLINE -> f.matches(config.json() ? "" : PlainLayout.logline(e));
            case MESSAGE -> f.matches(config.json() ? JsonLayout.messageKeyValue(e) : e.message());
            case TAG -> anyTag(f, e.tags());
            case FIELD -> e.writesContext() && f.matches(e.context().property(f.field()));
        };
    }

    private static boolean anyTag(LogFilter f, List<String> tags) {
        for (String tag : tags) {
            if (f.matches(tag)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        sink.close();
    }
}
