package org.mailproxy.itests;

import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.replaceConfigurationFile;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import javax.inject.Inject;
import javax.security.auth.Subject;

import org.osgi.service.cm.ConfigurationAdmin;
import org.apache.karaf.features.BootFinished;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.runner.RunWith;
import org.mailproxy.itests.fixtures.LineClient;
import org.mailproxy.itests.fixtures.MailBackends;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.ProbeBuilder;
import org.ops4j.pax.exam.TestProbeBuilder;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Base class of the integration tests: boots the built distribution (karaf-distro zip) in a
 * real Karaf. {@link PerSuite} is asked for, but failsafe runs each *IT class on its own, so in
 * practice every class gets a Karaf (about 10 s) with ports of its own; test classes must still
 * not leave the container broken for their own later methods.
 *
 * <p>The distribution's etc/mail.conf is replaced by {@code mail-itest.conf} (next to this class
 * in src/test/resources) with every {@code @..._PORT@} placeholder set to a free port; tests find those
 * ports with {@link #port(String)}. Karaf's own ports (ssh, JMX RMI registry and server) are
 * moved to free ports too, so the tests do not clash with a distribution running on the same
 * machine.
 *
 * <p>{@code @Configuration} runs in the test (driver) JVM; the test methods run inside Karaf, in
 * the probe bundle. Anything the test methods need from the configuration step is therefore
 * passed through Karaf's etc/system.properties.
 *
 * <p>System properties of the test JVM (failsafe sets the first three):
 * {@code mailproxy.distro} (path of the distribution zip), {@code karaf.version},
 * {@code maven.repo.local}; {@code mailproxy.itest.keep=true} keeps the unpacked Karaf in
 * target/exam for inspection.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public abstract class MailProxyTestSupport {

    /** Prefix of the system properties (inside Karaf) that hold the test ports. */
    public static final String PORT_PROPERTY_PREFIX = "mailproxy.itest.port.";

    /** The ports of the test configuration, as named in the {@code @..._PORT@} placeholders (lower case here). */
    public static final List<String> MAIL_PORTS = List.of("smtp", "pop3", "imap", "submission", "auth_http");

    /** The test configuration template, a class path resource. */
    public static final String TEST_CONFIG = "/org/mailproxy/itests/mail-itest.conf";

    /** System property (inside Karaf): path of features/src/main/feature/feature.xml. */
    public static final String FEATURES_FILE_PROPERTY = "mailproxy.itest.features";

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    @Inject
    protected BundleContext bundleContext;

    @Inject
    protected FeaturesService featuresService;

    @Inject
    protected SessionFactory sessionFactory;

    /** Injected only once the boot features (incl. `mail`) are installed: tests start after that. */
    @Inject
    protected BootFinished bootFinished;

    // ----------------------------------------------------------------------------------------
    // Container configuration (driver side)
    // ----------------------------------------------------------------------------------------

    @Configuration
    public Option[] config() throws IOException {
        String distro = requiredProperty("mailproxy.distro");
        File distroFile = new File(distro);
        if (!distroFile.isFile()) {
            throw new IllegalStateException("distribution zip not found: " + distro
                + " (build it first: mvn -B verify from the root, or -am with -pl itests)");
        }

        // Fresh ports for every container: Pax Exam boots a Karaf per test class, and one still
        // shutting down must not hold the next one's listeners (CI saw a class whose IMAP port
        // was answered by the previous Karaf). The tests read the ports from the system
        // properties of the container they run in, so they always match it.
        Map<String, Integer> ports = containerPorts();
        File testConfig = writeTestConfig(ports);

        List<Option> options = new ArrayList<>(Arrays.asList(
            karafDistributionConfiguration()
                .frameworkUrl(distroFile.toURI().toString())
                .karafVersion(System.getProperty("karaf.version", "4.4.10"))
                .name("mailproxy distribution")
                .unpackDirectory(new File("target/exam"))
                .useDeployFolder(false),
            configureConsole().ignoreLocalConsole(),
            logLevel(LogLevel.INFO),
            replaceConfigurationFile("etc/mail.conf", testConfig),
            editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", ports.get("ssh").toString()),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort",
                ports.get("rmi_registry").toString()),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort",
                ports.get("rmi_server").toString())));

        // Karaf resolves Pax Exam's own bundles through pax-url: point it at the build's local repo.
        String localRepo = System.getProperty("maven.repo.local");
        if (localRepo != null && !localRepo.isEmpty()) {
            options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg",
                "org.ops4j.pax.url.mvn.localRepository", localRepo));
        }
        // A real JSON parser for ErrorLogIT (versions as in the pom).
        options.add(mavenBundle("com.fasterxml.jackson.core", "jackson-annotations", "2.17.2"));
        options.add(mavenBundle("com.fasterxml.jackson.core", "jackson-core", "2.17.2"));
        options.add(mavenBundle("com.fasterxml.jackson.core", "jackson-databind", "2.17.2"));
        // A real POP3 client library for Pop3IT, as a bundle in the container (version as in the pom).
        options.add(mavenBundle("commons-net", "commons-net", "3.11.1"));
        // Angus Mail for ClientLibraryIT (versions as in the pom). The jakarta.mail and
        // jakarta.activation API bundles look their providers up through the OSGi resource locator
        // (they import org.glassfish.hk2.osgiresourcelocator dynamically), which reads the bundles'
        // META-INF/services: so the client needs no thread context class loader. Without the
        // locator, Session.getInstance fails: "No provider of jakarta.mail.util.StreamProvider".
        options.add(mavenBundle("org.glassfish.hk2", "osgi-resource-locator", "1.0.3"));
        options.add(mavenBundle("jakarta.activation", "jakarta.activation-api", "2.1.3"));
        options.add(mavenBundle("org.eclipse.angus", "angus-activation", "2.0.2"));
        options.add(mavenBundle("jakarta.mail", "jakarta.mail-api", "2.1.3"));
        options.add(mavenBundle("org.eclipse.angus", "angus-mail", "2.0.3"));
        for (Map.Entry<String, Integer> port : ports.entrySet()) {
            options.add(editConfigurationFilePut("etc/system.properties",
                PORT_PROPERTY_PREFIX + port.getKey(), port.getValue().toString()));
        }
        // The features file of the source tree, for FeaturesIT to compare the running Karaf with.
        options.add(editConfigurationFilePut("etc/system.properties", FEATURES_FILE_PROPERTY,
            new File("../features/src/main/feature/feature.xml").getAbsolutePath()));
        if (MailBackends.enabled()) {
            options.add(editConfigurationFilePut("etc/system.properties",
                MailBackends.DIR_PROPERTY, MailBackends.start().dir().toString()));
        }
        if (Boolean.getBoolean("mailproxy.itest.keep")) {
            options.add(keepRuntimeFolder());
        }
        return options.toArray(new Option[0]);
    }

    @ProbeBuilder
    public TestProbeBuilder probeConfiguration(TestProbeBuilder probe) {
        // The tests use Karaf's and the mail proxy's packages from whatever bundle exports them.
        probe.setHeader(Constants.DYNAMICIMPORT_PACKAGE, "*");
        return probe;
    }

    private static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set (run the tests through Maven)");
        }
        return value;
    }

    /** The backends' ports (Dovecot and Postfix run once per JVM) and free ones for this container. */
    private static Map<String, Integer> containerPorts() throws IOException {
        Map<String, Integer> ports = new LinkedHashMap<>();
        if (MailBackends.enabled()) {
            ports.putAll(MailBackends.start().ports()); // first, so their ports are taken below
        }
        List<String> portNames = new ArrayList<>(MAIL_PORTS);
        portNames.addAll(List.of("ssh", "rmi_registry", "rmi_server"));
        ports.putAll(freePorts(portNames));
        return ports;
    }

    /** Binds all ports at once (so they differ), then releases them for Karaf. */
    private static Map<String, Integer> freePorts(List<String> names) throws IOException {
        Map<String, Integer> ports = new LinkedHashMap<>();
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (String name : names) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports.put(name, socket.getLocalPort());
            }
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
        return ports;
    }

    private static File writeTestConfig(Map<String, Integer> ports) throws IOException {
        String text;
        try (InputStream in = MailProxyTestSupport.class.getResourceAsStream(TEST_CONFIG)) {
            if (in == null) {
                throw new IllegalStateException("test resource missing: " + TEST_CONFIG);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (Map.Entry<String, Integer> port : ports.entrySet()) {
            text = text.replace("@" + port.getKey().toUpperCase(Locale.ROOT) + "_PORT@", port.getValue().toString());
        }
        if (text.matches("(?s).*@[A-Z_]+_PORT@.*")) {
            throw new IllegalStateException(TEST_CONFIG + " uses a port that MailProxyTestSupport does not allocate");
        }
        // a file per call: Pax Exam may call @Configuration again before a container copies it
        File file = Files.createTempFile(Path.of("target"), "mail-itest-", ".conf").toFile();
        Files.writeString(file.toPath(), text, StandardCharsets.UTF_8);
        return file;
    }

    // ----------------------------------------------------------------------------------------
    // Helpers for the test methods (container side)
    // ----------------------------------------------------------------------------------------

    /** A port free on 127.0.0.1 at this moment (for a listener a test adds). */
    protected static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Whether something accepts connections on 127.0.0.1:port now. */
    protected static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Adds a server as an operator would with {@code config:edit}: a factory configuration of
     * {@code org.mailproxy.server} named {@code alias} (unique: Karaf's fileinstall mirrors it to
     * etc/), its {@code listen} being {@code listen} with a fresh port for {@code %d}, and the
     * given directive name/value pairs (a later pair wins). Returns the port once it accepts; the
     * configuration goes into {@code created}, for the test to delete.
     */
    protected static int addServer(ConfigurationAdmin configAdmin, List<org.osgi.service.cm.Configuration> created, String alias,
                                   String listen, String... directives) throws Exception {
        int port = freePort();
        org.osgi.service.cm.Configuration server = configAdmin.getFactoryConfiguration("org.mailproxy.server", alias, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("listen", String.format(listen, port));
        for (int i = 0; i < directives.length; i += 2) {
            props.put(directives[i], directives[i + 1]);
        }
        server.update(props);
        created.add(server);
        awaitTrue("port " + port + " of " + alias + " " + props + " accepts", Duration.ofSeconds(20), () -> accepts(port));
        return port;
    }

    /** {@code first} then {@code more}: directive pairs a helper adds before a test's own. */
    protected static String[] concat(String[] first, String... more) {
        String[] all = Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    /** Polls {@code condition} every 100 ms; fails the test with {@code what} after {@link #DEFAULT_TIMEOUT}. */
    protected static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        awaitTrue(what, DEFAULT_TIMEOUT, condition);
    }

    /** Polls {@code condition} every 100 ms; fails the test with {@code what} after {@code timeout}. */
    protected static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                org.junit.Assert.fail("not within " + timeout.toSeconds() + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    /** The error_log of mail-itest.conf (inside Karaf, where karaf.data is set). */
    protected static Path mailLog() {
        return Path.of(System.getProperty("karaf.data"), "log", "mail.log");
    }

    /** The size of {@link #mailLog()} now: pass it to {@link #mailLogSince(long)}. */
    protected static long mailLogMark() throws IOException {
        return Files.exists(mailLog()) ? Files.size(mailLog()) : 0;
    }

    /** What {@link #mailLog()} got after {@code mark} (from {@link #mailLogMark()}). */
    protected static String mailLogSince(long mark) throws IOException {
        if (!Files.exists(mailLog())) {
            return "";
        }
        byte[] all = Files.readAllBytes(mailLog());
        int from = (int) Math.min(mark, all.length);
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    /** The file descriptors this JVM (Karaf, when called from a test method) has open now. */
    protected static long openDescriptors() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fails unless the peer has closed (or reset) the connection: the next read ends the stream. */
    protected static void assertPeerClosed(LineClient client) throws IOException {
        try {
            String line = client.readLine();
            org.junit.Assert.fail("the connection stayed open: " + line);
        } catch (java.io.EOFException | java.net.SocketException closed) {
            // closed, or reset
        }
    }

    /**
     * A port of the test configuration or of Karaf: smtp, pop3, imap, submission, auth_http, ssh,
     * rmi_registry, rmi_server; or of the real backends (see MailBackends): dovecot_imap,
     * dovecot_pop3, postfix_smtp.
     */
    protected static int port(String name) {
        String value = System.getProperty(PORT_PROPERTY_PREFIX + name);
        if (value == null) {
            throw new IllegalArgumentException("no test port named " + name);
        }
        return Integer.parseInt(value);
    }

    /** The installed bundle with this symbolic name, or null. */
    protected Bundle bundle(String symbolicName) {
        for (Bundle bundle : bundleContext.getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        return null;
    }

    /** Waits for a bundle to reach a state (Bundle.ACTIVE, ...); fails after the timeout. */
    protected Bundle awaitBundleState(String symbolicName, int state, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        Bundle bundle;
        do {
            bundle = bundle(symbolicName);
            if (bundle != null && bundle.getState() == state) {
                return bundle;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        throw new AssertionError("bundle " + symbolicName + " did not reach state " + state + " within " + timeout
            + (bundle == null ? " (not installed)" : " (state " + bundle.getState() + ")"));
    }

    /** Waits for a service; fails after the timeout. */
    protected <T> T awaitService(Class<T> type, Duration timeout) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(bundleContext, type, null);
        tracker.open();
        try {
            T service = tracker.waitForService(timeout.toMillis());
            if (service == null) {
                throw new AssertionError("no " + type.getName() + " service within " + timeout);
            }
            return service;
        } finally {
            tracker.close();
        }
    }

    /** Runs a Karaf console command (as typed at the karaf@root> prompt) and returns its output. */
    protected String executeCommand(String command) {
        return executeCommand(command, DEFAULT_TIMEOUT);
    }

    /**
     * Runs a Karaf console command in a new console session and returns what it printed (standard
     * output and error together) followed by its result, if any. Waits first for the command to be
     * registered (commands come and go with their bundles). A command that throws makes this throw.
     *
     * @param principals if given, the command runs as a Subject with these principals (e.g. Karaf
     *                   RolePrincipals, to test command ACLs); otherwise without a Subject
     */
    protected String executeCommand(String command, Duration timeout, Principal... principals) {
        awaitCommand(command, timeout);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Callable<String> run = () -> {
            try (Session session = sessionFactory.create(new ByteArrayInputStream(new byte[0]), out, out)) {
                Object result = session.execute(command);
                if (result != null) {
                    session.getConsole().println(result);
                }
                session.getConsole().flush();
            }
            out.flush();
            return bytes.toString(StandardCharsets.UTF_8);
        };
        Callable<String> task = run;
        if (principals.length > 0) {
            Subject subject = new Subject();
            subject.getPrincipals().addAll(Arrays.asList(principals));
            task = () -> Subject.doAs(subject, (PrivilegedExceptionAction<String>) run::call);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<String> future = executor.submit(task);
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("command timed out after " + timeout + ": " + command
                + "\noutput so far:\n" + bytes.toString(StandardCharsets.UTF_8));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new RuntimeException("command failed: " + command + ": " + cause
                + "\noutput:\n" + bytes.toString(StandardCharsets.UTF_8), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException("interrupted while running: " + command, e);
        } finally {
            executor.shutdownNow();
        }
    }

    /** Waits until the first word of the command line names a registered console command. */
    private void awaitCommand(String command, Duration timeout) {
        String word = command.trim().split("\\s+", 2)[0];
        int colon = word.indexOf(':');
        String scope = colon > 0 ? word.substring(0, colon) : null;
        String name = colon > 0 ? word.substring(colon + 1) : word;
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean found = scope != null
                ? sessionFactory.getRegistry().getCommand(scope, name) != null
                : sessionFactory.getRegistry().getCommands().stream().anyMatch(c -> name.equals(c.getName()));
            if (found) {
                return;
            }
            if (System.nanoTime() >= end) {
                throw new AssertionError("console command " + word + " not available within " + timeout);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            }
        }
    }
}
