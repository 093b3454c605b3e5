package org.mailproxy.core.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.mailproxy.core.net.ServableListens;
import org.mailproxy.core.spi.MailModule;

/**
 * {@code nginx -t} for the mail proxy, usable without OSGi:
 * {@code java -cp mail-core.jar org.mailproxy.core.config.ConfigCheck -t -c etc/mail.conf}.
 *
 * <p>The modules are found with {@link ServiceLoader} ({@code META-INF/services/org.mailproxy.core.spi.MailModule});
 * directives of optional modules missing from the class path are kept unvalidated and reported as
 * {@code [info]} lines. A file is checked as the running proxy checks it: parsed and built, then
 * its listens checked with {@link ServableListens} (so a listen the proxy would refuse fails here too).
 * Like nginx, it prints to standard error and exits with 1 on failure.
 *
 * <pre>
 * mailproxy: the configuration file etc/mail.conf syntax is ok
 * mailproxy: configuration file etc/mail.conf test is successful
 * </pre>
 * or
 * <pre>
 * mailproxy: [emerg] unknown directive "foo" in etc/mail.conf:3
 * mailproxy: configuration file etc/mail.conf test failed
 * </pre>
 */
public final class ConfigCheck {

    /** The prefix of every line, as nginx prints {@code nginx:}. */
    public static final String PREFIX = "mailproxy: ";

    /** The file checked when no {@code -c} is given (Karaf layout). */
    public static final String DEFAULT_FILE = "etc/mail.conf";

    /**
     * What a check printed and its exit status.
     *
     * @param status 0 on success, 1 on failure
     * @param lines  the lines, without line ends
     */
    public record Result(int status, List<String> lines) {
        public Result {
            lines = List.copyOf(lines);
        }
    }

    private ConfigCheck() {
    }

    /** Options: {@code -t} (test, the only action), {@code -c FILE}, {@code -q} (errors only), {@code -h}. */
    public static void main(String[] args) {
        Result result = run(args);
        for (String line : result.lines()) {
            System.err.println(line);
        }
        System.exit(result.status());
    }

    /** Runs the command line with the modules found by {@link ServiceLoader}. */
    public static Result run(String... args) {
        String file = DEFAULT_FILE;
        boolean quiet = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
            case "-t":
                break;
            case "-q":
                quiet = true;
                break;
            case "-c":
                if (i + 1 == args.length) {
                    return new Result(1, List.of(PREFIX + "option \"-c\" requires file name"));
                }
                file = args[++i];
                break;
            case "-h":
            case "-?":
                return new Result(0, List.of("Usage: mailproxy-check [-?hqt] [-c filename]", "",
                        "Options:",
                        "  -?,-h         : this help",
                        "  -t            : test configuration and exit",
                        "  -q            : suppress non-error messages during configuration testing",
                        "  -c filename   : set configuration file (default: " + DEFAULT_FILE + ")"));
            default:
                return new Result(1, List.of(PREFIX + "invalid option: \"" + args[i] + "\""));
            }
        }
        return check(Path.of(file), discover(ConfigCheck.class.getClassLoader()), quiet);
    }

    /** Checks a file against a registry, as {@code nginx -t [-q] -c FILE}. */
    public static Result check(Path file, DirectiveRegistry registry, boolean quiet) {
        List<String> lines = new ArrayList<>();
        try {
            MailConfiguration config = ConfigBuilder.load(file, registry);
            ServableListens.check(config);
            if (!quiet) {
                for (String note : config.notes()) {
                    lines.add(PREFIX + "[info] " + note);
                }
                lines.add(PREFIX + "the configuration file " + file + " syntax is ok");
                lines.add(PREFIX + "configuration file " + file + " test is successful");
            }
            return new Result(0, lines);
        } catch (ConfigException e) {
            lines.add(PREFIX + "[emerg] " + e.getMessage());
            lines.add(PREFIX + "configuration file " + file + " test failed");
            return new Result(1, lines);
        }
    }

    /** A registry of every {@link MailModule} the class loader provides, each name once. */
    public static DirectiveRegistry discover(ClassLoader loader) {
        DirectiveRegistry registry = new DirectiveRegistry();
        for (MailModule module : ServiceLoader.load(MailModule.class, loader)) {
            if (!registry.isActive(module.name())) {
                registry.add(module);
            }
        }
        return registry;
    }
}
