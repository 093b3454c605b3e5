package org.mailproxy.shell.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.mailproxy.core.admin.CheckResult;
import org.mailproxy.core.admin.MailAdmin;

/** {@code mail:reload}: re-reads etc/mail.conf now. */
@Command(scope = "mail", name = "reload",
        description = "Re-reads the mail configuration file now; a valid file is applied, an invalid one is reported and the running configuration kept")
@Service
public class ReloadCommand implements Action {

    @Reference
    MailAdmin admin;

    @Override
    public Object execute() {
        CheckResult result = admin.reload();
        result.lines().forEach(System.out::println);
        if (!result.ok()) {
            System.out.println("the running configuration is kept");
        }
        return null;
    }
}
