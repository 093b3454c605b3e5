package org.mailproxy.core.spi;

import java.net.InetAddress;
import java.util.concurrent.CompletionStage;
import org.mailproxy.core.config.ServerConfig;

/**
 * Finds a client's host name (nginx: {@code resolver}): a PTR lookup whose answer is accepted only
 * when a forward lookup of that name contains the client's address. Used for auth_http's
 * {@code Client-Host} and SMTP's {@code XCLIENT NAME=}. Implemented by the resolver bundle.
 */
public interface HostResolver extends MailModule {

    /** Resolves {@code client} under the resolver settings of {@code server}; never completes exceptionally. */
    CompletionStage<HostName> resolve(InetAddress client, ServerConfig server);

    /**
     * Outcome of a lookup, in the three forms XCLIENT knows: a validated name, {@code [UNAVAILABLE]}
     * (no PTR, or the forward lookup does not confirm it) and {@code [TEMPUNAVAIL]} (DNS error or timeout).
     */
    record HostName(Status status, String name) {
        public enum Status { FOUND, UNAVAILABLE, TEMPUNAVAIL }

        /** The name for XCLIENT NAME= : the host, or the bracketed status word. */
        public String xclientName() {
            return switch (status) {
                case FOUND -> name;
                case UNAVAILABLE -> "[UNAVAILABLE]";
                case TEMPUNAVAIL -> "[TEMPUNAVAIL]";
            };
        }
    }
}
