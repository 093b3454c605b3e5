package org.mailproxy.core.errorlog;

import org.ops4j.pax.logging.spi.PaxAppender;
import org.ops4j.pax.logging.spi.PaxLoggingEvent;

/**
 * The error logs as a Pax Logging appender service: Log4j2's {@code PaxOsgi} appender (named in
 * Pax Logging's configuration with {@code filter = }{@value #NAME}) hands every event of the
 * {@code org.mailproxy} logger to this service, in the logging thread, with its logging context.
 * Pax Logging offers no other way to plug an appender of our own in without a fragment of its
 * Log4j2 bundle.
 *
 * <p>Karaf's own {@code PaxOsgi} appender on the root logger ({@code filter = *}) hands every
 * event of every logger to every such service too. So events of other loggers are ignored here,
 * and the second delivery of one event (same thread, same message instance, same time, right
 * after the first) is dropped.
 */
public final class PaxErrorLogAppender implements PaxAppender {

    /** The value of the service property {@code org.ops4j.pax.logging.appender.name}. */
    public static final String NAME = "mailproxy.errorlog";
    /** The service property Pax Logging's appender tracker selects services by. */
    public static final String NAME_PROPERTY = "org.ops4j.pax.logging.appender.name";
    /** The loggers whose events the error logs take. */
    public static final String LOGGERS = "org.mailproxy";

    private final EntryFactory entries;
    private final ErrorLogRouter router;
    /** nginx's {@code log->busy}, and the last event of this thread (to drop its second delivery). */
    private final ThreadLocal<Last> last = ThreadLocal.withInitial(Last::new);

    private static final class Last {
        boolean busy;
        String message;
        long time;
    }

    public PaxErrorLogAppender(EntryFactory entries, ErrorLogRouter router) {
        this.entries = entries;
        this.router = router;
    }

    @Override
    public void doAppend(PaxLoggingEvent event) {
        String logger = event.getLoggerName();
        if (logger == null || !logger.startsWith(LOGGERS)) {
            return;
        }
        Last state = last.get();
        String message = event.getRenderedMessage();
        if (state.busy || message == state.message && event.getTimeStamp() == state.time) {
            return;
        }
        state.busy = true;
        state.message = message;
        state.time = event.getTimeStamp();
        try {
            // Log4j2 calls appenders in the logging thread (Karaf configures no async loggers)
            long tid = Thread.currentThread().getName().equals(event.getThreadName())
                    ? Thread.currentThread().getId() : 0;
            String level = event.getLevel() == null ? null : event.getLevel().toLevel().name();
            router.route(entries.entry(event.getTimeStamp(), level, message, event.getProperties(),
                    event.getThrowableStrRep(), tid));
        } catch (RuntimeException | LinkageError e) {
            StderrSink.raw("mailproxy: error log failed: " + e);
        } finally {
            state.busy = false;
        }
    }
}
