package org.mailproxy.resolver.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.mailproxy.core.spi.HostResolver.HostName;
import org.mailproxy.core.spi.HostResolver.HostName.Status;
import org.mailproxy.core.util.InetText;
import org.mailproxy.resolver.ResolverSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * One configured resolver (one {@link ResolverSettings}): its server rotation, its cache and the
 * lookups in flight, as an nginx {@code ngx_resolver_t}. Servers whose effective {@code resolver}
 * is equal share one engine (and so one cache), as servers inheriting the mail-level
 * {@code resolver} share nginx's.
 *
 * <p>The client host name lookup is nginx's SMTP one ({@code ngx_mail_smtp_resolve_addr_handler},
 * {@code _resolve_name_handler}): a PTR lookup of the client address; NXDOMAIN or an empty answer
 * gives {@code [UNAVAILABLE]}, any other failure or the timeout {@code [TEMPUNAVAIL]}; the name
 * found must pass {@link HostNames#validated} or it is {@code [UNAVAILABLE]}; then a forward lookup
 * of that name (A and/or AAAA per {@code ipv4=}/{@code ipv6=}, CNAMEs followed up to 50 times) with
 * a {@code resolver_timeout} of its own: NXDOMAIN or no address gives {@code [UNAVAILABLE]}, a
 * failure of either type or the timeout {@code [TEMPUNAVAIL]}, and the name is accepted only if
 * the addresses contain the client's.
 *
 * <p>Answers are cached for their TTL, or for {@code valid=} when set; failures are not cached (as
 * in nginx, where a failed node is freed). Identical questions in flight are asked once.
 */
final class DnsEngine {

    private static final Logger LOG = LoggerFactory.getLogger(DnsEngine.class);

    /** nginx's {@code resend_timeout}: a question unanswered this long goes to the next server. */
    static final Duration RESEND = Duration.ofSeconds(5);

    /** nginx's {@code NGX_RESOLVER_MAX_RECURSION}: CNAMEs followed at most. */
    static final int MAX_CNAME = 50;

    /** Cached answers kept at most per engine; past that, new answers are not cached. */
    static final int MAX_CACHE = 10_000;

    /** The cache key of a name node (A and AAAA together), as a type no query has. */
    private static final int NODE = -1;

    private record Key(Name name, int type) {
    }

    private record Cached(Answer answer, long expiresNanos) {
    }

    private final ResolverSettings settings;
    private final ScheduledExecutorService scheduler;
    private final ZoneCounters zone;
    private final AtomicInteger rotation = new AtomicInteger();
    private final Map<Key, Cached> cache = new ConcurrentHashMap<>();
    private final Map<Key, CompletableFuture<Answer>> inflight = new ConcurrentHashMap<>();
    private final Executor executor;
    private volatile long lastUsed = System.nanoTime();

    DnsEngine(ResolverSettings settings, ScheduledExecutorService scheduler, ZoneCounters zone) {
        this.settings = settings;
        this.scheduler = scheduler;
        this.zone = zone;
        this.executor = task -> {
            try {
                scheduler.execute(task);
            } catch (RejectedExecutionException e) {
                // the resolver stopped: its lookups were already completed
            }
        };
    }

    ResolverSettings settings() {
        return settings;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    Executor executor() {
        return executor;
    }

    /** The index of the server the next new question goes to first. */
    int nextServer() {
        return Math.floorMod(rotation.getAndIncrement(), settings.servers().size());
    }

    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        return scheduler.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    }

    long lastUsed() {
        return lastUsed;
    }

    boolean idle() {
        return inflight.isEmpty();
    }

    /** The client's host name; never completes exceptionally. */
    CompletableFuture<HostName> hostName(InetAddress client, Duration timeout) {
        lastUsed = System.nanoTime();
        String clientText = InetText.text(client);
        if (zone != null) {
            zone.addrQuery();
        }
        Name reverse = ReverseMap.fromAddress(client);
        return lookup(reverse, Type.PTR, deadline(timeout), true).thenCompose(ptr -> {
            count(ptr);
            if (!ptr.ok()) {
                log(clientText, ptr.code());
                return done(ptr.code() == Answer.NXDOMAIN ? Status.UNAVAILABLE : Status.TEMPUNAVAIL, null);
            }
            String host = HostNames.validated(ptr.ptr());
            if (host == null) {
                LOG.warn("{} was resolved to an invalid host name \"{}\", using [UNAVAILABLE]", clientText,
                        HostNames.forLog(ptr.ptr()));
                return done(Status.UNAVAILABLE, null);
            }
            LOG.debug("address resolved: {}", host);
            if (zone != null) {
                zone.nameQuery();
            }
            return forward(host, deadline(timeout)).thenApply(addresses -> {
                count(addresses);
                if (!addresses.ok()) {
                    log("\"" + host + "\"", addresses.code());
                    return new HostName(addresses.code() == Answer.NXDOMAIN ? Status.UNAVAILABLE : Status.TEMPUNAVAIL,
                            null);
                }
                byte[] wanted = client.getAddress();
                for (InetAddress a : addresses.addresses()) {
                    if (Arrays.equals(a.getAddress(), wanted)) {
                        return new HostName(Status.FOUND, host);
                    }
                }
                LOG.debug("\"{}\" does not resolve back to {}", host, clientText);
                return new HostName(Status.UNAVAILABLE, null);
            });
        }).exceptionally(e -> {
            LOG.error("resolving {} failed", clientText, e);
            return new HostName(Status.TEMPUNAVAIL, null);
        });
    }

    /**
     * The addresses of a name under the ipv4/ipv6 switches, CNAMEs followed: one nginx name node
     * per name, its A and AAAA answers combined by {@link #node}, cached as one.
     */
    private CompletableFuture<Answer> forward(String host, long deadline) {
        Name name;
        try {
            name = Name.fromString(host + ".");
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(Answer.failure(Answer.NXDOMAIN));
        }
        return follow(name, deadline, 0);
    }

    private CompletableFuture<Answer> follow(Name name, long deadline, int depth) {
        return nameNode(name, deadline).thenCompose(answer -> {
            if (answer.ok() && answer.addresses().isEmpty() && answer.cname() != null) {
                if (depth >= MAX_CNAME) {
                    return CompletableFuture.completedFuture(Answer.failure(Answer.NXDOMAIN));
                }
                return follow(answer.cname(), deadline, depth + 1);
            }
            return CompletableFuture.completedFuture(answer);
        });
    }

    private CompletableFuture<Answer> nameNode(Name name, long deadline) {
        Key key = new Key(name, NODE);
        Answer cached = cached(key);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        CompletableFuture<Answer> a = settings.ipv4() ? lookup(name, Type.A, deadline, false) : null;
        CompletableFuture<Answer> aaaa = settings.ipv6() ? lookup(name, Type.AAAA, deadline, false) : null;
        CompletableFuture<Answer> node;
        if (a == null) {
            node = aaaa.thenApply(x -> node(x, null));
        } else if (aaaa == null) {
            node = a.thenApply(x -> node(x, null));
        } else {
            node = a.thenCombine(aaaa, DnsEngine::node);
        }
        return node.thenApply(answer -> {
            store(key, answer);
            return answer;
        });
    }

    /**
     * One name node from its A and/or AAAA answers, as {@code ngx_resolver_process_a()} builds it:
     * either type failing fails the node (a failure other than NXDOMAIN first); else the addresses
     * of both; else the CNAME to follow; else (no data for either type) NXDOMAIN. The node may be
     * cached for the smallest TTL of the records of both answers.
     */
    static Answer node(Answer one, Answer two) {
        List<Answer> parts = two == null ? List.of(one) : List.of(one, two);
        for (Answer p : parts) {
            if (!p.ok() && p.code() != Answer.NXDOMAIN) {
                return p;
            }
        }
        List<InetAddress> addresses = new ArrayList<>();
        Name cname = null;
        long ttl = -1;
        for (Answer p : parts) {
            if (!p.ok()) {
                return p;
            }
            addresses.addAll(p.addresses());
            if (p.cname() != null) {
                cname = p.cname();
            }
            if (p.ttl() >= 0) {
                ttl = ttl < 0 ? p.ttl() : Math.min(ttl, p.ttl());
            }
        }
        if (!addresses.isEmpty()) {
            return new Answer(Answer.OK, null, addresses, null, Math.max(ttl, 0));
        }
        if (cname != null) {
            return new Answer(Answer.OK, null, List.of(), cname, Math.max(ttl, 0));
        }
        return Answer.failure(Answer.NXDOMAIN);
    }

    /** One question: from the cache, else joined to the same question in flight, else asked. */
    CompletableFuture<Answer> lookup(Name name, int type, long deadline, boolean cache) {
        Key key = new Key(name, type);
        if (cache) {
            Answer cached = cached(key);
            if (cached != null) {
                return CompletableFuture.completedFuture(cached);
            }
        }
        CompletableFuture<Answer> shared = inflight.get(key);
        if (shared == null) {
            CompletableFuture<Answer> asked = new CompletableFuture<>();
            shared = inflight.putIfAbsent(key, asked);
            if (shared == null) {
                shared = asked;
                asked.thenAccept(answer -> {
                    inflight.remove(key, asked);
                    if (cache) {
                        store(key, answer);
                    }
                });
                new Query(this, name, type, deadline).start().whenComplete(
                        (answer, error) -> asked.complete(error == null ? answer : Answer.failure(Answer.ERROR)));
            }
        }
        return within(shared, deadline);
    }

    private Answer cached(Key key) {
        Cached cached = cache.get(key);
        if (cached == null) {
            return null;
        }
        if (cached.expiresNanos - System.nanoTime() > 0) {
            LOG.debug("resolve cached: {} {}", key.name, key.type == NODE ? "A/AAAA" : Type.string(key.type));
            return cached.answer;
        }
        cache.remove(key, cached);
        return null;
    }

    private void store(Key key, Answer answer) {
        if (!answer.ok()) {
            return;
        }
        long seconds = settings.valid().isZero() ? answer.ttl() : settings.valid().toSeconds();
        if (seconds <= 0) {
            return;
        }
        if (cache.size() >= MAX_CACHE) {
            purge();
            if (cache.size() >= MAX_CACHE) {
                return;
            }
        }
        cache.put(key, new Cached(answer, System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)));
    }

    /** Drops the expired answers. */
    void purge() {
        long now = System.nanoTime();
        cache.values().removeIf(c -> c.expiresNanos - now <= 0);
    }

    /** The shared answer, or TIMEDOUT at this caller's own deadline, whichever comes first. */
    private CompletableFuture<Answer> within(CompletableFuture<Answer> shared, long deadline) {
        if (shared.isDone()) {
            return shared;
        }
        CompletableFuture<Answer> mine = new CompletableFuture<>();
        long remaining = deadline - System.nanoTime();
        ScheduledFuture<?> timer = remaining > 0
                ? schedule(() -> mine.complete(Answer.failure(Answer.TIMEDOUT)), remaining) : null;
        if (timer == null) {
            mine.complete(Answer.failure(Answer.TIMEDOUT));
        }
        shared.whenComplete((answer, error) -> {
            if (timer != null) {
                timer.cancel(false);
            }
            mine.complete(error == null ? answer : Answer.failure(Answer.ERROR));
        });
        return mine;
    }

    private void count(Answer answer) {
        if (zone != null) {
            zone.response(answer.code());
        }
    }

    private static long deadline(Duration timeout) {
        return System.nanoTime() + Math.max(1, timeout.toNanos());
    }

    private static CompletableFuture<HostName> done(Status status, String name) {
        return CompletableFuture.completedFuture(new HostName(status, name));
    }

    /** nginx's {@code "%V could not be resolved (%i: %s)"}, at warn for failures, info for NXDOMAIN. */
    private static void log(String what, int code) {
        if (code == Answer.NXDOMAIN) {
            LOG.info("{} could not be resolved ({}: {})", what, code, Answer.strerror(code));
        } else {
            LOG.warn("{} could not be resolved ({}: {})", what, code, Answer.strerror(code));
        }
    }

    /** A name server as nginx writes it: {@code 127.0.0.1:53}, {@code [::1]:5353}. */
    static String text(InetSocketAddress server) {
        return InetText.hostPort(server);
    }
}
