package org.mailproxy.shell.jmx;

/** {@code org.mailproxy:type=Server,name=NAME}: one configured server. */
public interface ServerMBean extends TrafficMBean {
    String getProtocol();
    String[] getListen();
    boolean isActive();
    String getInactiveReason();
    String[] getBindErrors();
    String getLocation();
}
