package org.mailproxy.core.errorlog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file opened for appending, as nginx opens its error logs: each line is one write of the line
 * and its newline, so lines of several logs sharing a file do not interleave.
 */
final class FileSink implements Sink {

    private final Path file;
    private FileChannel channel;
    private boolean failed;
    private boolean closed;

    FileSink(Path file) {
        this.file = file;
    }

    /** Opens the file now, so that it exists as soon as the log is configured (nginx opens it at start). */
    synchronized void open() {
        try {
            ensureOpen();
        } catch (IOException | RuntimeException e) {
            report("open", e);
        }
    }

    @Override
    public synchronized void write(String line, Severity level) {
        if (closed) {
            return; // replaced by a new configuration while this message was on its way
        }
        try {
            ensureOpen();
            ByteBuffer bytes = StandardCharsets.UTF_8.encode(line + "\n");
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            failed = false;
        } catch (IOException | RuntimeException e) {
            report("write", e);
            closeChannel();
        }
    }

    private void ensureOpen() throws IOException {
        if (channel == null) {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        }
    }

    /** Tells stderr once per failure streak; not through the logging, which would come back here. */
    private void report(String what, Exception e) {
        if (!failed) {
            StderrSink.raw("mailproxy: could not " + what + " error log " + file + ": " + e);
        }
        failed = true;
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
