/**
 * Service interfaces through which the other mail bundles plug into the core: {@link
 * org.mailproxy.core.spi.MailModule} (a module's directive table), {@link
 * org.mailproxy.core.spi.MailProtocol} (imap, pop3, smtp), {@link
 * org.mailproxy.core.spi.Authenticator} (auth_http) and {@link org.mailproxy.core.spi.HostResolver}
 * (resolver), and {@link org.mailproxy.core.spi.IoThreads}, the core's I/O threads for modules
 * that open connections of their own. Each is registered as an OSGi service (Declarative Services) by its bundle.
 */
@org.osgi.annotation.versioning.Version("1.3.0")
package org.mailproxy.core.spi;
