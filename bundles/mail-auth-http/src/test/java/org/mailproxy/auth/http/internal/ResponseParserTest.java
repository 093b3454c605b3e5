package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** nginx's status-line and header-line parsers, byte by byte. */
class ResponseParserTest {

    private static ResponseParser.Status parse(ResponseParser p, String text) {
        return p.feed(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1)));
    }

    private static List<String> headers(ResponseParser p) {
        return p.headers().stream().map(h -> h.name() + "=" + h.text()).toList();
    }

    @Test
    void statusLineIsSkippedWhateverItSays() {
        ResponseParser p = new ResponseParser();
        assertEquals(ResponseParser.Status.DONE, parse(p, "HTTP/9 anything: at all\r\nA: 1\r\n\r\n"));
        assertEquals(List.of("A=1"), headers(p));
    }

    @Test
    void withoutHttpPrefixEverythingIsHeaders() {
        ResponseParser p = new ResponseParser();
        assertEquals(ResponseParser.Status.DONE, parse(p, "HTTX: 1\nB: 2\n\n"));
        assertEquals(List.of("HTTX=1", "B=2"), headers(p));
    }

    @Test
    void splitAtEveryByte() {
        String response = "HTTP/1.0 200 OK\r\nAuth-Status:  Invalid  login   \r\nEmpty:\r\nNoColon\r\n\r\n";
        ResponseParser p = new ResponseParser();
        ResponseParser.Status s = null;
        for (int i = 0; i < response.length(); i++) {
            s = parse(p, response.substring(i, i + 1));
            if (i < response.length() - 1) {
                assertEquals(ResponseParser.Status.MORE, s, "at byte " + i);
            }
        }
        assertEquals(ResponseParser.Status.DONE, s);
        assertEquals(List.of("Auth-Status=Invalid  login", "Empty=", "NoColon="), headers(p));
    }

    @Test
    void aPartialHttpPrefixThatTurnsOutDifferentIsReadAsHeaders() {
        ResponseParser p = new ResponseParser();
        assertEquals(ResponseParser.Status.MORE, parse(p, "HT"));
        assertEquals(ResponseParser.Status.DONE, parse(p, "X-1: a\r\n\r\n"));
        assertEquals(List.of("HTX-1=a"), headers(p));
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.0 200\r\nA: 1\rB\r\n\r\n", "HTTP/1.0 200\r\n A: 1\r\n\r\n",
        "HTTP/1.0 200\r\nA B: 1\r\n\r\n", "HTTP/1.0 200\r\n\rX", "HTTP/1.0 200\r\n:x\r\n\r\n"})
    void invalidHeaders(String response) {
        assertEquals(ResponseParser.Status.INVALID_HEADER, parse(new ResponseParser(), response));
    }

    @Test
    void crInTheStatusLineMustBeFollowedByLf() {
        assertEquals(ResponseParser.Status.INVALID_RESPONSE, parse(new ResponseParser(), "HTTP/1.0 200\rA: 1\r\n\r\n"));
    }

    @Test
    void exactly1024BytesEndingTheHeadersIsFine() {
        String head = "HTTP/1.0 200 OK\r\nX: ";
        String response = head + "a".repeat(ResponseParser.LIMIT - head.length() - 4) + "\r\n\r\n";
        assertEquals(ResponseParser.LIMIT, response.length());
        ResponseParser p = new ResponseParser();
        assertEquals(ResponseParser.Status.DONE, parse(p, response));
        // one byte more in the value: the empty line no longer fits
        ResponseParser q = new ResponseParser();
        String longer = head + "a".repeat(ResponseParser.LIMIT - head.length() - 3) + "\r\n\r\n";
        assertEquals(ResponseParser.Status.TOO_LARGE, parse(q, longer));
    }

    @Test
    void valuesKeepTheirBytes() {
        ResponseParser p = new ResponseParser();
        parse(p, "Auth-Status: caf\u00c3\u00a9\tok\r\n\r\n");
        assertEquals("caf\u00e9\tok", p.headers().get(0).text());
    }
}
