package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** When a response lets the connection be used again ({@link KeepAlive#check}), on parsed responses. */
class KeepAliveCheckTest {

    private static final KeepAlive.Limits LIMITS = new KeepAlive.Limits(32, Duration.ofSeconds(30), 100);
    private static final String AUTH = "Auth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 143\r\n";

    /** Parses the response as it arrives in one read and checks it, as an Attempt does. */
    private static KeepAlive.Reuse check(String response) {
        ResponseParser parser = new ResponseParser();
        ByteBuffer data = ByteBuffer.wrap(response.getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(ResponseParser.Status.DONE, parser.feed(data), response);
        return KeepAlive.check(parser.statusLineText(), parser.headers(), parser.bodyBytesRead() + data.remaining(),
                LIMITS);
    }

    @Test
    void http11WithAContentLength() {
        assertEquals(new KeepAlive.Reuse(0, -1), check("HTTP/1.1 200 OK\r\n" + AUTH + "Content-Length: 0\r\n\r\n"));
        assertEquals(new KeepAlive.Reuse(0, -1), check("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"));
        assertEquals(new KeepAlive.Reuse(7, -1), check("HTTP/1.1 200 OK\nContent-Length: 9\n\nok"),
                "LF line ends; the rest of the body is still to come");
        assertEquals(new KeepAlive.Reuse(0, -1),
                check("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n"));
    }

    @Test
    void http10OnlyWithKeepAlive() {
        assertNull(check("HTTP/1.0 200 OK\r\n" + AUTH + "Content-Length: 0\r\n\r\n"));
        assertEquals(new KeepAlive.Reuse(0, -1),
                check("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(new KeepAlive.Reuse(0, -1),
                check("HTTP/1.0 200 OK\r\nConnection: TE, keep-alive\r\nContent-Length: 0\r\n\r\n"));
    }

    @Test
    void closeWins() {
        assertNull(check("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    }

    @Test
    void theLengthMustBeKnown() {
        assertNull(check("HTTP/1.1 200 OK\r\n" + AUTH + "\r\n"), "no Content-Length: the body ends with the connection");
        assertNull(check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"), "chunked");
        assertNull(check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok"));
        assertEquals(new KeepAlive.Reuse(0, -1),
                check("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"));
    }

    @Test
    void noContentAndNotModifiedHaveNoBody() {
        assertEquals(new KeepAlive.Reuse(0, -1), check("HTTP/1.1 204 No Content\r\n" + AUTH + "\r\n"));
        assertEquals(new KeepAlive.Reuse(0, -1), check("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"));
        assertNull(check("HTTP/1.1 204 No Content\r\n\r\nextra"), "bytes after a response without body");
    }

    @Test
    void moreThanTheBodyOrTooLongABodyIsNotKept() {
        assertNull(check("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n"));
        assertEquals(new KeepAlive.Reuse(100, -1), check("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"), "beyond maxDrain");
        String big = "b".repeat(3000);
        assertEquals(new KeepAlive.Reuse(0, -1), KeepAlive.check("HTTP/1.1 200 OK",
                java.util.List.of(new ResponseParser.Header("Content-Length", "3000".getBytes(StandardCharsets.US_ASCII))),
                big.length(), LIMITS), "a body that came along with the headers need not be read");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Auth-Status: OK\r\n", "HTTP/2 200\r\n", "HTTP/1.1 100 Continue\r\n", "HTTP/1.1 20\r\n",
        "HTTP/1.1 2000\r\n", "HTTP/1.1 20x OK\r\n", "HTTP/1. 200\r\n", "HTTP/1.1200 OK\r\n", "HTTP/x.1 200\r\n"})
    void onlyAWellFormedFinalStatusLine(String first) {
        assertNull(check(first + "Content-Length: 0\r\n\r\n"), first);
    }

    @Test
    void theServersKeepAliveHeader() {
        assertEquals(new KeepAlive.Reuse(0, 5000),
                check("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(new KeepAlive.Reuse(0, 7000),
                check("HTTP/1.1 200 OK\r\nKeep-Alive: max=3, Timeout=\"7\"\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(new KeepAlive.Reuse(0, -1),
                check("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=soon\r\nContent-Length: 0\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=0\r\nContent-Length: 0\r\n\r\n"));
        assertNull(check("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=0\r\nContent-Length: 0\r\n\r\n"));
    }

    @Test
    void idleTimeIsOursOrThreeQuartersOfTheServers() {
        assertEquals(30_000, LIMITS.idleMillis(new KeepAlive.Reuse(0, -1)));
        assertEquals(3_750, LIMITS.idleMillis(new KeepAlive.Reuse(0, 5_000)));
        assertEquals(30_000, LIMITS.idleMillis(new KeepAlive.Reuse(0, 300_000)));
    }

    @Test
    void theParserKeepsTheStatusLineAndCountsTheBodyItRead() {
        ResponseParser p = new ResponseParser();
        ByteBuffer first = ByteBuffer.wrap("HTTP/1.1 200 OK\r\nContent-Le".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(ResponseParser.Status.MORE, p.feed(first));
        assertNull(p.statusLineText(), "not before the headers are complete");
        ByteBuffer second = ByteBuffer.wrap("ngth: 5\r\n\r\nabc".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(ResponseParser.Status.DONE, p.feed(second));
        assertEquals("HTTP/1.1 200 OK", p.statusLineText());
        assertEquals(3, p.bodyBytesRead());

        ResponseParser bare = new ResponseParser();
        bare.feed(ByteBuffer.wrap("Auth-Status: OK\n\n".getBytes(StandardCharsets.ISO_8859_1)));
        assertNull(bare.statusLineText(), "no status line: nginx reads the headers from the first byte");
        assertEquals(0, bare.bodyBytesRead());
    }
}
