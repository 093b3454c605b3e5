package org.mailproxy.core.errorlog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.ErrorLog;
import org.ops4j.pax.logging.spi.PaxLevel;
import org.ops4j.pax.logging.spi.PaxLocationInfo;
import org.ops4j.pax.logging.spi.PaxLoggingEvent;
import org.osgi.service.log.LogLevel;

/**
 * The appender service as Pax Logging calls it: the events of org.mailproxy only, and one line
 * when Karaf's root PaxOsgi appender hands the same event over a second time.
 */
class PaxErrorLogAppenderTest {

    /** An event as Pax Logging's Log4j2 bridge builds it. */
    private record Event(String logger, String message, long time) implements PaxLoggingEvent {
        @Override
        public PaxLocationInfo getLocationInformation() {
            return null;
        }

        @Override
        public PaxLevel getLevel() {
            return new PaxLevel() {
                @Override
                public boolean isGreaterOrEqual(PaxLevel r) {
                    return true;
                }

                @Override
                public LogLevel toLevel() {
                    return LogLevel.INFO;
                }

                @Override
                public int getSyslogEquivalent() {
                    return 6;
                }
            };
        }

        @Override
        public String getLoggerName() {
            return logger;
        }

        @Override
        public String getFQNOfLoggerClass() {
            return null;
        }

        @Override
        public String getMessage() {
            return message;
        }

        @Override
        public String getRenderedMessage() {
            return message;
        }

        @Override
        public String getThreadName() {
            return Thread.currentThread().getName();
        }

        @Override
        public String[] getThrowableStrRep() {
            return null;
        }

        @Override
        public boolean locationInformationExists() {
            return false;
        }

        @Override
        public long getTimeStamp() {
            return time;
        }

        @Override
        public Map<String, Object> getProperties() {
            return Map.of();
        }
    }

    private final LogWriterTest.Lines sink = new LogWriterTest.Lines();
    private final PaxErrorLogAppender appender;

    PaxErrorLogAppenderTest() {
        ErrorLogRouter router = new ErrorLogRouter();
        LogWriter writer = new LogWriter(new ErrorLog("x.log", "info"), sink, ZoneId.of("UTC"));
        router.replace(new ErrorLogRouter.Routes(List.of(writer), List.of(writer), Map.of()));
        appender = new PaxErrorLogAppender(new EntryFactory(id -> null), router);
    }

    @Test
    void otherLoggersAreNotTheMailProxys() {
        appender.doAppend(new Event("org.apache.karaf.features.internal.service.FeaturesServiceImpl", "Done.", 1));
        appender.doAppend(new Event("org.mailproxy.core.net.ListenerSet", "listening on 127.0.0.1:143", 1));
        assertEquals(1, sink.lines.size());
    }

    @Test
    void theSecondDeliveryOfOneEventIsDroppedButAnEqualNewEventIsNot() {
        Event event = new Event("org.mailproxy.x", new String("same text"), 5);
        appender.doAppend(event);
        appender.doAppend(event);
        assertEquals(1, sink.lines.size());
        appender.doAppend(new Event("org.mailproxy.x", new String("same text"), 5));
        appender.doAppend(new Event("org.mailproxy.x", event.message(), 6));
        assertEquals(3, sink.lines.size());
    }
}
