package org.mailproxy.resolver;

import java.util.Map;
import java.util.Optional;

/**
 * The {@code status_zone} counters of the resolver bundle, registered as an OSGi service by it.
 * A zone exists from the first configuration that names it until the bundle stops; several
 * {@code resolver} directives naming the same zone add to the same counters (as in Angie), and a
 * reload keeps them.
 */
public interface ResolverStatistics {

    /** A snapshot of every zone, by name, in name order. */
    Map<String, ZoneStats> zones();

    /** A snapshot of one zone. */
    default Optional<ZoneStats> zone(String name) {
        return Optional.ofNullable(zones().get(name));
    }
}
