/**
 * What the auth_http bundle offers besides the core's {@link org.mailproxy.core.spi.Authenticator}:
 * its counters, for the console and JMX ({@link org.mailproxy.auth.http.AuthHttpMetrics}, a service
 * registered by the same component).
 */
@org.osgi.annotation.versioning.Version("1.1.0")
package org.mailproxy.auth.http;
