package org.mailproxy.core.net;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/** A failed bind in nginx's words: {@code bind() to 0.0.0.0:143 failed (98: Address already in use)}. */
final class BindError {

    /** The JDK reports strerror() text without the number; Linux numbers for the usual ones. */
    private static final Map<String, Integer> LINUX_ERRNO = Map.of(
            "Permission denied", 13,
            "Address already in use", 98,
            "Cannot assign requested address", 99,
            "Address family not supported by protocol", 97);

    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

    private BindError() {
    }

    static String message(String address, IOException e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Integer errno = LINUX ? LINUX_ERRNO.get(reason) : null;
        return "bind() to " + address + " failed (" + (errno == null ? "" : errno + ": ") + reason + ")";
    }
}
