package org.mailproxy.shell.jmx;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.management.NotCompliantMBeanException;
import org.mailproxy.resolver.ResolverStatistics;
import org.mailproxy.resolver.ZoneStats;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/** {@code org.mailproxy:type=Resolver,zone=NAME} per status_zone, while the resolver runs. */
@Component(immediate = true, service = {})
public final class ResolverMBeans {

    @Reference
    private ResolverStatistics statistics;

    private Registrations zones;
    private ScheduledExecutorService timer;

    @Activate
    void activate(BundleContext context) {
        zones = new Registrations(context, ObjectNames::resolverZone, zone -> {
            try {
                return new DescribedMBean<>(new Zone(zone), ResolverZoneMBean.class, "A resolver status_zone",
                        Descriptions.RESOLVER);
            } catch (NotCompliantMBeanException e) {
                throw new IllegalStateException(e);
            }
        });
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mail-jmx-resolver");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> zones.sync(statistics.zones().keySet()), 0, MailMBeans.REFRESH_SECONDS,
                TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
        zones.close();
    }

    private final class Zone implements ResolverZoneMBean {
        private final String zone;

        Zone(String zone) {
            this.zone = zone;
        }

        private ZoneStats z() {
            return statistics.zone(zone).orElse(new ZoneStats(zone, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        }

        @Override public String getZone() { return zone; }
        @Override public long getNameQueries() { return z().nameQueries(); }
        @Override public long getAddrQueries() { return z().addrQueries(); }
        @Override public long getSuccess() { return z().success(); }
        @Override public long getFormatError() { return z().formatError(); }
        @Override public long getServerFailure() { return z().serverFailure(); }
        @Override public long getNotFound() { return z().notFound(); }
        @Override public long getUnimplemented() { return z().unimplemented(); }
        @Override public long getRefused() { return z().refused(); }
        @Override public long getTimedOut() { return z().timedOut(); }
        @Override public long getOther() { return z().other(); }
    }
}
