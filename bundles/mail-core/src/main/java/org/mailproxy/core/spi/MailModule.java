package org.mailproxy.core.spi;

import java.util.List;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.ServerConfig;

/**
 * A mail module: a named table of the directives it owns, as an nginx module's
 * {@code ngx_command_t} array. The core declares {@code mail}, {@code server}, {@code listen} and
 * friends ({@link org.mailproxy.core.config.CoreModule}); the protocol, auth_http and resolver
 * bundles declare theirs and register the module in the
 * {@link org.mailproxy.core.config.DirectiveRegistry} while they run.
 *
 * <p>A module that is not registered keeps its directives unvalidated when its name is listed in
 * {@link org.mailproxy.core.config.OptionalModules}, so a configuration stays loadable while, for
 * example, the imap bundle is stopped.
 */
public interface MailModule {

    /** The module name, unique within a registry: {@code "core"}, {@code "imap"}, {@code "auth_http"}. */
    String name();

    /** The directives this module owns; the list is read once when the module is registered. */
    List<DirectiveSpec> directives();

    /**
     * Checks one server after the mail-level values were merged into it, as an nginx module's
     * {@code merge_srv_conf} may refuse a configuration (for instance "no auth_http is defined
     * for server"). Called for every server, module by module in registration order.
     *
     * @param server the merged server
     * @throws ConfigException to reject the configuration; give the server's file and line
     */
    default void validate(ServerConfig server) throws ConfigException {
    }
}
