package org.mailproxy.shell.jmx;

import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.management.DynamicMBean;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * A set of MBean services named by a key (a server, a protocol, a zone), kept in line with the
 * keys that exist now. Each MBean is an OSGi service {@code javax.management.DynamicMBean} with
 * the property {@code jmx.objectname}, which the Aries JMX whiteboard registers in the platform
 * MBean server (and unregisters with the service).
 */
final class Registrations {

    private final BundleContext context;
    private final Function<String, String> objectName;
    private final Function<String, DynamicMBean> factory;
    private final Map<String, ServiceRegistration<DynamicMBean>> registered = new HashMap<>();

    Registrations(BundleContext context, Function<String, String> objectName, Function<String, DynamicMBean> factory) {
        this.context = context;
        this.objectName = objectName;
        this.factory = factory;
    }

    static ServiceRegistration<DynamicMBean> register(BundleContext context, String objectName, DynamicMBean mbean) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("jmx.objectname", objectName);
        return context.registerService(DynamicMBean.class, mbean, props);
    }

    synchronized void sync(Set<String> keys) {
        registered.entrySet().removeIf(e -> {
            if (!keys.contains(e.getKey())) {
                unregister(e.getValue());
                return true;
            }
            return false;
        });
        for (String key : keys) {
            registered.computeIfAbsent(key, k -> register(context, objectName.apply(k), factory.apply(k)));
        }
    }

    synchronized void close() {
        registered.values().forEach(Registrations::unregister);
        registered.clear();
    }

    static void unregister(ServiceRegistration<?> registration) {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already gone with the bundle
        }
    }
}
