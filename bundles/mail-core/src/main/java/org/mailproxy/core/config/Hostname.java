package org.mailproxy.core.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The machine's host name, the default of {@code server_name}: what nginx keeps in
 * {@code cycle->hostname}, from {@code gethostname()}, in lower case.
 */
final class Hostname {

    private static volatile String cached;

    private Hostname() {
    }

    static String get() {
        String name = cached;
        if (name == null) {
            name = lookup().toLowerCase(Locale.ROOT);
            cached = name;
        }
        return name;
    }

    private static String lookup() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            /* the name exists but does not resolve: Java puts it first in the message */
            String message = e.getMessage();
            if (message != null && message.indexOf(':') > 0) {
                return message.substring(0, message.indexOf(':')).trim();
            }
        }
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException | SecurityException e) {
            /* not Linux, or not readable */
        }
        return "localhost";
    }
}
