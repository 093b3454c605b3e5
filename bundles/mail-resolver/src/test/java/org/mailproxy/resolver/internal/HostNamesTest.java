package org.mailproxy.resolver.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.Name;

/** The RFC 1034 character check on PTR names, on label bytes as they come off the wire. */
class HostNamesTest {

    /** A name made of raw labels, as a DNS message can carry it. */
    private static Name wire(String... labels) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String label : labels) {
            byte[] bytes = label.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            out.write(bytes.length);
            out.write(bytes);
        }
        out.write(0);
        return new Name(new org.xbill.DNS.DNSInput(out.toByteArray()));
    }

    @Test
    void lettersDigitsHyphensAndDotsPassLowerCasedWithoutTheRootDot() throws Exception {
        assertEquals("mx-1.example.com", HostNames.validated(wire("MX-1", "Example", "COM")));
        assertEquals("localhost", HostNames.validated(wire("localhost")));
        assertEquals("1.2.3.4.example", HostNames.validated(wire("1", "2", "3", "4", "example")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\r\nAuth-Status: OK", "a b", "a_b", "a/b", "a\\b", "a%0d", "a\"b", "a;b", "a\u00e9b",
        "a\u0000b", "a\tb", "a.b", "a*", "a@b"})
    void anyOtherByteMakesTheNameUnusable(String badLabel) throws Exception {
        assertNull(HostNames.validated(wire("host", badLabel, "example")), badLabel);
    }

    @Test
    void rootIsNoName() throws Exception {
        assertNull(HostNames.validated(Name.root));
    }

    @Test
    void logFormEscapesEverythingUnprintable() throws Exception {
        assertEquals("a\\x0d\\x0aAuth-Status:\\x20OK.example",
                HostNames.forLog(wire("a\r\nAuth-Status: OK", "example")));
    }
}
