package org.mailproxy.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.mina.core.buffer.IoBuffer;
import org.junit.jupiter.api.Test;
import org.mailproxy.imap.ImapParser.Command;
import org.mailproxy.imap.ImapParser.Result;

/**
 * The IMAP parser, every input fed whole, split in two at every byte boundary, byte by byte and in
 * random pieces: the events must be the same each time.
 */
class ImapParserTest {

    private static final int LIMIT = 4096;

    // ---------------------------------------------------------------- the driver

    /**
     * Feeds the chunks to a new parser as a session would, and describes what came out. After an
     * AUTHENTICATE with a mechanism only, the next line is a SASL response, as the handler asks.
     */
    private static List<String> run(int limit, List<byte[]> chunks) {
        ImapParser parser = new ImapParser(limit);
        List<String> out = new ArrayList<>();
        for (byte[] chunk : chunks) {
            IoBuffer in = IoBuffer.wrap(chunk);
            while (in.hasRemaining()) {
                Result result = parser.parse(in);
                if (result == Result.AGAIN) {
                    assertFalse(in.hasRemaining(), "AGAIN with bytes left");
                    break;
                }
                out.add(describe(parser, result));
                if (result == Result.TOO_LONG) {
                    return out; // the session closes
                }
                if (result == Result.COMMAND && parser.command() == Command.AUTHENTICATE
                        && parser.args().size() == 1) {
                    parser.expectResponseLine();
                }
            }
        }
        return out;
    }

    private static String describe(ImapParser parser, Result result) {
        switch (result) {
            case LITERAL_CONTINUATION:
                return "+";
            case TOO_LONG:
                return "TOO_LONG";
            case INVALID:
                return "INVALID " + parser.tag() + (parser.closeAfterInvalid() ? " close" : "");
            case COMMAND:
                StringBuilder s = new StringBuilder();
                if (parser.command() != Command.RESPONSE) {
                    s.append(parser.tag()).append(' ');
                }
                s.append(parser.command());
                if (parser.isList()) {
                    s.append(" (");
                }
                for (int i = 0; i < parser.args().size(); i++) {
                    String arg = printable(parser.args().get(i));
                    s.append(parser.isList() && i == 0 ? "" : " ").append(parser.isAtom(i) ? arg : "\"" + arg + "\"");
                }
                if (parser.isList()) {
                    s.append(")");
                }
                return s.toString();
            default:
                throw new AssertionError(result);
        }
    }

    private static String printable(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c < 0x20 || c >= 0x7f) {
                s.append(String.format("\\x%02x", c));
            } else {
                s.append((char) c);
            }
        }
        return s.toString();
    }

    /** The events for the input whole, and asserts they are the same however it is split. */
    private static List<String> parse(int limit, String input) {
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        List<String> whole = run(limit, List.of(bytes));
        for (int split = 0; split <= bytes.length; split++) {
            List<String> two = run(limit, List.of(Arrays.copyOfRange(bytes, 0, split),
                    Arrays.copyOfRange(bytes, split, bytes.length)));
            assertEquals(whole, two, "split at " + split + " of " + printable(bytes));
        }
        List<byte[]> single = new ArrayList<>();
        for (byte b : bytes) {
            single.add(new byte[] {b});
        }
        assertEquals(whole, run(limit, single), "byte by byte");
        Random random = new Random(bytes.length);
        for (int round = 0; round < 20; round++) {
            List<byte[]> pieces = new ArrayList<>();
            int at = 0;
            while (at < bytes.length) {
                int n = 1 + random.nextInt(Math.max(1, Math.min(7, bytes.length - at)));
                pieces.add(Arrays.copyOfRange(bytes, at, at + n));
                at += n;
            }
            assertEquals(whole, run(limit, pieces), "random pieces, round " + round);
        }
        return whole;
    }

    private static List<String> parse(String input) {
        return parse(LIMIT, input);
    }

    // ---------------------------------------------------------------- commands and atoms

    @Test
    void simpleCommandsInAnyCase() {
        assertEquals(List.of("a1 NOOP"), parse("a1 NOOP\r\n"));
        assertEquals(List.of("a1 CAPABILITY"), parse("a1 capability\r\n"));
        assertEquals(List.of("A.b-c_9 LOGOUT"), parse("A.b-c_9 LogOut\r\n"));
        assertEquals(List.of("1 STARTTLS"), parse("1 STARTTLS\r\n"));
        assertEquals(List.of("x AUTHENTICATE PLAIN"), parse("x AUTHENTICATE PLAIN\r\n").subList(0, 1));
    }

    @Test
    void bareLfEndsALineAndSpacesMayRepeat() {
        assertEquals(List.of("a1 NOOP", "a2 NOOP"), parse("a1 NOOP\na2   NOOP\r\n"));
        assertEquals(List.of("a1 LOGIN user pass"), parse("a1  LOGIN   user   pass  \r\n"));
    }

    @Test
    void atoms() {
        assertEquals(List.of("a1 LOGIN user@example.com p\"a\\ss"), parse("a1 LOGIN user@example.com p\"a\\ss\r\n"));
        assertEquals(List.of("a1 LOGIN \\xc3\\xa9 \\xff"), parse("a1 LOGIN \u00c3\u00a9 \u00ff\r\n"));
    }

    @Test
    void argumentsAtMostThree() {
        assertEquals(List.of("a1 LOGIN a b c"), parse("a1 LOGIN a b c\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN a b c d\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN a b c \"d\"\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN a b c {1}\r\n"));
    }

    @Test
    void controlCharactersAreNotAtoms() {
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN us\u0000er pass\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN \tuser pass\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN user\rpass\r\n"));
    }

    @Test
    void unknownCommandsAreInvalidAndTheirLineIsSkipped() {
        assertEquals(List.of("INVALID a01", "a02 NOOP"), parse("a01 INVALID COMMAND WITH ARGUMENTS\r\na02 NOOP\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 SELECT INBOX\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 NOOP2\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 AUTHENTICATEX\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 NO-OP\r\n"));
        assertEquals(List.of("INVALID a1", "a2 NOOP"), parse("a1 \r\na2 NOOP\r\n"));
    }

    // ---------------------------------------------------------------- tags

    @Test
    void tagsAreValidatedStrictly() {
        assertEquals(List.of("INVALID null"), parse("a+1 NOOP\r\n"));
        assertEquals(List.of("INVALID null"), parse("a*1 NOOP\r\n"));
        assertEquals(List.of("INVALID null"), parse("\"a\" NOOP\r\n"));
        assertEquals(List.of("INVALID null"), parse(" NOOP\r\n"));
        assertEquals(List.of("INVALID null"), parse("\r\n"));
        assertEquals(List.of("INVALID null"), parse("\n"));
        assertEquals(List.of("INVALID null"), parse("a1\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 \u00e9 NOOP\r\n"));
        assertEquals(List.of("INVALID null", "b NOOP"), parse("a\u00e9 NOOP\r\nb NOOP\r\n"));
    }

    @Test
    void tagsAreAtMost32Characters() {
        String tag32 = "a".repeat(32);
        assertEquals(List.of(tag32 + " NOOP"), parse(tag32 + " NOOP\r\n"));
        assertEquals(List.of("INVALID null"), parse(tag32 + "b NOOP\r\n"));
    }

    // ---------------------------------------------------------------- quoted strings

    @Test
    void quotedStringsWithEscapes() {
        // on the wire: "te\\\"st@example.com" "se\\\"cret", as nginx's mail_imap.t sends it
        assertEquals(List.of("a01 LOGIN \"te\\\"st@example.com\" \"se\\\"cret\""),
                parse("a01 LOGIN \"te\\\\\\\"st@example.com\" \"se\\\\\\\"cret\"\r\n"));
        assertEquals(List.of("a1 LOGIN \"us er\" \"\""), parse("a1 LOGIN \"us er\" \"\"\r\n"));
        assertEquals(List.of("a1 LOGIN \"x\" \"(){%*]\""), parse("a1 LOGIN \"\\x\" \"(){%*]\"\r\n"));
        assertEquals(List.of("a1 LOGIN \"\\xc3\\xa9\" pass"), parse("a1 LOGIN \"\u00c3\u00a9\" pass\r\n"));
    }

    @Test
    void quotedStringsEndBeforeSpaceOrLineEnd() {
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN \"a\"b c\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN \"a\"\"b\"\r\n"));
        assertEquals(List.of("a1 LOGIN \"a\" \"b\""), parse("a1 LOGIN \"a\" \"b\"\r\n"));
        assertEquals(List.of("a1 LOGIN \"a\" \"b\""), parse("a1 LOGIN \"a\" \"b\"\n"));
    }

    @Test
    void unterminatedQuotesAndEscapedLineEndsAreInvalid() {
        assertEquals(List.of("INVALID a1", "a2 NOOP"), parse("a1 LOGIN \"abc\r\na2 NOOP\r\n"));
        assertEquals(List.of("INVALID a1", "a2 NOOP"), parse("a1 LOGIN \"abc\\\r\na2 NOOP\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN \"abc\n"));
    }

    // ---------------------------------------------------------------- literals

    @Test
    void synchronizingLiteralsAskForContinuation() {
        assertEquals(List.of("+", "+", "a01 LOGIN \"te\\\"st@example.com\" \"se\\\"cret\""),
                parse("a01 LOGIN {18}\r\nte\\\"st@example.com {8}\r\nse\\\"cret\r\n"));
    }

    @Test
    void nonSynchronizingLiteralsDoNot() {
        assertEquals(List.of("a01 LOGIN \"te\\\"st@example.com\" \"se\\\"cret\""),
                parse("a01 LOGIN {18+}\r\nte\\\"st@example.com {8+}\r\nse\\\"cret\r\n"));
        // a literal and a quoted string mixed, backslashes kept in the literal only
        assertEquals(List.of("a01 LOGIN \"te\\\"st@example.com\" \"se\\\"cret\""),
                parse("a01 LOGIN {18+}\r\nte\\\"st@example.com \"se\\\\\\\"cret\"\r\n"));
    }

    @Test
    void literalsHoldAnyByte() {
        assertEquals(List.of("+", "a1 LOGIN \"a\\x0d\\x0a \\x00\"{\" pass"),
                parse("a1 LOGIN {7}\r\na\r\n \u0000\"{ pass\r\n"));
    }

    @Test
    void emptyLiterals() {
        assertEquals(List.of("+", "+", "a1 LOGIN \"\" \"\""), parse("a1 LOGIN {0}\r\n {0}\r\n\r\n"));
        assertEquals(List.of("a1 LOGIN \"\" \"\""), parse("a1 LOGIN {0+}\r\n {0+}\r\n\r\n"));
    }

    @Test
    void literalHeaderSyntax() {
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {}\r\n"));
        assertEquals(List.of("INVALID a1 close"), parse("a1 LOGIN {+}\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {1a}\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {1} \r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {1}x\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {1}\rx\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {-1}\r\n"));
        assertEquals(List.of("INVALID a1 close"), parse("a1 LOGIN {1++}\r\n"));
    }

    @Test
    void afterALiteralOnlySpaceOrLineEnd() {
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {4+}\r\nuserX\r\n"));
        assertEquals(List.of("INVALID a1 close"), parse("a1 LOGIN {4+}\r\nuser{4+}\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {4+}\r\nuser\"pass\"\r\n"));
        assertEquals(List.of("+", "INVALID a1", "a2 NOOP"), parse("a1 LOGIN {4}\r\nuserpass\r\na2 NOOP\r\n"));
        assertEquals(List.of("a1 LOGIN \"user\" pass"), parse("a1 LOGIN {4+}\r\nuser pass\r\n"));
    }

    @Test
    void anInvalidLineAnnouncingANonSyncLiteralCloses() {
        // nginx's mail_imap.t: the literal's bytes cannot be told from commands
        assertEquals(List.of("INVALID a03 close"), parse("a03 FOOBAR {10+}\r\ntest test \r\na04 NOOP\r\n").subList(0, 1));
        assertEquals(List.of("INVALID a03 close"), parse("a03 FOOBAR {10+}\n").subList(0, 1));
        assertEquals(List.of("INVALID a03", "a04 NOOP"), parse("a03 FOOBAR {10}\r\na04 NOOP\r\n"));
        assertEquals(List.of("INVALID a1 close"), parse("a1 LOGIN a b c {5+}\r\n"));
    }

    @Test
    void literalLengthsThatCannotFitAreRefusedBeforeTheContinuation() {
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {99999999999999999999999999}\r\n"));
        assertEquals(List.of("INVALID a1 close"), parse("a1 LOGIN {99999999999999999999999999+}\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {4097}\r\n"));
        // 4096 can never fit with its command line either
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN {4096}\r\n"));
        // "a1 LOGIN {40}\r\n" is 15 bytes: 15 + 40 = 55 fits in 64 with a 9-byte rest
        assertEquals(List.of("+", "a1 LOGIN \"" + "x".repeat(40) + "\" p"),
                parse(64, "a1 LOGIN {40}\r\n" + "x".repeat(40) + " p\r\n"));
        assertEquals(List.of("INVALID a1", "a2 NOOP"), parse(64, "a1 LOGIN {50}\r\na2 NOOP\r\n"));
        assertEquals(List.of("INVALID a1 close"), parse(64, "a1 LOGIN {50+}\r\n"));
    }

    // ---------------------------------------------------------------- limits

    @Test
    void aCommandMayTakeTheWholeBufferAndNotOneByteMore() {
        String exact = "a1 LOGIN " + "u".repeat(20) + " p\r\n";
        assertEquals(List.of("a1 LOGIN " + "u".repeat(20) + " p"), parse(exact.length(), exact));
        assertEquals(List.of("TOO_LONG"), parse(exact.length() - 1, exact));
        // each command of a pipeline has the whole buffer
        assertEquals(List.of("a1 NOOP", "a2 NOOP", "a3 NOOP"), parse(9, "a1 NOOP\r\na2 NOOP\r\na3 NOOP\r\n"));
    }

    @Test
    void literalsCountTowardsTheLimit() {
        String command = "a1 LOGIN {30+}\r\n" + "x".repeat(30) + " p\r\n";
        assertEquals(1, parse(command.length(), command).size());
        assertEquals(List.of("TOO_LONG"), parse(command.length() - 1, command));
    }

    @Test
    void aLongInvalidLineIsTooLongToo() {
        assertEquals(List.of("TOO_LONG"), parse(16, "a1 FOO " + "x".repeat(40) + "\r\n"));
    }

    // ---------------------------------------------------------------- pipelining

    @Test
    void pipelinedCommandsComeOneByOne() {
        assertEquals(List.of("a1 CAPABILITY", "+", "a2 LOGIN u \"pass\"", "a3 LOGOUT"),
                parse("a1 CAPABILITY\r\na2 LOGIN u {4}\r\npass\r\na3 LOGOUT\r\n"));
        assertEquals(List.of("INVALID null", "a2 NOOP", "INVALID a3", "a4 NOOP"),
                parse("?\r\na2 NOOP\r\na3 BAD\r\na4 NOOP\r\n"));
    }

    // ---------------------------------------------------------------- AUTHENTICATE and responses

    @Test
    void saslResponsesAreWholeLines() {
        assertEquals(List.of("1 AUTHENTICATE PLAIN", "RESPONSE \"AHRlc3QAc2VjcmV0\"", "2 NOOP"),
                parse("1 AUTHENTICATE PLAIN\r\nAHRlc3QAc2VjcmV0\r\n2 NOOP\r\n"));
        assertEquals(List.of("1 AUTHENTICATE XOAUTH2", "RESPONSE \"\""), parse("1 AUTHENTICATE XOAUTH2\r\n\r\n"));
        assertEquals(List.of("1 AUTHENTICATE LOGIN", "RESPONSE \"*\""), parse("1 AUTHENTICATE LOGIN\n*\n"));
        assertEquals(List.of("1 AUTHENTICATE LOGIN", "RESPONSE \"a b {5}\""), parse("1 AUTHENTICATE LOGIN\r\na b {5}\r\n"));
        assertEquals(List.of("1 AUTHENTICATE LOGIN", "INVALID null", "2 NOOP"),
                parse("1 AUTHENTICATE LOGIN\r\nab\rc\r\n2 NOOP\r\n"));
    }

    @Test
    void initialResponses() {
        assertEquals(List.of("1 AUTHENTICATE PLAIN AHRlc3QAc2VjcmV0"), parse("1 AUTHENTICATE PLAIN AHRlc3QAc2VjcmV0\r\n"));
        assertEquals(List.of("1 AUTHENTICATE plain ="), parse("1 authenticate plain =\r\n"));
    }

    @Test
    void responseLinesAreBoundedToo() {
        assertEquals(List.of("1 AUTHENTICATE PLAIN", "TOO_LONG"), parse(24, "1 AUTHENTICATE PLAIN\r\n" + "A".repeat(30) + "\r\n"));
    }

    // ---------------------------------------------------------------- ID

    @Test
    void idWithNilOrAList() {
        assertEquals(List.of("a1 ID NIL"), parse("a1 ID NIL\r\n"));
        assertEquals(List.of("a1 ID (\"name\" \"Thunderbird\" \"version\" NIL)"),
                parse("a1 ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n"));
        assertEquals(List.of("a1 ID ()"), parse("a1 ID ()\r\n"));
        assertEquals(List.of("a1 ID (\"name\" \"x\")"), parse("a1 ID ( \"name\"  \"x\" ) \r\n"));
        assertEquals(List.of("+", "a1 ID (\"name\" \"a\\x0d\\x0ab\")"), parse("a1 ID (\"name\" {4}\r\na\r\nb)\r\n"));
    }

    @Test
    void idListSyntax() {
        assertEquals(List.of("INVALID a1"), parse("a1 ID (\"name\" \"x\"\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 ID (\"name\" \"x\") x\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 ID (\"a\" (\"b\"))\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 ID \"a\" (\"b\")\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 LOGIN (a b)\r\n"));
        assertEquals(List.of("INVALID a1"), parse("a1 ID (\"a\")(\"b\")\r\n"));
        StringBuilder many = new StringBuilder("a1 ID (");
        for (int i = 0; i < 31; i++) {
            many.append("\"f").append(i).append("\" \"v\" ");
        }
        assertEquals(List.of("INVALID a1"), parse(many.append(")\r\n").toString()));
    }
}
