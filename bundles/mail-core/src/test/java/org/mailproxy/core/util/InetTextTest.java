package org.mailproxy.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** nginx's address parsing (Auth-Server) and printing (Client-IP). */
class InetTextTest {

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1, 127.0.0.1",
        "010.1.2.3, 10.1.2.3",
        "1..2.3, 1.0.2.3",
        "::1, ::1",
        "::, ::",
        "2001:DB8::1, 2001:db8::1",
        "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
        "1::, 1::",
        "1:0:0:2:0:0:0:3, 1:0:0:2::3",
        "1:0:0:2:0:0:3:4, 1::2:0:0:3:4",
        "::ffff:1.2.3.4, 1.2.3.4",
        "::1.2.3.4, ::1.2.3.4",
        "64:ff9b::1.2.3.4, 64:ff9b::102:304",
        "fe80:0:0:0:0:0:0:1, fe80::1",
    })
    void parsesAndPrintsAsNginx(String in, String out) {
        InetAddress a = InetText.parseAddress(in);
        assertEquals(out, InetText.text(a));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "localhost", "256.1.1.1", "1.2.3", "1.2.3.4.5", "[::1]", "::1%eth0", "1:2:3:4:5:6:7:8:9",
        "1::2::3", "12345::", "::g", ":::", "1.2.3.4:80", " 1.2.3.4"})
    void refusesWhatNginxRefuses(String in) {
        assertNull(InetText.parseAddress(in));
    }
}
