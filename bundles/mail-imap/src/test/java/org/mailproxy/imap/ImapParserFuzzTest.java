package org.mailproxy.imap;

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
 * Fuzzes {@link ImapParser} (tags, atoms, quoted strings, literals, ID lists) with any bytes in
 * any packet sizes, driven as {@link ImapHandler} drives it: a SASL response line after
 * AUTHENTICATE, the end of the connection after a too long command or a refused
 * non-synchronizing literal. It must not throw, must stop a command at the buffer size, must keep
 * within nginx's limits on tags and arguments, and must find the same commands in one read or in
 * many.
 */
class ImapParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void theSameCommandsInOneReadOrInMany(FuzzedDataProvider data) {
        int limit = data.consumeInt(1, 600);
        int packet = data.consumeInt(1, 40);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> oneRead = parse(input, Math.max(1, input.length), limit);
        List<String> manyReads = parse(input, packet, limit);
        assertEquals(oneRead, manyReads);
    }

    private static List<String> parse(byte[] input, int packet, int limit) {
        ImapParser parser = new ImapParser(limit);
        List<String> found = new ArrayList<>();
        int commandBytes = 0;
        for (int offset = 0; offset < input.length; offset += packet) {
            IoBuffer in = IoBuffer.wrap(input, offset, Math.min(packet, input.length - offset));
            while (in.hasRemaining()) {
                int before = in.remaining();
                ImapParser.Result result = parser.parse(in);
                commandBytes += before - in.remaining();
                assertTrue(commandBytes <= limit, "a command took " + commandBytes + " bytes, the buffer is " + limit);
                switch (result) {
                    case AGAIN:
                        assertFalse(in.hasRemaining(), "AGAIN with bytes left");
                        continue;
                    case LITERAL_CONTINUATION:
                        found.add("+ OK");
                        continue;
                    case TOO_LONG:
                        found.add("TOO_LONG");
                        return found; // the handler answers and closes
                    case INVALID:
                        found.add("INVALID " + parser.tag() + (parser.closeAfterInvalid() ? " close" : ""));
                        if (parser.closeAfterInvalid()) {
                            return found;
                        }
                        break;
                    case COMMAND:
                        found.add(describe(parser));
                        if (parser.command() == ImapParser.Command.AUTHENTICATE) {
                            parser.expectResponseLine();
                        }
                        break;
                    default:
                        throw new AssertionError(result);
                }
                commandBytes = 0;
            }
        }
        return found;
    }

    private static String describe(ImapParser parser) {
        ImapParser.Command command = parser.command();
        assertNotNull(command, "COMMAND without a command");
        if (command != ImapParser.Command.RESPONSE) {
            assertNotNull(parser.tag(), "a command without a tag");
            assertTrue(parser.tag().length() <= ImapParser.MAX_TAG, "tag longer than nginx allows");
        }
        int maxArgs = command == ImapParser.Command.ID ? ImapParser.MAX_ID_ITEMS : ImapParser.MAX_ARGS;
        assertTrue(parser.args().size() <= maxArgs, command + " with " + parser.args().size() + " arguments");
        StringBuilder text = new StringBuilder("COMMAND ").append(parser.tag()).append(' ').append(command);
        for (int i = 0; i < parser.args().size(); i++) {
            text.append(parser.isAtom(i) ? " atom[" : " [")
                .append(new String(parser.args().get(i), StandardCharsets.ISO_8859_1)).append(']');
        }
        return text.append(parser.isList() ? " list" : "").toString();
    }
}
