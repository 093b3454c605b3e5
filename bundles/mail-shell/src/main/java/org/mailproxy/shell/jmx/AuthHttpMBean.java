package org.mailproxy.shell.jmx;

/** {@code org.mailproxy:type=AuthHttp}: the auth_http module. */
public interface AuthHttpMBean {
    long getRequests();
    long getOk();
    long getFailed();
    long getWaits();
    long getTemporaryErrors();
    long getTimeouts();
    long getInFlight();
    long getLatencyMeanMicros();
    long getLatencyMaxMicros();
    long getNewConnections();
    long getReusedConnections();
    long getStaleRetries();
    long getIdleConnections();
}
