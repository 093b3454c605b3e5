package org.mailproxy.core.session;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.mailproxy.core.config.CidrRange;
import org.mailproxy.core.spi.MailProtocol;

/**
 * One {@code server} block at run time: the protocol that serves it, its configuration and the
 * limits the core enforces. The wiring creates one per configured server whose protocol is
 * present and passes it as the server key of the server's listens
 * ({@code new ListenBinding(spec, mailServer)}). Sessions keep the MailServer they started
 * with, so a reload applies to new connections only.
 */
public final class MailServer {

    private final String name;
    private final MailProtocol protocol;
    private final Object settings;
    private final SessionLimits limits;
    private final AtomicLong current = new AtomicLong();
    private final AtomicLong total = new AtomicLong();
    private final SessionCounters counters = new SessionCounters();
    private volatile TlsSupport tls;
    private volatile List<CidrRange> realIpFrom = List.of();
    private volatile int backendProxyProtocol;
    private volatile UpstreamTls upstreamTls;

    /**
     * @param name     how logs and the console name the server, e.g. {@code "imap /etc/mail.conf:12"}
     * @param protocol the protocol service
     * @param settings the server's configuration as the protocol reads it (the wiring passes its
     *                 {@code ServerConfig})
     * @param limits   the limits enforced by the core
     */
    public MailServer(String name, MailProtocol protocol, Object settings, SessionLimits limits) {
        this.name = Objects.requireNonNull(name, "name");
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    public String name() {
        return name;
    }

    public MailProtocol protocol() {
        return protocol;
    }

    /** The server's configuration object as given by the wiring. */
    public Object settings() {
        return settings;
    }

    /** The server's configuration, cast to the type the caller knows it has. */
    public <T> T settings(Class<T> type) {
        return type.cast(settings);
    }

    public SessionLimits limits() {
        return limits;
    }

    /** The server's TLS ({@code listen ... ssl}, STARTTLS), or null when it has none. */
    public TlsSupport tls() {
        return tls;
    }

    /**
     * Sets the server's TLS; the wiring builds it anew on every configuration change (certificates
     * may have been renewed) and sets it here, so new connections use it.
     */
    public void setTls(TlsSupport tls) {
        this.tls = tls;
    }

    /**
     * {@code set_real_ip_from}: the peers whose PROXY protocol source address becomes the client
     * address; empty by default.
     */
    public List<CidrRange> realIpFrom() {
        return realIpFrom;
    }

    /** Sets {@link #realIpFrom()}; the wiring sets it from the server's configuration. */
    public void setRealIpFrom(List<CidrRange> trusted) {
        this.realIpFrom = List.copyOf(trusted);
    }

    /**
     * {@code proxy_protocol off|on|v2}: the PROXY protocol version sent first on every backend
     * connection, 0 for none (the default).
     */
    public int backendProxyProtocol() {
        return backendProxyProtocol;
    }

    /** Sets {@link #backendProxyProtocol()}: 0, 1 or 2. */
    public void setBackendProxyProtocol(int version) {
        if (version < 0 || version > 2) {
            throw new IllegalArgumentException("PROXY protocol version " + version);
        }
        this.backendProxyProtocol = version;
    }

    /**
     * The server's TLS toward backends ({@code proxy_ssl*}, this project's own), or null: then
     * backends are plaintext and an auth server's {@code Auth-SSL-Backend: on|starttls} fails the
     * login.
     */
    public UpstreamTls upstreamTls() {
        return upstreamTls;
    }

    /** Sets {@link #upstreamTls()}; the wiring builds it anew on every configuration change. */
    public void setUpstreamTls(UpstreamTls tls) {
        this.upstreamTls = tls;
    }

    /** Sessions of this server open now. */
    public long currentSessions() {
        return current.get();
    }

    /** Sessions of this server since it was created. */
    public long totalSessions() {
        return total.get();
    }

    /** Logins, errors and bytes of this server's sessions since the server was created. */
    public SessionCounters counters() {
        return counters;
    }

    void sessionOpened() {
        current.incrementAndGet();
        total.incrementAndGet();
    }

    void sessionClosed() {
        current.decrementAndGet();
    }

    @Override
    public String toString() {
        return name;
    }
}
