package org.mailproxy.core.spi;

import java.util.Locale;
import java.util.Map;

/**
 * A system error as nginx writes it, {@code (111: Connection refused)}, for the modules' log lines
 * (log-based tooling such as fail2ban filters matches them). The JDK reports the strerror() text
 * without the number; these are the Linux numbers of the errors a mail proxy meets on its sockets.
 */
public final class Errno {

    private static final Map<String, Integer> LINUX = Map.of(
            "Permission denied", 13,
            "Address already in use", 98,
            "Cannot assign requested address", 99,
            "Address family not supported by protocol", 97,
            "Network is unreachable", 101,
            "Connection reset by peer", 104,
            "Connection timed out", 110,
            "Connection refused", 111,
            "No route to host", 113);

    private static final boolean ON_LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

    private Errno() {
    }

    /** {@code 111: Connection refused}; the text alone when the number is not known. */
    public static String describe(Throwable error) {
        int errno = number(error);
        return errno == 0 ? reason(error) : errno + ": " + reason(error);
    }

    /** The Linux error number, 0 when not known. */
    public static int number(Throwable error) {
        Integer errno = ON_LINUX ? LINUX.get(reason(error)) : null;
        return errno == null ? 0 : errno;
    }

    /** The strerror() text the JDK reports ({@code Connection refused}), or what else describes the error. */
    public static String reason(Throwable error) {
        if (error == null) {
            return "unknown error";
        }
        String message = error.getMessage();
        return message == null || message.isEmpty() ? error.getClass().getSimpleName() : message;
    }
}
