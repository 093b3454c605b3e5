package org.mailproxy.core.errorlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.config.SyslogTarget;

/** nginx's syslog datagrams, received by a real UDP socket. */
class SyslogSinkTest {

    @Test
    void datagramIsRfc3164AsNginxSendsIt() throws Exception {
        try (DatagramSocket server = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(10_000);
            SyslogSink sink = new SyslogSink(new SyslogTarget("127.0.0.1", server.getLocalPort(), 2, 6, "mailproxy",
                    false), "mailhost", ZoneId.systemDefault());
            sink.write("2026/11/26 00:02:03 [crit] 1#2: *3 message", Severity.CRIT);
            byte[] buf = new byte[4096];
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            server.receive(packet);
            String text = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
            assertTrue(text.matches("<18>[A-Z][a-z]{2} [ 123]\\d \\d\\d:\\d\\d:\\d\\d mailhost mailproxy: "
                    + "2026/11/26 00:02:03 \\[crit\\] 1#2: \\*3 message"), text);
            sink.close();
        }
    }

    @Test
    void headerPadsTheDayAndLeavesOutTheHostOnRequest() {
        SyslogSink sink = new SyslogSink(new SyslogTarget("h", 514, 23, 6, "tag", true), "host", ZoneId.of("UTC"));
        // 2026-11-06T07:08:09Z
        assertEquals("<187>Nov  6 07:08:09 tag: line", sink.datagram("line", Severity.ERROR, 1793948889000L));
        assertEquals("<191>Nov  6 07:08:09 tag: line", sink.datagram("line", Severity.DEBUG, 1793948889000L));
    }
}
