package org.mailproxy.resolver.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * One question (name, type) asked of the configured servers until one gives a usable answer or
 * the deadline passes, as an nginx resolver node with its resend queue:
 * <ul>
 * <li>the first server is the next one in the resolver's rotation (nginx's
 *     {@code r->last_connection++}), so successive lookups go round-robin over the servers;</li>
 * <li>every {@link DnsEngine#RESEND} (nginx's {@code resend_timeout}, 5 s) without an answer the
 *     same question goes to the next server, the earlier ones still being listened to;</li>
 * <li>a server that cannot be reached (ICMP port unreachable, a send error) or that sends a
 *     response nginx drops is followed at once by the next server not yet asked in this round
 *     (nginx: "immediately retry once on failure");</li>
 * <li>the deadline ({@code resolver_timeout}) ends the query with {@link Answer#TIMEDOUT}.</li>
 * </ul>
 * Sending and receiving is dnsjava's non-blocking {@link SimpleResolver#sendAsync} (UDP, TCP when
 * the answer is truncated); callbacks and timers run on the resolver's own thread.
 */
final class Query {

    private static final Logger LOG = LoggerFactory.getLogger(Query.class);

    private final DnsEngine engine;
    private final Name name;
    private final int type;
    private final long deadline;
    private final Message message;
    private final List<InetSocketAddress> servers;
    private final int first;
    private final CompletableFuture<Answer> result = new CompletableFuture<>();

    private int sent;
    private int sentThisRound;
    private int outstanding;
    private ScheduledFuture<?> resendTimer;
    private ScheduledFuture<?> deadlineTimer;

    Query(DnsEngine engine, Name name, int type, long deadlineNanos) {
        this.engine = engine;
        this.name = name;
        this.type = type;
        this.deadline = deadlineNanos;
        this.message = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        this.servers = engine.settings().servers();
        this.first = engine.nextServer();
    }

    CompletableFuture<Answer> start() {
        synchronized (this) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                result.complete(Answer.failure(Answer.TIMEDOUT));
                return result;
            }
            deadlineTimer = engine.schedule(this::timedOut, remaining);
            long resend = DnsEngine.RESEND.toNanos();
            resendTimer = engine.scheduler().scheduleWithFixedDelay(this::resend, resend, resend, TimeUnit.NANOSECONDS);
            send();
        }
        return result;
    }

    /** Sends the question to the next server; the caller holds the lock. */
    private void send() {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            return;
        }
        InetSocketAddress server = servers.get((first + sent) % servers.size());
        sent++;
        sentThisRound++;
        outstanding++;
        CompletionStage<Message> reply;
        try {
            SimpleResolver resolver = new SimpleResolver(server);
            resolver.setTimeout(Duration.ofNanos(remaining));
            reply = resolver.sendAsync(message, engine.executor());
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((response, error) -> received(server, response, error));
    }

    private void received(InetSocketAddress server, Message response, Throwable error) {
        Answer answer = null;
        synchronized (this) {
            if (result.isDone()) {
                return;
            }
            outstanding--;
            String serverText = DnsEngine.text(server);
            if (error == null) {
                try {
                    answer = Responses.read(response, name, type, serverText);
                } catch (RuntimeException e) {
                    LOG.warn("invalid DNS response for {} {}, resolver: {}", name, Type.string(type), serverText, e);
                }
            } else {
                Throwable cause = error.getCause() != null && error instanceof java.util.concurrent.CompletionException
                        ? error.getCause() : error;
                LOG.debug("{} {} not answered by {}: {}", name, Type.string(type), serverText, cause.toString());
            }
            if (answer == null) {
                if (outstanding == 0 && sentThisRound < servers.size()) {
                    send();
                }
                return;
            }
            cancelTimers();
        }
        result.complete(answer);
    }

    private void resend() {
        synchronized (this) {
            if (result.isDone()) {
                return;
            }
            sentThisRound = 0;
            send();
        }
    }

    private void timedOut() {
        synchronized (this) {
            cancelTimers();
        }
        result.complete(Answer.failure(Answer.TIMEDOUT));
    }

    private void cancelTimers() {
        if (resendTimer != null) {
            resendTimer.cancel(false);
        }
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
    }
}
