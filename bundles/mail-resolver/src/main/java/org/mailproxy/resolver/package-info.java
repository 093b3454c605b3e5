/**
 * The resolver module's public types: {@link org.mailproxy.resolver.ResolverSettings}, the value of
 * the {@code resolver} directive as {@code ServerConfig.get("resolver")} returns it, and
 * {@link org.mailproxy.resolver.ResolverStatistics} / {@link org.mailproxy.resolver.ZoneStats}, the
 * {@code status_zone} counters, for the console and JMX.
 */
@org.osgi.annotation.versioning.Version("1.0.0")
package org.mailproxy.resolver;
