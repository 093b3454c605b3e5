package org.mailproxy.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.mailproxy.core.config.ConfigBuilder;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.ConfigParser;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.DirectiveRegistry;
import org.mailproxy.core.config.MailConfiguration;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@code etc/mail.conf} the source of the mail configurations in Config Admin.
 *
 * <p>The file is read at start and then checked every {@code pollMillis}: it (and every file it
 * includes) is parsed again, and only when the parsed directives differ from the last ones seen is
 * anything done. Polling the parsed tree rather than watching one file's timestamp also notices
 * changes in included files and glob matches. A file that fails to parse or validate is rejected
 * with its error (file:line) in the log, once per distinct error, and nothing is changed: the
 * running configuration keeps serving. A valid file becomes the configuration {@value
 * #MAIL_PID} (the {@code mail} block's own directives) and one factory configuration of {@value
 * #SERVER_FACTORY_PID} per {@code server} block, named after its first listen address; server
 * configurations this source wrote earlier that the file no longer has are deleted. Configurations
 * an operator created by other means (Karaf's {@code config:edit}, an {@code etc/*.cfg} file) are
 * left alone.
 */
final class ConfFileSource implements AutoCloseable {

    static final String MAIL_PID = "org.mailproxy.mail";
    static final String SERVER_FACTORY_PID = "org.mailproxy.server";
    static final String SOURCE_FILE = "mail.conf";

    private static final Logger LOG = LoggerFactory.getLogger(ConfFileSource.class);

    private final Path file;
    private final ConfigurationAdmin configAdmin;
    private final Supplier<DirectiveRegistry> registry;
    private final Check check;
    private final ScheduledExecutorService timer;
    private List<Directive> lastApplied;
    private String lastError;

    ConfFileSource(Path file, ConfigurationAdmin configAdmin, Supplier<DirectiveRegistry> registry, Check check) {
        this.file = file;
        this.configAdmin = configAdmin;
        this.registry = registry;
        this.check = check;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mail.conf watcher");
            t.setDaemon(true);
            return t;
        });
    }

    Path file() {
        return file;
    }

    /** Reads the file now and then every {@code pollMillis}. */
    void start(long pollMillis) {
        timer.execute(this::poll);
        timer.scheduleWithFixedDelay(this::poll, pollMillis, pollMillis, TimeUnit.MILLISECONDS);
    }

    /** Re-reads the file now even if it has not changed (console {@code mail:reload}). */
    synchronized Result reload() {
        lastApplied = null;
        lastError = null;
        return check(true);
    }

    private synchronized void poll() {
        try {
            check(false);
        } catch (RuntimeException e) {
            LOG.error("reading {} failed: {}", file, e.toString());
        }
    }

    private Result check(boolean force) {
        if (!file.toFile().exists()) {
            String msg = "open() \"" + file + "\" failed (2: No such file or directory)";
            if (!msg.equals(lastError)) {
                LOG.warn("{}; the mail configuration in Config Admin stays as it is", msg);
                lastError = msg;
            }
            return new Result(false, msg);
        }
        List<Directive> parsed;
        MailConfiguration config;
        try {
            parsed = ConfigParser.parse(file);
            if (!force && parsed.equals(lastApplied)) {
                return new Result(true, "unchanged");
            }
            config = ConfigBuilder.build(parsed, registry.get());
            check.check(config);
        } catch (ConfigException e) {
            if (force || !e.getMessage().equals(lastError)) {
                LOG.error("{}; configuration file {} rejected, the running configuration is kept",
                        e.getMessage(), file);
                lastError = e.getMessage();
            }
            return new Result(false, e.getMessage());
        }
        config.notes().forEach(n -> LOG.info("{}", n));
        try {
            publish(parsed);
        } catch (IOException | InvalidSyntaxException e) {
            LOG.error("storing the configuration of {} in Config Admin failed: {}", file, e.toString());
            return new Result(false, e.toString());
        }
        lastApplied = parsed;
        lastError = null;
        LOG.info("configuration file {} loaded: {} server(s)", file, config.servers().size());
        return new Result(true, "configuration file " + file + " loaded: " + config.servers().size()
                + " server(s)");
    }

    /** Writes the mail block and each server block into Config Admin; deletes servers gone from the file. */
    private void publish(List<Directive> top) throws IOException, InvalidSyntaxException {
        Directive mail = top.stream().filter(d -> d.name().equals("mail")).findFirst().orElse(null);
        List<Directive> mailOwn = new ArrayList<>();
        List<Directive> servers = new ArrayList<>();
        if (mail != null) {
            for (Directive d : mail.block()) {
                (d.name().equals("server") ? servers : mailOwn).add(d);
            }
        }
        Set<String> wanted = new HashSet<>();
        for (int i = 0; i < servers.size(); i++) {
            Directive server = servers.get(i);
            String name = serverName(server, i);
            wanted.add(name);
            update(configAdmin.getFactoryConfiguration(SERVER_FACTORY_PID, name, "?"),
                    BlockProperties.toProperties(server.block(), SOURCE_FILE, server.file(), server.line()));
        }
        Configuration[] existing = configAdmin.listConfigurations(
                "(&(service.factoryPid=" + SERVER_FACTORY_PID + ")(" + BlockProperties.SOURCE + "=" + SOURCE_FILE + "))");
        if (existing != null) {
            for (Configuration c : existing) {
                String pid = c.getPid();
                String name = pid.substring(pid.indexOf('~') + 1);
                if (!wanted.contains(name)) {
                    c.delete();
                }
            }
        }
        if (mailOwn.stream().noneMatch(d -> d.name().equals("error_log"))) {
            // nginx: the mail block inherits the top-level error_log
            top.stream().filter(d -> d.name().equals("error_log")).forEach(mailOwn::add);
        }
        String mailFile = mail == null ? file.toString() : mail.file();
        int mailLine = mail == null ? 0 : mail.line();
        Hashtable<String, Object> mailProps = BlockProperties.toProperties(mailOwn, SOURCE_FILE, mailFile, mailLine);
        // the main context's error logs too: they take what happens outside of sessions
        BlockProperties.putMain(mailProps, top.stream().filter(d -> d.name().equals("error_log")).toList());
        update(configAdmin.getConfiguration(MAIL_PID, "?"), mailProps);
    }

    private static void update(Configuration c, Hashtable<String, Object> props) throws IOException {
        if (c.getProperties() == null || !sameDirectives(c.getProperties(), props)) {
            c.update(props);
        }
    }

    private static boolean sameDirectives(java.util.Dictionary<String, Object> current, Hashtable<String, Object> wanted) {
        Hashtable<String, Object> cur = new Hashtable<>();
        for (var keys = current.keys(); keys.hasMoreElements(); ) {
            String k = keys.nextElement();
            if (!k.startsWith("service.") && !k.startsWith("felix.")) {
                cur.put(k, current.get(k));
            }
        }
        if (!cur.keySet().equals(wanted.keySet())) {
            return false;
        }
        for (String k : wanted.keySet()) {
            Object a = cur.get(k);
            Object b = wanted.get(k);
            if (a instanceof Object[] x && b instanceof Object[] y ? !java.util.Arrays.equals(x, y) : !Objects.equals(a, b)) {
                return false;
            }
        }
        return true;
    }

    /** Config Admin name of a server: its first listen address, e.g. {@code 127.0.0.1_1143}. */
    static String serverName(Directive server, int index) {
        for (Directive d : server.block()) {
            if (d.name().equals("listen") && !d.args().isEmpty()) {
                return d.args().get(0).replaceAll("[^A-Za-z0-9.-]", "_");
            }
        }
        return "server" + (index + 1);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** Checks beyond the directive tables: what the running proxy can serve. */
    @FunctionalInterface
    interface Check {
        void check(MailConfiguration config) throws ConfigException;
    }

    /** Outcome of one reading of the file. */
    record Result(boolean ok, String message) {
    }
}
