package org.mailproxy.shell.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.ServerInfo;

/** {@code mail:servers}: every configured server, active or not and why. */
@Command(scope = "mail", name = "servers", description = "Lists the mail servers: listen addresses, protocol, state, connections")
@Service
public class ServersCommand implements Action {

    @Reference
    MailAdmin admin;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable().emptyTableText("no mail server configured");
        table.column("Name");
        table.column("Protocol");
        table.column("Listen");
        table.column("State");
        table.column("Current").alignRight();
        table.column("Total").alignRight();
        table.column("Defined at");
        for (ServerInfo s : admin.servers()) {
            String state = s.state();
            if (!s.bindErrors().isEmpty()) {
                state += " (" + String.join("; ", s.bindErrors()) + ")";
            }
            table.addRow().addContent(s.name(), s.protocol(), String.join(" ", s.listen()), state,
                    s.currentConnections(), s.totalConnections(), s.location());
        }
        table.print(System.out);
        return null;
    }
}
