package org.mailproxy.shell.jmx;

import javax.management.ObjectName;

/** The object names of the {@value #DOMAIN} domain. */
final class ObjectNames {

    static final String DOMAIN = "org.mailproxy";
    static final String PROXY = DOMAIN + ":type=Proxy";
    static final String AUTH_HTTP = DOMAIN + ":type=AuthHttp";

    private ObjectNames() {
    }

    static String server(String name) {
        return DOMAIN + ":type=Server,name=" + value(name);
    }

    static String protocol(String name) {
        return DOMAIN + ":type=Protocol,name=" + value(name);
    }

    static String resolverZone(String zone) {
        return DOMAIN + ":type=Resolver,zone=" + value(zone);
    }

    /** The value as it is when it needs no quoting, else quoted. */
    static String value(String v) {
        for (char c : v.toCharArray()) {
            if (c == ',' || c == '=' || c == ':' || c == '"' || c == '*' || c == '?' || c == '\n' || c == '\\') {
                return ObjectName.quote(v);
            }
        }
        return v;
    }
}
