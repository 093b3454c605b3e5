package org.mailproxy.shell.jmx;

import javax.management.DynamicMBean;
import javax.management.NotCompliantMBeanException;
import org.mailproxy.auth.http.AuthHttpMetrics;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/** {@code org.mailproxy:type=AuthHttp}, while the auth_http module runs. */
@Component(immediate = true, service = {})
public final class AuthHttpMBeans {

    @Reference
    private AuthHttpMetrics metrics;

    private ServiceRegistration<DynamicMBean> registration;

    @Activate
    void activate(BundleContext context) throws NotCompliantMBeanException {
        AuthHttpMBean bean = new AuthHttpMBean() {
            @Override public long getRequests() { return metrics.stats().requests(); }
            @Override public long getOk() { return metrics.stats().ok(); }
            @Override public long getFailed() { return metrics.stats().failed(); }
            @Override public long getWaits() { return metrics.stats().waits(); }
            @Override public long getTemporaryErrors() { return metrics.stats().temporaryErrors(); }
            @Override public long getTimeouts() { return metrics.stats().timeouts(); }
            @Override public long getInFlight() { return metrics.stats().inFlight(); }
            @Override public long getLatencyMeanMicros() { return metrics.stats().latencyMeanMicros(); }
            @Override public long getLatencyMaxMicros() { return metrics.stats().latencyMaxMicros(); }
            @Override public long getNewConnections() { return metrics.stats().newConnections(); }
            @Override public long getReusedConnections() { return metrics.stats().reusedConnections(); }
            @Override public long getStaleRetries() { return metrics.stats().staleRetries(); }
            @Override public long getIdleConnections() { return metrics.stats().idleConnections(); }
        };
        registration = Registrations.register(context, ObjectNames.AUTH_HTTP, new DescribedMBean<>(bean,
                AuthHttpMBean.class, "The auth_http module: logins asked of the auth servers, latency", Descriptions.AUTH_HTTP));
    }

    @Deactivate
    void deactivate() {
        Registrations.unregister(registration);
    }
}
