package org.mailproxy.smtp;

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
 * Fuzzes {@link SmtpParser} with any bytes in any packet sizes. Besides not throwing and finding
 * the same commands in one read or many, what it hands on must be safe to pass along: the
 * command text (replayed to the backend, sent to auth_http as Auth-SMTP-From / -To) and the
 * loggable form of a line never carry a CR or LF, so no client can inject a line there.
 */
class SmtpParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void theSameCommandsInOneReadOrInManyAndNoLineBreakPassesOn(FuzzedDataProvider data) {
        int limit = data.consumeInt(1, 600);
        int packet = data.consumeInt(1, 40);
        int resetEvery = data.consumeInt(1, 5);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> oneRead = parse(input, Math.max(1, input.length), limit, resetEvery);
        List<String> manyReads = parse(input, packet, limit, resetEvery);
        assertEquals(oneRead, manyReads);
    }

    private static List<String> parse(byte[] input, int packet, int limit, int resetEvery) {
        SmtpParser parser = new SmtpParser(limit);
        List<String> found = new ArrayList<>();
        int lineBytes = 0;
        for (int offset = 0; offset < input.length; offset += packet) {
            IoBuffer in = IoBuffer.wrap(input, offset, Math.min(packet, input.length - offset));
            while (in.hasRemaining()) {
                int before = in.remaining();
                SmtpParser.Result result = parser.parse(in);
                lineBytes += before - in.remaining();
                assertTrue(lineBytes <= limit, "a line took " + lineBytes + " bytes, the buffer is " + limit);
                if (result == SmtpParser.Result.AGAIN) {
                    assertFalse(in.hasRemaining(), "AGAIN with bytes left");
                    break;
                }
                lineBytes = 0;
                found.add(describe(result, parser));
                // the handler leaves, or after AUTH re-enters, the SASL response state now and then
                if (found.size() % resetEvery == 0) {
                    if (parser.expectsCommand() && parser.command() == SmtpParser.Command.AUTH) {
                        parser.expectResponse();
                    } else if (!parser.expectsCommand()) {
                        parser.expectCommand();
                    }
                }
            }
        }
        return found;
    }

    private static String describe(SmtpParser.Result result, SmtpParser parser) {
        String loggable = parser.loggable();
        assertFalse(loggable.contains("\r") || loggable.contains("\n"), "a line break in the log form");
        if (result == SmtpParser.Result.INVALID) {
            return "INVALID" + (parser.tooLong() ? " too long" : "") + " " + loggable;
        }
        assertNotNull(parser.command(), "OK without a command");
        assertTrue(parser.args().size() <= 11, "more arguments than nginx keeps: " + parser.args().size());
        String command = parser.commandText();
        assertFalse(command.contains("\r") || command.contains("\n"), "a line break in the command text");
        StringBuilder text = new StringBuilder("OK ").append(parser.command()).append(" <").append(command).append('>');
        for (byte[] arg : parser.args()) {
            String value = new String(arg, StandardCharsets.ISO_8859_1);
            assertFalse(value.contains("\r") || value.contains("\n"), "a line break in an argument");
            text.append(" [").append(value).append(']');
        }
        return text.toString();
    }
}
