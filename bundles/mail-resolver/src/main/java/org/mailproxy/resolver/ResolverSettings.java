package org.mailproxy.resolver;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.mailproxy.core.util.InetText;

/**
 * The value of the {@code resolver} directive, as {@code ServerConfig.get("resolver")} returns it:
 * {@code resolver address ... [valid=time] [ipv4=on|off] [ipv6=on|off] [status_zone=zone]} or
 * {@code resolver off} ({@link #OFF}, the default).
 *
 * @param servers    the name servers, asked in turn; every address of a server given by host
 *                   name, in the order the system resolver returned them; empty for {@code off}
 * @param valid      how long answers are cached; {@link Duration#ZERO} (nginx's default, and what
 *                   {@code valid=0} means) caches each answer for its TTL
 * @param ipv4       whether the forward lookup asks for A records
 * @param ipv6       whether the forward lookup asks for AAAA records
 * @param statusZone the {@code status_zone} whose counters the lookups update, or null
 */
public record ResolverSettings(List<InetSocketAddress> servers, Duration valid, boolean ipv4, boolean ipv6,
                               String statusZone) {

    /** {@code resolver off}: no lookups, clients' host names are {@code [UNAVAILABLE]}. */
    public static final ResolverSettings OFF = new ResolverSettings(List.of(), Duration.ZERO, true, true, null);

    public ResolverSettings {
        servers = List.copyOf(servers);
        Objects.requireNonNull(valid, "valid");
        if (valid.isNegative()) {
            throw new IllegalArgumentException("negative valid=" + valid);
        }
        if (!servers.isEmpty() && !ipv4 && !ipv6) {
            throw new IllegalArgumentException("ipv4 and ipv6 cannot both be off");
        }
    }

    /** Whether this is {@code resolver off}. */
    public boolean isOff() {
        return servers.isEmpty();
    }

    /** The directive's arguments in configuration syntax, e.g. {@code 127.0.0.1:53 valid=30s ipv6=off}. */
    @Override
    public String toString() {
        if (isOff()) {
            return "off";
        }
        StringBuilder out = new StringBuilder();
        for (InetSocketAddress server : servers) {
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(InetText.hostPort(server)); // nginx's form: 127.0.0.1:53, [::1]:5353
        }
        if (!valid.isZero()) {
            out.append(" valid=").append(valid.toSeconds()).append('s');
        }
        if (!ipv4) {
            out.append(" ipv4=off");
        }
        if (!ipv6) {
            out.append(" ipv6=off");
        }
        if (statusZone != null) {
            out.append(" status_zone=").append(statusZone);
        }
        return out.toString();
    }
}
