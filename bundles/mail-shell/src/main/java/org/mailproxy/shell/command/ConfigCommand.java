package org.mailproxy.shell.command;

import java.util.List;
import java.util.Optional;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.mailproxy.core.admin.ConfigValue;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.ServerInfo;
import org.mailproxy.shell.completers.ServerNameCompleter;

/** {@code mail:config [server]}: the effective configuration of servers and where each value comes from. */
@Command(scope = "mail", name = "config",
        description = "Shows the effective configuration of a server (all servers without argument) and where each value comes from")
@Service
public class ConfigCommand implements Action {

    @Reference
    MailAdmin admin;

    @Argument(index = 0, name = "server", description = "Server name or listen address (see mail:servers)")
    @Completion(ServerNameCompleter.class)
    String server;

    @Override
    public Object execute() {
        List<ServerInfo> servers = server == null ? admin.servers()
                : admin.server(server).map(List::of).orElse(List.of());
        if (servers.isEmpty()) {
            System.err.println(server == null ? "no mail server configured" : "no server " + server);
            return null;
        }
        boolean first = true;
        for (ServerInfo s : servers) {
            Optional<List<ConfigValue>> values = admin.config(s.name());
            if (values.isEmpty()) {
                continue;
            }
            if (!first) {
                System.out.println();
            }
            first = false;
            System.out.println("server " + s.name() + " (" + s.description() + ", " + s.location() + ")");
            ShellTable table = new ShellTable();
            table.column("Directive");
            table.column("Value");
            table.column("From");
            for (ConfigValue v : values.get()) {
                table.addRow().addContent(v.directive(), v.value(), v.origin());
            }
            table.print(System.out);
        }
        return null;
    }
}
