package org.mailproxy.core.admin;

import java.util.List;

/**
 * One configured server.
 *
 * @param name               its short name: the Config Admin name (the part after {@code ~} of
 *                           its PID, e.g. {@code 127.0.0.1_1143} for a server of etc/mail.conf)
 * @param pid                its Config Admin PID
 * @param description        how logs name it: protocol and first listen, {@code imap 127.0.0.1:1143}
 * @param protocol           {@code imap}, {@code pop3} or {@code smtp}
 * @param listen             its listen addresses as written
 * @param active             whether it serves (its protocol module runs and a socket is bound)
 * @param inactiveReason     why it does not serve, or null
 * @param bindErrors         listen addresses that could not be bound, with the error
 * @param currentConnections sessions open now
 * @param totalConnections   sessions since the server's configuration last changed
 * @param location           {@code FILE:LINE} of its {@code server} block
 */
public record ServerInfo(String name, String pid, String description, String protocol, List<String> listen,
                         boolean active, String inactiveReason, List<String> bindErrors,
                         long currentConnections, long totalConnections, String location) {

    public ServerInfo {
        listen = List.copyOf(listen);
        bindErrors = List.copyOf(bindErrors);
    }

    /** {@code active}, or {@code inactive: REASON}. */
    public String state() {
        return active ? "active" : "inactive: " + inactiveReason;
    }

    /** Whether {@code text} names this server: its name, PID, description or one of its listen addresses. */
    public boolean matches(String text) {
        return text != null && (text.equals(name) || text.equals(pid) || text.equals(description)
                || listen.contains(text));
    }
}
