package org.mailproxy.core.relay;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Fires once when a moving deadline has passed: nginx's {@code ngx_add_timer} re-armed on every
 * read, done lazily. Instead of moving the timer on each packet, it wakes at the deadline known
 * when it was armed, asks for the current one, and sleeps again if activity pushed it back. The
 * I/O path pays nothing; the deadline is typically "last I/O time + timeout", which MINA already
 * records for every session.
 */
public final class DeadlineTimer {

    /** What a deadline supplier returns while no deadline applies; asked again after the re-check delay. */
    public static final long NONE = Long.MAX_VALUE;

    private final ScheduledExecutorService scheduler;
    private final LongSupplier deadline;
    private final long recheckMillis;
    private final Runnable onExpiry;

    private ScheduledFuture<?> scheduled; // guarded by this
    private boolean done;                 // guarded by this

    /**
     * @param scheduler     where the checks run
     * @param deadline      the current deadline in {@link System#currentTimeMillis()} time, or {@link #NONE}
     * @param recheckMillis how long to wait before asking again while the answer is {@link #NONE}
     * @param onExpiry      run once, on the scheduler's thread, when the deadline has passed
     */
    public DeadlineTimer(ScheduledExecutorService scheduler, LongSupplier deadline, long recheckMillis,
                         Runnable onExpiry) {
        this.scheduler = scheduler;
        this.deadline = deadline;
        this.recheckMillis = recheckMillis;
        this.onExpiry = onExpiry;
    }

    /** (Re)schedules the next check for the current deadline; call it when the deadline may have come closer. */
    public void arm() {
        // Asked outside the monitor: the supplier may take its owner's lock, and the owner arms
        // this timer while holding it.
        long at = deadline.getAsLong();
        long delay = at == NONE ? recheckMillis : Math.max(0, at - System.currentTimeMillis());
        synchronized (this) {
            if (done) {
                return;
            }
            if (scheduled != null) {
                scheduled.cancel(false);
            }
            try {
                scheduled = scheduler.schedule(this::check, delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException shuttingDown) {
                done = true;
            }
        }
    }

    /** Stops the timer for good. */
    public synchronized void cancel() {
        done = true;
        if (scheduled != null) {
            scheduled.cancel(false);
            scheduled = null;
        }
    }

    private void check() {
        long at = deadline.getAsLong();
        if (at == NONE || at > System.currentTimeMillis()) {
            arm();
            return;
        }
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            scheduled = null;
        }
        onExpiry.run();
    }
}
