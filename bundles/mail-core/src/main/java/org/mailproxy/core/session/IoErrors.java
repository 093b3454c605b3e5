package org.mailproxy.core.session;

import java.io.IOException;
import org.apache.mina.core.write.WriteToClosedSessionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How connection errors are logged: network errors (reset, broken pipe) briefly at debug; bugs with their stack. */
final class IoErrors {

    private static final Logger LOG = LoggerFactory.getLogger(MailSession.class);

    private IoErrors() {
    }

    static void log(long sessionId, String side, Throwable cause) {
        if (cause instanceof WriteToClosedSessionException) {
            LOG.debug("*{} data for the {} dropped: connection closed", sessionId, side);
        } else if (cause instanceof IOException) {
            LOG.debug("*{} {} connection failed ({})", sessionId, side, cause.getMessage());
        } else {
            LOG.error("*{} error on the {} connection, closing it", sessionId, side, cause);
        }
    }
}
