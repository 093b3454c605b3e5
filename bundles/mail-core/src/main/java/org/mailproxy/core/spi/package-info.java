/**
 * Service interfaces through which the other mail bundles plug into the core: {@link
 * org.mailproxy.core.spi.MailModule} (a module's directive table), {@link
 * org.mailproxy.core.spi.MailProtocol} (imap, pop3, smtp), {@link
 * org.mailproxy.core.spi.Authenticator} (auth_http) and {@link org.mailproxy.core.spi.HostResolver}
 * (resolver), and {@link org.mailproxy.core.spi.IoThreads}, the core's I/O threads for modules
 * that open connections of their own. Each is registered as an OSGi service (Declarative Services) by its bundle.
 *
 * <p>2.0.0: the credentials in {@link org.mailproxy.core.spi.AuthRequest} and {@link
 * org.mailproxy.core.spi.AuthResult.Ok} are the client's bytes as ISO-8859-1 (one char per byte),
 * no longer UTF-8 text; the signatures are the same, the meaning is not, so both sides must agree.
 * {@link org.mailproxy.core.spi.IoThreads} is new in 2.0.0.
 *
 * <p>3.0.0: {@link org.mailproxy.core.spi.IoThreads} hands out MINA {@code SocketConnector}s (the
 * interface) instead of {@code NioSocketConnector}s: the core's connector completes local
 * handshakes without MINA's connector thread and cannot be MINA's final class.
 */
@org.osgi.annotation.versioning.Version("3.0.0")
package org.mailproxy.core.spi;
