package org.mailproxy.core.config;

import java.util.List;
import java.util.Objects;

/**
 * The result of {@link ConfigBuilder#build}: the merged servers, the mail-level values, and the
 * notes (information about what was ignored or kept unvalidated) to log at info level.
 */
public final class MailConfiguration {

    private final List<ServerConfig> servers;
    private final BlockValues mail;
    private final List<String> notes;
    private final List<ErrorLog> mainErrorLogs;

    MailConfiguration(List<ServerConfig> servers, BlockValues mail, List<String> notes) {
        this(servers, mail, notes, List.of());
    }

    MailConfiguration(List<ServerConfig> servers, BlockValues mail, List<String> notes, List<ErrorLog> mainErrorLogs) {
        this.servers = List.copyOf(servers);
        this.mail = mail;
        this.notes = List.copyOf(notes);
        this.mainErrorLogs = List.copyOf(mainErrorLogs);
    }

    /** The {@code error_log} directives outside of {@code mail} (nginx's main context), in order. */
    public List<ErrorLog> mainErrorLogs() {
        return mainErrorLogs;
    }

    /** The servers in the order of the file. */
    public List<ServerConfig> servers() {
        return servers;
    }

    /** What the {@code mail} block itself sets (what servers inherit). */
    public BlockValues mail() {
        return mail;
    }

    /** Notes such as {@code "events" directive is outside of "mail", ignored in /etc/mail.conf:5}. */
    public List<String> notes() {
        return notes;
    }

    /** Equal when the servers and the mail-level values are equal; notes do not count. */
    @Override
    public boolean equals(Object o) {
        return o instanceof MailConfiguration m && servers.equals(m.servers) && mail.equals(m.mail)
                && mainErrorLogs.equals(m.mainErrorLogs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(servers, mail);
    }

    @Override
    public String toString() {
        return "MailConfiguration" + servers;
    }
}
