package org.mailproxy.shell.jmx;

/** {@code org.mailproxy:type=Server,name=NAME} and {@code org.mailproxy:type=Protocol,name=imap|pop3|smtp}. */
public interface TrafficMBean {
    String getName();
    long getCurrentConnections();
    long getTotalConnections();
    long getAuthOk();
    long getAuthFailed();
    long getAuthTimeouts();
    long getErrors();
    long getBytesFromClients();
    long getBytesFromBackends();
}
