package org.mailproxy.shell.jmx;

import java.util.Map;

/** The texts JConsole shows for the attributes and operations. */
final class Descriptions {

    private Descriptions() {
    }

    static final Map<String, String> TRAFFIC = Map.ofEntries(
            Map.entry("Name", "Server name (Config Admin name) or protocol"),
            Map.entry("CurrentConnections", "Sessions open now"),
            Map.entry("TotalConnections", "Sessions since the counters started (a server's restart when its configuration changes)"),
            Map.entry("AuthOk", "Logins accepted by the authenticator"),
            Map.entry("AuthFailed", "Logins refused, or abandoned while the authenticator was asked"),
            Map.entry("AuthTimeouts", "Logins the auth server did not answer within auth_http_timeout (client got a temporary error)"),
            Map.entry("Errors", "Invalid commands and backend connect/login failures"),
            Map.entry("BytesFromClients", "Bytes relayed from clients to backends"),
            Map.entry("BytesFromBackends", "Bytes relayed from backends to clients"),
            Map.entry("Protocol", "imap, pop3 or smtp"),
            Map.entry("Listen", "Listen addresses as configured"),
            Map.entry("Active", "Whether the server serves (protocol module running, a socket bound)"),
            Map.entry("InactiveReason", "Why the server does not serve, empty when active"),
            Map.entry("BindErrors", "Listen addresses that could not be bound"),
            Map.entry("Location", "FILE:LINE of the server block"));

    static final Map<String, String> PROXY = Map.ofEntries(
            Map.entry("CurrentSessions", "Sessions open now"),
            Map.entry("TotalSessions", "Sessions since the core started"),
            Map.entry("AuthOk", "Logins accepted by the authenticator"),
            Map.entry("AuthFailed", "Logins refused, or abandoned while the authenticator was asked"),
            Map.entry("AuthTimeouts", "Logins the auth server did not answer within auth_http_timeout (client got a temporary error)"),
            Map.entry("Errors", "Invalid commands and backend connect/login failures"),
            Map.entry("BytesFromClients", "Bytes relayed from clients to backends"),
            Map.entry("BytesFromBackends", "Bytes relayed from backends to clients"),
            Map.entry("ConfigurationFile", "The configuration file read by the proxy"),
            Map.entry("Sessions", "Open sessions, one line each: id server protocol client user state backend bytes age"),
            Map.entry("killSession", "Closes a session (client and backend); true when it existed"),
            Map.entry("killSession.p0", "Session id, as in the Sessions attribute and *id in the logs"),
            Map.entry("killSession.n0", "id"),
            Map.entry("reload", "Re-reads the configuration file now and applies it when valid"),
            Map.entry("check", "Tests a configuration file without applying it, like nginx -t"),
            Map.entry("check.p0", "File path; empty for the file in use"),
            Map.entry("check.n0", "file"));

    static final Map<String, String> AUTH_HTTP = Map.ofEntries(
            Map.entry("Requests", "HTTP requests to the auth servers (WAIT re-sends included)"),
            Map.entry("Ok", "Logins accepted"),
            Map.entry("Failed", "Logins refused"),
            Map.entry("Waits", "Auth-Status: WAIT answers"),
            Map.entry("TemporaryErrors", "Auth server unreachable, timed out or answering nonsense"),
            Map.entry("Timeouts", "Of the temporary errors, those caused by auth_http_timeout"),
            Map.entry("InFlight", "Authentications under way now"),
            Map.entry("LatencyMeanMicros", "Mean HTTP request duration, microseconds"),
            Map.entry("LatencyMaxMicros", "Longest HTTP request duration, microseconds"),
            Map.entry("NewConnections", "Connections opened to the auth servers (TCP and unix)"),
            Map.entry("ReusedConnections", "Requests sent on a kept-alive connection (auth_http_keepalive)"),
            Map.entry("StaleRetries", "Requests sent again because a kept-alive connection had been closed by the server"),
            Map.entry("IdleConnections", "Kept-alive connections idle now"));

    static final Map<String, String> RESOLVER = Map.ofEntries(
            Map.entry("Zone", "status_zone name"),
            Map.entry("NameQueries", "Forward lookups (A/AAAA) started"),
            Map.entry("AddrQueries", "Reverse lookups (PTR) started"),
            Map.entry("Success", "Lookups answered"),
            Map.entry("FormatError", "Lookups ended with FORMERR"),
            Map.entry("ServerFailure", "Lookups ended with SERVFAIL"),
            Map.entry("NotFound", "Lookups ended with NXDOMAIN or an empty answer"),
            Map.entry("Unimplemented", "Lookups ended with NOTIMP"),
            Map.entry("Refused", "Lookups ended with REFUSED"),
            Map.entry("TimedOut", "Lookups ended by resolver_timeout"),
            Map.entry("Other", "Lookups ended otherwise"));
}
