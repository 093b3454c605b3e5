package org.mailproxy.core.errorlog;

import java.util.List;

/**
 * What the error logs need to know of a session, looked up by its number when one of its messages
 * is logged: the server (for routing), its tags, and the context nginx's handler adds.
 *
 * @param context the context without an action (the message brings its own)
 */
public record SessionFacts(String server, List<String> tags, LogContext context) {

    public SessionFacts {
        tags = List.copyOf(tags);
    }
}
