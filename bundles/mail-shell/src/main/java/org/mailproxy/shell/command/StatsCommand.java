package org.mailproxy.shell.command;

import java.util.List;
import java.util.Map;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.mailproxy.core.admin.MailAdmin;
import org.mailproxy.core.admin.TrafficStats;
import org.mailproxy.shell.internal.Format;
import org.mailproxy.shell.internal.ModuleStats;
import org.osgi.framework.BundleContext;

/** {@code mail:stats}: counters per server and protocol, auth_http and resolver. */
@Command(scope = "mail", name = "stats", description = "Shows counters per server and protocol, auth_http latency and resolver zones")
@Service
public class StatsCommand implements Action {

    @Reference
    MailAdmin admin;

    @Reference
    BundleContext context;

    @Override
    public Object execute() {
        System.out.println("Servers:");
        traffic(admin.serverStats(), "Server");
        System.out.println();
        System.out.println("Protocols:");
        List<TrafficStats> protocols = new java.util.ArrayList<>(admin.protocolStats());
        protocols.add(admin.totals());
        traffic(protocols, "Protocol");
        System.out.println();
        Map<String, Long> auth = ModuleStats.authHttp(context);
        if (auth.isEmpty()) {
            System.out.println("auth_http: not running");
        } else {
            System.out.println("auth_http: requests " + auth.get("requests") + ", ok " + auth.get("ok") + ", failed "
                    + auth.get("failed") + ", waits " + auth.get("waits") + ", temporary errors "
                    + auth.get("temporary errors") + " (timeouts " + auth.get("timeouts") + "), in flight "
                    + auth.get("in flight") + ", latency mean " + Format.micros(auth.get("latency mean us"))
                    + " max " + Format.micros(auth.get("latency max us")));
            System.out.println("auth_http connections: new " + auth.get("connections new") + ", reused "
                    + auth.get("connections reused") + ", stale retries " + auth.get("stale retries") + ", idle "
                    + auth.get("connections idle"));
        }
        Map<String, Map<String, Long>> zones = ModuleStats.resolverZones(context);
        System.out.println();
        if (zones.isEmpty()) {
            System.out.println("resolver: no status_zone (or the resolver is not running)");
        } else {
            System.out.println("Resolver zones:");
            ShellTable table = new ShellTable();
            table.column("Zone");
            List<String> keys = List.copyOf(zones.values().iterator().next().keySet());
            for (String key : keys) {
                table.column(key).alignRight();
            }
            zones.forEach((zone, counters) -> {
                var row = table.addRow();
                row.addContent(zone);
                for (String key : keys) {
                    row.addContent(counters.get(key));
                }
            });
            table.print(System.out);
        }
        return null;
    }

    private static void traffic(List<TrafficStats> stats, String first) {
        ShellTable table = new ShellTable().emptyTableText("none");
        table.column(first);
        table.column("Current").alignRight();
        table.column("Total").alignRight();
        table.column("Auth ok").alignRight();
        table.column("Auth failed").alignRight();
        table.column("Auth timeouts").alignRight();
        table.column("Errors").alignRight();
        table.column("From clients").alignRight();
        table.column("From backends").alignRight();
        for (TrafficStats s : stats) {
            table.addRow().addContent(s.name(), s.currentConnections(), s.totalConnections(), s.authOk(),
                    s.authFailed(), s.authTimeouts(), s.errors(), s.bytesFromClients(), s.bytesFromBackends());
        }
        table.print(System.out);
    }
}
