package org.mailproxy.core.config;

import java.util.List;

/**
 * The parameters of an {@code error_log syslog:...} target, as nginx's
 * {@code ngx_syslog_parse_args()} reads them:
 * {@code server=HOST[:PORT]} (UDP, port 514 by default), {@code facility=} (default
 * {@code local7}), {@code severity=} (default {@code info}; an error log sends each message with
 * its own level as severity, as nginx does), {@code tag=} (default {@value #DEFAULT_TAG}, at most
 * 32 letters, digits or underscores) and {@code nohostname}.
 */
public record SyslogTarget(String host, int port, int facility, int severity, String tag, boolean nohostname) {

    public static final String DEFAULT_TAG = "mailproxy";

    /** RFC 3164 facility names by code, as nginx's {@code facilities[]}. */
    public static final List<String> FACILITIES = List.of("kern", "user", "mail", "daemon", "auth", "intern", "lpr",
            "news", "uucp", "clock", "authpriv", "ftp", "ntp", "audit", "alert", "cron", "local0", "local1", "local2",
            "local3", "local4", "local5", "local6", "local7");

    static SyslogTarget parse(String params, Directive d) throws ConfigException {
        String host = null;
        int port = 514;
        Integer facility = null;
        Integer severity = null;
        String tag = null;
        boolean nohostname = false;
        for (String p : params.split(",", -1)) {
            if (p.startsWith("server=")) {
                if (host != null) {
                    throw d.error("duplicate syslog \"server\"");
                }
                String server = p.substring("server=".length());
                String portText = null;
                if (server.startsWith("[") && server.indexOf(']') > 0) {
                    int close = server.indexOf(']');
                    portText = server.length() > close + 1 && server.charAt(close + 1) == ':'
                            ? server.substring(close + 2) : null;
                    server = server.substring(1, close);
                } else if (server.indexOf(':') > 0 && server.indexOf(':') == server.lastIndexOf(':')) {
                    portText = server.substring(server.indexOf(':') + 1);
                    server = server.substring(0, server.indexOf(':'));
                }
                if (portText != null) {
                    port = portText.matches("\\d{1,5}") ? Integer.parseInt(portText) : -1;
                    if (port < 1 || port > 65535) {
                        throw d.error("invalid port in syslog server \"" + p.substring("server=".length()) + "\"");
                    }
                }
                if (server.isEmpty() || server.startsWith("unix:")) {
                    throw d.error("no host in syslog server \"" + p.substring("server=".length()) + "\"");
                }
                host = server;
            } else if (p.startsWith("facility=")) {
                if (facility != null) {
                    throw d.error("duplicate syslog \"facility\"");
                }
                facility = FACILITIES.indexOf(p.substring("facility=".length()));
                if (facility < 0) {
                    throw d.error("unknown syslog facility \"" + p.substring("facility=".length()) + "\"");
                }
            } else if (p.startsWith("severity=")) {
                if (severity != null) {
                    throw d.error("duplicate syslog \"severity\"");
                }
                severity = ErrorLog.LEVELS.indexOf(p.substring("severity=".length()));
                if (severity < 0) {
                    throw d.error("unknown syslog severity \"" + p.substring("severity=".length()) + "\"");
                }
            } else if (p.startsWith("tag=")) {
                if (tag != null) {
                    throw d.error("duplicate syslog \"tag\"");
                }
                tag = p.substring("tag=".length());
                if (tag.length() > 32) {
                    throw d.error("syslog tag length exceeds 32");
                }
                if (!tag.matches("[A-Za-z0-9_]*")) {
                    throw d.error("syslog \"tag\" only allows alphanumeric characters and underscore");
                }
            } else if (p.equals("nohostname")) {
                nohostname = true;
            } else {
                throw d.error("unknown syslog parameter \"" + p + "\"");
            }
        }
        if (host == null) {
            throw d.error("no syslog server specified");
        }
        return new SyslogTarget(host, port, facility == null ? 23 : facility, severity == null ? 6 : severity,
                tag == null ? DEFAULT_TAG : tag, nohostname);
    }
}
