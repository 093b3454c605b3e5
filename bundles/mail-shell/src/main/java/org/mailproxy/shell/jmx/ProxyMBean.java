package org.mailproxy.shell.jmx;

/** {@code org.mailproxy:type=Proxy}: the whole mail proxy. */
public interface ProxyMBean {
    long getCurrentSessions();
    long getTotalSessions();
    long getAuthOk();
    long getAuthFailed();
    long getAuthTimeouts();
    long getErrors();
    long getBytesFromClients();
    long getBytesFromBackends();
    String getConfigurationFile();
    String[] getSessions();
    boolean killSession(long id);
    String reload();
    String check(String file);
}
