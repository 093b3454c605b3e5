package org.mailproxy.pop3;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;
import org.junit.jupiter.api.Test;
import org.mailproxy.pop3.Pop3Parser.Result;

/**
 * The POP3 parser on nginx's rules, each input fed whole, split in two at every byte boundary, and
 * byte by byte: the events must be the same every way.
 */
class Pop3ParserTest {

    /** Parses everything, in the given pieces, and describes each result: "USER[alice]", "INVALID", "TOO LONG". */
    private static List<String> events(int bufferSize, List<byte[]> pieces) {
        Pop3Parser parser = new Pop3Parser(bufferSize);
        List<String> events = new ArrayList<>();
        for (byte[] piece : pieces) {
            IoBuffer in = IoBuffer.wrap(piece);
            while (in.hasRemaining()) {
                Result r = parser.parse(in);
                if (r == Result.AGAIN) {
                    assertFalse(in.hasRemaining(), "AGAIN consumes everything");
                } else if (r == Result.INVALID) {
                    events.add(parser.tooLong() ? "TOO LONG" : "INVALID");
                } else {
                    StringBuilder e = new StringBuilder(parser.command().name()).append('[');
                    for (int i = 0; i < parser.args().size(); i++) {
                        e.append(i > 0 ? "|" : "").append(new String(parser.args().get(i), ISO_8859_1));
                    }
                    events.add(e.append(']').toString());
                }
            }
        }
        return events;
    }

    /** Checks the events of {@code input} whole, split at every boundary, and byte by byte. */
    private static void check(int bufferSize, String input, String... expected) {
        byte[] bytes = input.getBytes(ISO_8859_1);
        List<String> want = List.of(expected);
        assertEquals(want, events(bufferSize, List.of(bytes)), "whole: " + input);
        for (int k = 0; k <= bytes.length; k++) {
            byte[] a = new byte[k];
            byte[] b = new byte[bytes.length - k];
            System.arraycopy(bytes, 0, a, 0, k);
            System.arraycopy(bytes, k, b, 0, b.length);
            assertEquals(want, events(bufferSize, List.of(a, b)), "split at " + k + ": " + input);
        }
        List<byte[]> single = new ArrayList<>();
        for (byte x : bytes) {
            single.add(new byte[] {x});
        }
        assertEquals(want, events(bufferSize, single), "byte by byte: " + input);
    }

    private static void check(String input, String... expected) {
        check(128, input, expected);
    }

    @Test
    void commandsAnyCaseWithCrlfOrLf() {
        check("USER alice\r\n", "USER[alice]");
        check("user alice\n", "USER[alice]");
        check("NoOp\r\n", "NOOP[]");
        check("CAPA\r\nQUIT\n", "CAPA[]", "QUIT[]");
        check("stls\r\n", "STLS[]");
    }

    @Test
    void spacesBelongToUserAndPassArguments() {
        check("PASS my secret  pw\r\n", "PASS[my secret  pw]");
        check("USER  alice \r\n", "USER[alice ]");
        check("APOP  alice   0123456789abcdef0123456789abcdef\r\n", "APOP[alice|0123456789abcdef0123456789abcdef]");
    }

    @Test
    void atMostThreeArguments() {
        check("APOP a b c\r\n", "APOP[a|b|c]");
        check("APOP a b c d\r\nNOOP\r\n", "INVALID", "NOOP[]");
    }

    @Test
    void invalidLinesAreSkippedToTheirLf() {
        check("FOO\r\nNOOP\r\n", "INVALID", "NOOP[]");
        check("\r\n", "INVALID");
        check("NOO1 x\r\n", "INVALID");
        check("QUITS\r\n", "INVALID");
        check("NOOP\rX\r\nNOOP\r\n", "INVALID", "NOOP[]");
        check("RETR 1\r\nLIST\r\n", "INVALID", "INVALID");
    }

    @Test
    void afterAuthTheNextLineIsReadAsArguments() {
        check("AUTH PLAIN\r\nAGFsaWNlAHB3\r\n", "AUTH[PLAIN]", "AUTH[AGFsaWNlAHB3]");
        check("AUTH LOGIN\r\nYWxpY2U=\r\ncHc=\r\n", "AUTH[LOGIN]", "AUTH[YWxpY2U=]", "AUTH[cHc=]");
        check("AUTH XOAUTH2\r\n\r\n", "AUTH[XOAUTH2]", "AUTH[]");
        check("AUTH OAUTHBEARER\r\n*\r\n", "AUTH[OAUTHBEARER]", "AUTH[*]");
    }

    @Test
    void theHandlerCanAskForACommandAgain() {
        Pop3Parser parser = new Pop3Parser(128);
        IoBuffer in = IoBuffer.wrap("AUTH\r\nNOOP\r\n".getBytes(ISO_8859_1));
        assertEquals(Result.OK, parser.parse(in));
        assertTrue(parser.args().isEmpty());
        assertFalse(parser.expectsCommand());
        parser.expectCommand();
        assertEquals(Result.OK, parser.parse(in));
        assertEquals(Pop3Parser.Command.NOOP, parser.command());
    }

    @Test
    void parseStopsAfterEachLineSoPipelinedBytesStayInTheBuffer() {
        Pop3Parser parser = new Pop3Parser(128);
        IoBuffer in = IoBuffer.wrap("USER a\r\nPASS b\r\nLIST\r\n".getBytes(ISO_8859_1));
        assertEquals(Result.OK, parser.parse(in));
        assertEquals(8, in.position());
        assertEquals(Result.OK, parser.parse(in));
        assertEquals(16, in.position());
        assertEquals("LIST\r\n", new String(in.array(), in.position(), in.remaining(), ISO_8859_1));
    }

    @Test
    void lineLongerThanTheBufferIsTooLong() {
        check(16, "USER 0123456789\r\n", "TOO LONG", "INVALID"); // 17 bytes with its CRLF
        check(17, "USER 0123456789\r\n", "USER[0123456789]");
        check(16, "USER 01234567890\r\n", "TOO LONG", "INVALID");
        check(16, "XXXXXXXXXXXXXXXXXXXXXXX\r\n", "TOO LONG", "INVALID");
    }

    @Test
    void longLinesUpToPop3ClientBuffer() {
        String token = "A".repeat(4096 - "AUTH XOAUTH2 \r\n".length());
        check(4096, "AUTH XOAUTH2 " + token + "\r\n", "AUTH[XOAUTH2|" + token + "]");
        check(4096, "AUTH XOAUTH2 " + token + "A\r\n", "TOO LONG", "INVALID");
    }

    @Test
    void aLineOfExactlyTheBufferSizeIsAccepted() {
        check(12, "USER alice\r\n", "USER[alice]");
        check(11, "USER alice\r\n", "TOO LONG", "INVALID");
    }
}
