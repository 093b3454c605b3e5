package org.mailproxy.core.session;

/** Where a session is, for the console, JMX and the session log. */
public enum SessionState {
    /** The protocol talks with the client: greeting, capabilities, commands before a login. */
    GREETING,
    /** A login is being decided by the authenticator (set by {@link MailSession#authenticating}). */
    AUTH,
    /** Connecting to the backend and logging in there. */
    BACKEND_LOGIN,
    /** Relaying bytes between client and backend. */
    RELAY,
    /** Ended. */
    CLOSED
}
