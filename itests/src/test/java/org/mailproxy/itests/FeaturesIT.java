package org.mailproxy.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.inject.Inject;

import org.apache.karaf.features.Feature;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.ConfigurationAdmin;

/** The distribution boots with the mail features installed and the core bundle active. */
public class FeaturesIT extends MailProxyTestSupport {

    /** Injection waits for the service, so this also checks that Config Admin is there. */
    @Inject
    private ConfigurationAdmin configurationAdmin;

    @Test
    public void mailFeaturesAreInstalled() throws Exception {
        for (String name : new String[] {"mail", "mail-core"}) {
            Feature feature = featuresService.getFeature(name);
            assertNotNull("feature " + name + " is not in the repositories", feature);
            assertTrue("feature " + name + " is not installed", featuresService.isInstalled(feature));
        }
    }

    @Test
    public void coreBundleIsActive() throws Exception {
        Bundle core = awaitBundleState("org.mailproxy.core", Bundle.ACTIVE, DEFAULT_TIMEOUT);
        assertEquals(Bundle.ACTIVE, core.getState());
        // (MINA is a dependency="true" bundle of mail-core: installed when the core imports it.)
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
}
