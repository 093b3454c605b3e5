package org.mailproxy.core.net;

import java.io.IOException;
import org.mailproxy.core.spi.Errno;

/** A failed bind in nginx's words: {@code bind() to 0.0.0.0:143 failed (98: Address already in use)}. */
final class BindError {

    private BindError() {
    }

    static String message(String address, IOException e) {
        return "bind() to " + address + " failed (" + Errno.describe(e) + ")";
    }
}
