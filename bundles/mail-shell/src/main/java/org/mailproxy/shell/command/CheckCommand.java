package org.mailproxy.shell.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.mailproxy.core.admin.CheckResult;
import org.mailproxy.core.admin.MailAdmin;

/** {@code mail:check [file]}: {@code nginx -t} without applying anything. */
@Command(scope = "mail", name = "check",
        description = "Tests a mail configuration file without applying it (like nginx -t); default: the file in use")
@Service
public class CheckCommand implements Action {

    @Reference
    MailAdmin admin;

    @Argument(index = 0, name = "file", description = "The file to test (relative paths from the Karaf base directory)")
    @Completion(FileCompleter.class)
    String file;

    @Override
    public Object execute() {
        CheckResult result = admin.check(file);
        result.lines().forEach(System.out::println);
        return null;
    }
}
