package org.mailproxy.auth.http.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;

/**
 * One {@code authenticate} call: one {@link Attempt}, and another with the very same request bytes
 * after each {@code Auth-Status: WAIT} (after {@code Auth-Wait} seconds; the login attempt number
 * is not incremented, as in nginx), until a final answer; each re-send takes a kept-alive connection
 * when there is one. Cancelling {@link #result()} closes the connection under way and stops the
 * waiting.
 */
final class AuthExchange {

    private final AuthHttpModule.Running running;
    private final AuthRequest request;
    private final AuthHttpSettings settings;
    private final byte[] bytes;
    private final AuthLog log;
    private final CompletableFuture<AuthResult> result = new CompletableFuture<>();
    private volatile Attempt attempt;
    private volatile ScheduledFuture<?> pendingResend;

    AuthExchange(AuthHttpModule.Running running, AuthRequest request, AuthHttpSettings settings, byte[] bytes,
                 AuthLog log) {
        this.running = running;
        this.request = request;
        this.settings = settings;
        this.bytes = bytes;
        this.log = log;
    }

    CompletableFuture<AuthResult> result() {
        return result;
    }

    Counters counters() {
        return running.counters();
    }

    void start() {
        counters().inFlight.incrementAndGet();
        result.whenComplete((r, e) -> {
            ScheduledFuture<?> resend = pendingResend;
            if (resend != null) {
                resend.cancel(false);
            }
            Attempt a = attempt;
            if (a != null) {
                a.abort();
            }
            counters().inFlight.decrementAndGet();
            running.forget(this);
        });
        send();
    }

    private void send() {
        if (result.isDone()) {
            return;
        }
        Attempt a = new Attempt(this, settings.url(), bytes,
                settings.reuseConnections() ? running.keepAliveLimits() : null);
        attempt = a;
        counters().requests.increment();
        try {
            a.start(running.transport(settings.url()), running.scheduler(), settings.timeout().toMillis());
        } catch (RuntimeException e) {
            // the module is stopping: its executors refuse work
            a.abort();
            complete(new AuthResult.TemporaryError("auth_http module is stopped"));
        }
    }

    void attemptEnded(Attempt a, Attempt.End end) {
        if (a != attempt || result.isDone()) {
            return;
        }
        if (end instanceof Attempt.Broken broken) {
            temporary(broken.message(), broken.timeout());
            return;
        }
        AuthHttpResponse.Decision decision =
                AuthHttpResponse.interpret(((Attempt.Response) end).headers(), request);
        if (decision instanceof AuthHttpResponse.Unusable u) {
            temporary("auth http server " + settings.url().peerName() + " " + u.message(), false);
        } else if (decision instanceof AuthHttpResponse.Wait w) {
            counters().waits.increment();
            if (w.seconds() == 0) {
                send();
            } else {
                try {
                    pendingResend = running.scheduler().schedule(this::send, w.seconds(), TimeUnit.SECONDS);
                } catch (RuntimeException e) {
                    complete(new AuthResult.TemporaryError("auth_http module is stopped"));
                }
                if (result.isDone() && pendingResend != null) {
                    pendingResend.cancel(false);
                }
            }
        } else {
            AuthResult r = ((AuthHttpResponse.Final) decision).result();
            if (r instanceof AuthResult.Failure f) {
                log.info(request, "client login failed: \"" + Escape.forLog(f.message()) + "\"");
                counters().failed.increment();
            } else {
                counters().ok.increment();
            }
            complete(r);
        }
    }

    private void temporary(String message, boolean timeout) {
        if (timeout) {
            log.timedOut(request, message);
        } else {
            log.error(request, message);
        }
        counters().temporaryErrors.increment();
        if (timeout) {
            counters().timeouts.increment();
        }
        complete(new AuthResult.TemporaryError(message, timeout));
    }

    /** Ends the exchange because the module stops. */
    void abort(String reason) {
        if (!result.isDone()) {
            counters().temporaryErrors.increment();
            complete(new AuthResult.TemporaryError(reason));
        }
    }

    private void complete(AuthResult r) {
        result.complete(r);
    }
}
