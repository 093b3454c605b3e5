package org.mailproxy.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailproxy.core.spi.MailModule;

/**
 * The directives of the modules that currently run, as nginx's list of compiled-in modules.
 *
 * <p>Thread-safe: modules come and go as their bundles start and stop, while configurations are
 * built from a consistent {@link Snapshot}. Two modules may not declare the same directive, and
 * module names are unique.
 */
public final class DirectiveRegistry {

    /** An immutable view of the registry at one moment. */
    static final class Snapshot {
        private final List<MailModule> modules;
        private final Map<String, DirectiveSpec> specs;
        private final Map<String, String> owners;

        private Snapshot(List<MailModule> modules, Map<String, DirectiveSpec> specs, Map<String, String> owners) {
            this.modules = List.copyOf(modules);
            this.specs = Map.copyOf(specs);
            this.owners = Map.copyOf(owners);
        }

        List<MailModule> modules() {
            return modules;
        }

        DirectiveSpec find(String directive) {
            return specs.get(directive);
        }

        Map<String, DirectiveSpec> specs() {
            return specs;
        }

        String ownerOf(String directive) {
            return owners.get(directive);
        }

        boolean hasModule(String name) {
            return modules.stream().anyMatch(m -> m.name().equals(name));
        }
    }

    private volatile Snapshot snapshot = new Snapshot(List.of(), Map.of(), Map.of());

    /** An empty registry. */
    public DirectiveRegistry() {
    }

    /**
     * A registry holding the core's own modules: {@link CoreModule}, {@link ProxyModule},
     * {@link SslModule}, {@link RealIpModule} and {@link ProxySslModule}.
     */
    public static DirectiveRegistry withCoreModules() {
        DirectiveRegistry registry = new DirectiveRegistry();
        registry.add(new CoreModule());
        registry.add(new ProxyModule());
        registry.add(new SslModule());
        registry.add(new RealIpModule());
        registry.add(new ProxySslModule());
        return registry;
    }

    /**
     * Registers a module and its directives.
     *
     * @throws IllegalArgumentException when a module of that name is registered, or one of its
     *                                  directives belongs to another module already
     */
    public synchronized void add(MailModule module) {
        Snapshot s = snapshot;
        if (s.hasModule(module.name())) {
            throw new IllegalArgumentException("module \"" + module.name() + "\" is already registered");
        }
        Map<String, DirectiveSpec> specs = new HashMap<>(s.specs);
        Map<String, String> owners = new HashMap<>(s.owners);
        for (DirectiveSpec spec : module.directives()) {
            String owner = owners.get(spec.name());
            if (owner != null) {
                throw new IllegalArgumentException("directive \"" + spec.name() + "\" of module \""
                        + module.name() + "\" is already declared by module \"" + owner + "\"");
            }
            specs.put(spec.name(), spec);
            owners.put(spec.name(), module.name());
        }
        List<MailModule> modules = new ArrayList<>(s.modules);
        modules.add(module);
        snapshot = new Snapshot(modules, specs, owners);
    }

    /**
     * Unregisters a module (the same instance, or an equal one) and its directives.
     *
     * @return whether it was registered
     */
    public synchronized boolean remove(MailModule module) {
        Snapshot s = snapshot;
        List<MailModule> modules = new ArrayList<>(s.modules);
        boolean removed = modules.removeIf(m -> m == module || m.equals(module));
        if (!removed) {
            return false;
        }
        Map<String, DirectiveSpec> specs = new HashMap<>(s.specs);
        Map<String, String> owners = new HashMap<>(s.owners);
        owners.entrySet().removeIf(e -> {
            if (e.getValue().equals(module.name())) {
                specs.remove(e.getKey());
                return true;
            }
            return false;
        });
        snapshot = new Snapshot(modules, specs, owners);
        return true;
    }

    /** The spec of a directive of a registered module. */
    public Optional<DirectiveSpec> find(String directive) {
        return Optional.ofNullable(snapshot.find(directive));
    }

    /** The name of the registered module that declares a directive. */
    public Optional<String> moduleOf(String directive) {
        return Optional.ofNullable(snapshot.ownerOf(directive));
    }

    /** The registered modules, in registration order. */
    public List<MailModule> modules() {
        return snapshot.modules();
    }

    /** Whether a module of that name is registered. */
    public boolean isActive(String moduleName) {
        return snapshot.hasModule(moduleName);
    }

    Snapshot snapshot() {
        return snapshot;
    }
}
