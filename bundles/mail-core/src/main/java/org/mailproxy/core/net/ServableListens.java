package org.mailproxy.core.net;

import java.util.ArrayList;
import java.util.List;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ListenSpec;
import org.mailproxy.core.config.MailConfiguration;
import org.mailproxy.core.config.ServerConfig;

/**
 * The check that a configuration's {@code listen}s can be served by {@link ListenerSet}, without
 * touching a socket. What this build cannot serve is a configuration error at that listen's
 * file:line, never a parameter ignored silently. One check for every way a configuration comes in:
 * the running proxy (Config Admin and {@code etc/mail.conf}) and {@code mailproxy -t}.
 */
public final class ServableListens {

    private ServableListens() {
    }

    /** Throws the error of the first listen that {@link ListenerSet#apply} would refuse. */
    public static void check(MailConfiguration config) throws ConfigException {
        List<ListenBinding> all = new ArrayList<>();
        List<ServerConfig> servers = config.servers();
        for (int i = 0; i < servers.size(); i++) {
            for (ListenSpec listen : servers.get(i).listens()) {
                all.add(new ListenBinding(listen, i));
            }
        }
        try {
            ListenerSet.check(all);
        } catch (UnsupportedListenException e) {
            throw new ConfigException(e.getMessage(), e.spec().file(), e.spec().line());
        }
    }
}
