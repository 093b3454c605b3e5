package org.mailproxy.shell.completers;

import java.util.List;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.ServerInfo;

/** Completes the names of the configured servers. */
@Service
public class ServerNameCompleter implements Completer {

    @Reference
    MailAdmin admin;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        for (ServerInfo server : admin.servers()) {
            delegate.getStrings().add(server.name());
        }
        return delegate.complete(session, commandLine, candidates);
    }
}
