package org.mailproxy.shell.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.shell.completers.SessionIdCompleter;

/** {@code mail:kill ID}: closes one session. */
@Command(scope = "mail", name = "kill", description = "Closes a mail session (client and backend connection)")
@Service
public class KillCommand implements Action {

    @Reference
    MailAdmin admin;

    @Argument(index = 0, name = "session", description = "The session id (see mail:sessions)", required = true)
    @Completion(SessionIdCompleter.class)
    long id;

    @Override
    public Object execute() {
        if (admin.kill(id)) {
            System.out.println("session " + id + " closed");
        } else {
            System.err.println("no session " + id);
        }
        return null;
    }
}
