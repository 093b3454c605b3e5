package org.mailproxy.core.errorlog;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The process's standard error, written through its file descriptor: {@code System.err} may be
 * redirected by the container, nginx's {@code stderr} is the descriptor.
 */
final class StderrSink implements Sink {

    private static final FileOutputStream STDERR = new FileOutputStream(FileDescriptor.err);

    @Override
    public void write(String line, Severity level) {
        raw(line);
    }

    static void raw(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (STDERR) {
            try {
                STDERR.write(bytes);
            } catch (IOException ignored) {
                // stderr is gone: nowhere left to tell
            }
        }
    }

    @Override
    public void close() {
        // the descriptor stays open
    }
}
