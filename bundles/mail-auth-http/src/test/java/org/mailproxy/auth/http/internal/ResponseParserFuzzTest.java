package org.mailproxy.auth.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes {@link ResponseParser} with whatever an auth server (or whoever answers on its port)
 * sends, in any packet sizes. The answer must not depend on how the bytes were split, must come
 * within the 1024 bytes nginx reads, and no header may carry a line break: header values become
 * replies to the client (Auth-Status, Auth-Error-SASL) and values of XCLIENT, so a CR or LF there
 * would let the auth server's response inject protocol lines.
 */
class ResponseParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void theSameHeadersInOneReadOrInManyAndNoLineBreakInThem(FuzzedDataProvider data) {
        int packet = data.consumeInt(1, 64);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> oneRead = parse(input, Math.max(1, input.length));
        List<String> manyReads = parse(input, packet);
        assertEquals(oneRead, manyReads);
    }

    private static List<String> parse(byte[] input, int packet) {
        ResponseParser parser = new ResponseParser();
        ResponseParser.Status status = ResponseParser.Status.MORE;
        int fed = 0;
        for (int offset = 0; offset < input.length && status == ResponseParser.Status.MORE; offset += packet) {
            ByteBuffer chunk = ByteBuffer.wrap(input, offset, Math.min(packet, input.length - offset));
            int before = chunk.remaining();
            status = parser.feed(chunk);
            fed += before - chunk.remaining();
            assertTrue(fed <= ResponseParser.LIMIT, "took " + fed + " bytes");
            if (status == ResponseParser.Status.MORE) {
                assertEquals(0, chunk.remaining(), "MORE with bytes left unread");
            }
        }
        if (status == ResponseParser.Status.MORE) {
            assertNotEquals(ResponseParser.LIMIT, fed, "a full buffer is not MORE");
        }
        List<String> found = new ArrayList<>();
        found.add(status.name());
        found.add(String.valueOf(parser.statusLineText()));
        for (ResponseParser.Header header : parser.headers()) {
            assertTrue(header.name().matches("[A-Za-z0-9][A-Za-z0-9-]*") || header.name().isEmpty(),
                    "header name \"" + header.name() + "\"");
            String value = new String(header.value(), StandardCharsets.ISO_8859_1);
            assertTrue(value.indexOf('\r') < 0 && value.indexOf('\n') < 0, "a line break in " + header.name());
            found.add(header.name() + ": " + value);
        }
        return found;
    }
}
