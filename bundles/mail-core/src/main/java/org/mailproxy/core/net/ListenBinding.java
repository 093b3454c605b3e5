package org.mailproxy.core.net;

import java.util.Objects;
import org.mailproxy.core.config.ListenSpec;

/**
 * One wanted {@code listen}: the parsed directive and the server it belongs to. The key is opaque
 * to the listeners; they route each accepted connection to the key of the listen it matched and
 * count connections per key. Keys are compared with {@code equals}.
 *
 * @param spec      the listen directive
 * @param serverKey the server the connections go to
 */
public record ListenBinding(ListenSpec spec, Object serverKey) {

    public ListenBinding {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(serverKey, "serverKey");
    }
}
