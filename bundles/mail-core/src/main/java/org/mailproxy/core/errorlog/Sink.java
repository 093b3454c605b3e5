package org.mailproxy.core.errorlog;

/** Where an error log's lines go: a file, stderr or a syslog server. */
public interface Sink extends AutoCloseable {

    /** Writes one line (no newline in it) of a message of {@code level}. Never throws. */
    void write(String line, Severity level);

    @Override
    void close();
}
