package org.mailproxy.pop3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;

/**
 * Fuzzes {@link Pop3Parser} with what a hostile client can send: any bytes, in any packet sizes.
 * Whatever arrives, the parser must not throw, must not let a line grow past the buffer, and
 * must find the same commands whether the bytes come in one read or in many (a state that
 * leaked across reads would show up as a difference).
 */
class Pop3ParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void theSameCommandsInOneReadOrInMany(FuzzedDataProvider data) {
        int limit = data.consumeInt(1, 300);
        int packet = data.consumeInt(1, 40);
        int resetEvery = data.consumeInt(1, 5);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> oneRead = parse(input, Math.max(1, input.length), limit, resetEvery);
        List<String> manyReads = parse(input, packet, limit, resetEvery);
        assertEquals(oneRead, manyReads);
    }

    /** The parser's findings, one string each, with the invariants checked on the way. */
    private static List<String> parse(byte[] input, int packet, int limit, int resetEvery) {
        Pop3Parser parser = new Pop3Parser(limit);
        List<String> found = new ArrayList<>();
        int lineBytes = 0;
        boolean continuation = false;
        for (int offset = 0; offset < input.length; offset += packet) {
            IoBuffer in = IoBuffer.wrap(input, offset, Math.min(packet, input.length - offset));
            while (in.hasRemaining()) {
                if (lineBytes == 0) {
                    continuation = !parser.expectsCommand();
                }
                int before = in.remaining();
                Pop3Parser.Result result = parser.parse(in);
                lineBytes += before - in.remaining();
                assertTrue(lineBytes <= limit, "a line took " + lineBytes + " bytes, the buffer is " + limit);
                if (result == Pop3Parser.Result.AGAIN) {
                    assertFalse(in.hasRemaining(), "AGAIN with bytes left");
                    break;
                }
                lineBytes = 0;
                found.add(describe(result, parser, continuation));
                // the handler goes back to commands after an AUTH continuation line, now and then
                if (!parser.expectsCommand() && found.size() % resetEvery == 0) {
                    parser.expectCommand();
                }
            }
        }
        return found;
    }

    private static String describe(Pop3Parser.Result result, Pop3Parser parser, boolean continuation) {
        StringBuilder text = new StringBuilder(result.name());
        if (result == Pop3Parser.Result.INVALID) {
            return text.append(parser.tooLong() ? " too long" : "").toString();
        }
        assertNotNull(parser.command(), "OK without a command");
        assertTrue(parser.args().size() <= 3, "more arguments than nginx keeps: " + parser.args().size());
        text.append(' ').append(parser.command());
        for (byte[] arg : parser.args()) {
            assertTrue(arg.length > 0 || continuation, "an empty argument outside a SASL response line");
            text.append(" [").append(new String(arg, StandardCharsets.ISO_8859_1)).append(']');
        }
        return text.toString();
    }
}
