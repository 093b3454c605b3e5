package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import javax.inject.Inject;
import javax.xml.parsers.DocumentBuilderFactory;

import org.apache.karaf.features.BundleInfo;
import org.apache.karaf.features.Feature;
import org.apache.karaf.features.Repository;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.ConfigurationAdmin;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The distribution boots with every feature of features/src/main/feature/feature.xml installed and
 * every mail proxy bundle active, after a boot provisioning that refreshed nothing.
 */
public class FeaturesIT extends MailProxyTestSupport {

    /** Injection waits for the service, so this also checks that Config Admin is there. */
    @Inject
    private ConfigurationAdmin configurationAdmin;

    /**
     * Every feature of features/src/main/feature/feature.xml is in Karaf's repository and
     * installed (the distribution boots {@code mail}, which requires them all).
     */
    @Test
    public void everyFeatureOfTheFeatureFileIsInstalled() throws Exception {
        Repository repository = mailRepository();
        Set<String> inRepository = new TreeSet<>();
        for (Feature feature : repository.getFeatures()) {
            inRepository.add(feature.getName());
            assertTrue("feature " + feature.getName() + " is not installed", featuresService.isInstalled(feature));
        }
        assertEquals("the features of " + repository.getName() + " against " + featureFile(),
            featureFileNames(), inRepository);
    }

    /**
     * Every mail proxy bundle that feature.xml names is installed from that location and ACTIVE,
     * and no other org.mailproxy bundle is there: a bundle missing from the feature fails here.
     */
    @Test
    public void everyMailProxyBundleOfTheFeaturesIsActive() throws Exception {
        Set<String> fromFile = featureFileBundles();
        Set<String> fromRepository = new TreeSet<>();
        for (Feature feature : mailRepository().getFeatures()) {
            for (BundleInfo info : feature.getBundles()) {
                if (info.getLocation().startsWith(MAIL_BUNDLE_PREFIX)) {
                    fromRepository.add(artifact(info.getLocation()));
                }
            }
        }
        assertEquals("mail proxy bundles of the installed repository against " + featureFile(), fromFile, fromRepository);
        assertTrue("feature.xml names no mail proxy bundle", fromFile.size() >= 7);

        Map<String, Bundle> installed = new TreeMap<>();
        for (Bundle bundle : bundleContext.getBundles()) {
            if (bundle.getLocation().startsWith(MAIL_BUNDLE_PREFIX)) {
                installed.put(artifact(bundle.getLocation()), bundle);
            }
        }
        assertEquals("installed mail proxy bundles (by artifact)", fromFile, installed.keySet());
        for (Map.Entry<String, Bundle> entry : installed.entrySet()) {
            Bundle bundle = awaitBundleState(entry.getValue().getSymbolicName(), Bundle.ACTIVE, DEFAULT_TIMEOUT);
            assertEquals(entry.getKey() + " (" + bundle.getSymbolicName() + ") state", Bundle.ACTIVE, bundle.getState());
        }
        // and every bundle named org.mailproxy.* is one of them
        for (Bundle bundle : bundleContext.getBundles()) {
            String name = bundle.getSymbolicName();
            if (name != null && name.startsWith("org.mailproxy.")) {
                assertTrue(name + " is installed from " + bundle.getLocation() + ", not from the features",
                    installed.containsValue(bundle));
            }
        }
    }

    /**
     * The boot provisioning stopped and refreshed nothing. A refresh during boot restarts the
     * features service, which then provisions the boot features again; a Pax Exam probe installed
     * meanwhile lands in no region and is refused ("Resolver hook prevented resolution"). The boot
     * features are one stage and Pax Exam's own feature a later one, so the probe arrives after
     * the last provisioning that changes wiring or regions.
     */
    @Test
    public void bootProvisioningRefreshedNothing() throws Exception {
        String log = Files.readString(Path.of(System.getProperty("karaf.data"), "log", "karaf.log"), StandardCharsets.UTF_8);
        assertTrue("karaf.log has the boot provisioning", log.contains("Changes to perform:"));
        for (String refresh : new String[] {"Stopping bundles:", "Refreshing bundles:"}) {
            assertFalse("the boot provisioning logged \"" + refresh + "\":\n" + log, log.contains(refresh));
        }
        Object boot = configurationAdmin.getConfiguration("org.apache.karaf.features", null).getProperties().get("featuresBoot");
        assertTrue("featuresBoot: the distribution's features are one stage, before Pax Exam's: " + boot,
            String.valueOf(boot).matches("\\([^()]*\\bmail\\)\\s*,.*\\bexam\\b.*"));
    }

    @Test
    public void configAdminIsPresent() throws Exception {
        assertNotNull(configurationAdmin);
        // usable, not just registered
        configurationAdmin.listConfigurations(null);
    }

    @Test
    public void testConfigurationReplacedTheDefault() throws Exception {
        // etc/system.properties of the distribution defines mailproxy.conf = ${karaf.etc}/mail.conf
        String conf = System.getProperty("mailproxy.conf");
        assertNotNull("system property mailproxy.conf is not set", conf);
        assertTrue(conf, conf.endsWith("mail.conf"));
        String text = Files.readString(Path.of(conf), StandardCharsets.UTF_8);
        assertTrue("etc/mail.conf is not the test configuration:\n" + text,
            text.contains("listen   127.0.0.1:" + port("imap") + ";"));
    }

    @Test
    public void consoleCommandsRun() {
        String features = executeCommand("feature:list -i");
        assertTrue(features, features.contains("mail-core"));
        String bundles = executeCommand("bundle:list -s");
        assertTrue(bundles, bundles.contains("org.mailproxy.core"));
    }

    private static final String MAIL_BUNDLE_PREFIX = "mvn:org.mailproxy/";

    /** The features repository of the mail proxy as Karaf loaded it. */
    private Repository mailRepository() throws Exception {
        for (Repository repository : featuresService.listRepositories()) {
            if (repository.getName() != null && repository.getName().startsWith("mailproxy-")) {
                return repository;
            }
        }
        throw new AssertionError("no mailproxy-* features repository in Karaf");
    }

    private static Path featureFile() {
        return Path.of(System.getProperty(FEATURES_FILE_PROPERTY));
    }

    private static Document parsedFeatureFile() throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(featureFile().toFile());
    }

    /** The names of the features the source file defines. */
    private static Set<String> featureFileNames() throws Exception {
        Set<String> names = new TreeSet<>();
        NodeList features = parsedFeatureFile().getDocumentElement().getElementsByTagName("feature");
        for (int i = 0; i < features.getLength(); i++) {
            Element feature = (Element) features.item(i);
            if (feature.getParentNode() == feature.getOwnerDocument().getDocumentElement()) {
                names.add(feature.getAttribute("name"));
            }
        }
        return names;
    }

    /** The artifacts of the mail proxy bundles the source file names ({@code mail-core}, ...). */
    private static Set<String> featureFileBundles() throws Exception {
        Set<String> artifacts = new TreeSet<>();
        NodeList bundles = parsedFeatureFile().getDocumentElement().getElementsByTagName("bundle");
        for (int i = 0; i < bundles.getLength(); i++) {
            String location = bundles.item(i).getTextContent().trim();
            if (location.startsWith(MAIL_BUNDLE_PREFIX)) {
                artifacts.add(artifact(location));
            }
        }
        return artifacts;
    }

    /** {@code mvn:org.mailproxy/mail-core/0.1.0-SNAPSHOT} -> {@code mail-core}. */
    private static String artifact(String location) {
        return location.substring(MAIL_BUNDLE_PREFIX.length()).split("/")[0];
    }
}
