package org.mailproxy.core.errorlog;

import org.ops4j.pax.logging.spi.PaxAppender;
import org.ops4j.pax.logging.spi.PaxLoggingEvent;

/**
 * The error logs as a Pax Logging appender service: Log4j2's {@code PaxOsgi} appender (named in
 * Pax Logging's configuration with {@code filter = }{@value #NAME}) hands every event of the
 * {@code org.mailproxy} logger to this service, in the logging thread, with its logging context.
 * Pax Logging offers no other way to plug an appender of our own in without a fragment of its
 * Log4j2 bundle.
 */
public final class PaxErrorLogAppender implements PaxAppender {

    /** The value of the service property {@code org.ops4j.pax.logging.appender.name}. */
    public static final String NAME = "mailproxy.errorlog";
    /** The service property Pax Logging's appender tracker selects services by. */
    public static final String NAME_PROPERTY = "org.ops4j.pax.logging.appender.name";

    private final EntryFactory entries;
    private final ErrorLogRouter router;
    /** nginx's {@code log->busy}: a message logged while writing one is dropped, not looped. */
    private final ThreadLocal<Boolean> busy = ThreadLocal.withInitial(() -> false);

    public PaxErrorLogAppender(EntryFactory entries, ErrorLogRouter router) {
        this.entries = entries;
        this.router = router;
    }

    @Override
    public void doAppend(PaxLoggingEvent event) {
        if (busy.get()) {
            return;
        }
        busy.set(true);
        try {
            // Log4j2 calls appenders in the logging thread (Karaf configures no async loggers)
            long tid = Thread.currentThread().getName().equals(event.getThreadName())
                    ? Thread.currentThread().getId() : 0;
            String level = event.getLevel() == null ? null : event.getLevel().toLevel().name();
            router.route(entries.entry(event.getTimeStamp(), level, event.getRenderedMessage(),
                    event.getProperties(), event.getThrowableStrRep(), tid));
        } catch (RuntimeException e) {
            StderrSink.raw("mailproxy: error log failed: " + e);
        } finally {
            busy.set(false);
        }
    }
}
