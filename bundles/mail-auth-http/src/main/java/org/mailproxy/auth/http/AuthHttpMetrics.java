package org.mailproxy.auth.http;

/**
 * The auth_http module's counters, registered as an OSGi service next to its
 * {@link org.mailproxy.core.spi.Authenticator}, for the console and JMX.
 */
public interface AuthHttpMetrics {

    /** A consistent-enough snapshot of the counters since the component was activated. */
    AuthHttpStats stats();
}
