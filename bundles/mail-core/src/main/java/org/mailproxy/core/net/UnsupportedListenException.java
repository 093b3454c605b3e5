package org.mailproxy.core.net;

import org.mailproxy.core.config.ListenSpec;

/**
 * A {@code listen} this implementation cannot serve. Today that is {@code listen unix:...}: MINA has
 * no unix-domain socket acceptor, so rather than ignoring the listen the whole configuration is
 * refused (the caller adds the file and line from {@link #spec()}).
 */
public final class UnsupportedListenException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient ListenSpec spec;

    UnsupportedListenException(ListenSpec spec, String message) {
        super(message);
        this.spec = spec;
    }

    /** The rejected listen. */
    public ListenSpec spec() {
        return spec;
    }
}
