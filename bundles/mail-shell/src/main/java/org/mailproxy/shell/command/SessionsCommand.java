package org.mailproxy.shell.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.SessionFilter;
import org.mailproxy.core.admin.SessionInfo;
import org.mailproxy.shell.completers.ProtocolCompleter;
import org.mailproxy.shell.completers.ServerNameCompleter;
import org.mailproxy.shell.internal.Format;

/** {@code mail:sessions}: the open sessions. */
@Command(scope = "mail", name = "sessions", description = "Lists the open mail sessions: client, user, state, backend, bytes, age")
@Service
public class SessionsCommand implements Action {

    @Reference
    MailAdmin admin;

    @Option(name = "-s", aliases = "--server", description = "Only sessions of this server (name or listen address)")
    @Completion(ServerNameCompleter.class)
    String server;

    @Option(name = "-p", aliases = "--protocol", description = "Only sessions of this protocol (imap, pop3, smtp)")
    @Completion(ProtocolCompleter.class)
    String protocol;

    @Option(name = "-u", aliases = "--user", description = "Only sessions of this login name")
    String user;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable().emptyTableText("no session");
        table.column("Id").alignRight();
        table.column("Server");
        table.column("Protocol");
        table.column("Client");
        table.column("User");
        table.column("State");
        table.column("Backend");
        table.column("From client").alignRight();
        table.column("From backend").alignRight();
        table.column("Age").alignRight();
        table.column("TLS name"); // the client's SNI host name
        for (SessionInfo s : admin.sessions(new SessionFilter(server, protocol, user))) {
            table.addRow().addContent(s.id(), s.server(), s.protocol(), s.client(), Format.dash(s.user()), s.state(),
                    Format.dash(s.backend()), s.bytesFromClient(), s.bytesFromBackend(), Format.age(s.ageMillis()),
                    Format.dash(s.tlsServerName()));
        }
        table.print(System.out);
        return null;
    }
}
