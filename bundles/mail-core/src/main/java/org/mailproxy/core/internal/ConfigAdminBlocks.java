package org.mailproxy.core.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ManagedService;
import org.osgi.service.cm.ManagedServiceFactory;

/**
 * Receives the mail configurations from Config Admin: the {@code mail} block ({@value
 * ConfFileSource#MAIL_PID}, a ManagedService) and the {@code server} blocks (factory PID {@value
 * ConfFileSource#SERVER_FACTORY_PID}, a ManagedServiceFactory), whoever wrote them: the
 * {@code etc/mail.conf} source, Karaf's {@code config:edit}, an {@code etc/*.cfg} file, or a JMX
 * console. Every change calls {@code onChange}; the caller coalesces a burst of changes (one file
 * reload touches several configurations) into one rebuild.
 */
final class ConfigAdminBlocks implements AutoCloseable {

    private final Runnable onChange;
    private final Map<String, Dictionary<String, ?>> servers = new TreeMap<>();
    private Dictionary<String, ?> mail;
    private ServiceRegistration<?> mailRegistration;
    private ServiceRegistration<?> serverRegistration;

    ConfigAdminBlocks(Runnable onChange) {
        this.onChange = onChange;
    }

    void register(BundleContext context) {
        Hashtable<String, Object> mailProps = new Hashtable<>();
        mailProps.put(Constants.SERVICE_PID, ConfFileSource.MAIL_PID);
        mailRegistration = context.registerService(ManagedService.class, (ManagedService) props -> {
            synchronized (this) {
                mail = props;
            }
            onChange.run();
        }, mailProps);

        Hashtable<String, Object> serverProps = new Hashtable<>();
        serverProps.put(Constants.SERVICE_PID, ConfFileSource.SERVER_FACTORY_PID);
        serverRegistration = context.registerService(ManagedServiceFactory.class, new ManagedServiceFactory() {
            @Override
            public String getName() {
                return "mail server blocks";
            }

            @Override
            public void updated(String pid, Dictionary<String, ?> props) {
                synchronized (ConfigAdminBlocks.this) {
                    servers.put(pid, props);
                }
                onChange.run();
            }

            @Override
            public void deleted(String pid) {
                synchronized (ConfigAdminBlocks.this) {
                    servers.remove(pid);
                }
                onChange.run();
            }
        }, serverProps);
    }

    /** The current mail block (null when there is none) and server blocks by PID. */
    synchronized Snapshot snapshot() {
        return new Snapshot(mail, new TreeMap<>(servers));
    }

    @Override
    public void close() {
        if (mailRegistration != null) {
            mailRegistration.unregister();
        }
        if (serverRegistration != null) {
            serverRegistration.unregister();
        }
    }

    record Snapshot(Dictionary<String, ?> mail, Map<String, Dictionary<String, ?>> servers) {
    }
}
