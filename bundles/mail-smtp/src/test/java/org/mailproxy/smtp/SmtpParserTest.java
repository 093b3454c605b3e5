package org.mailproxy.smtp;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;
import org.junit.jupiter.api.Test;
import org.mailproxy.smtp.SmtpParser.Result;

/**
 * The SMTP parser on nginx's rules ({@code ngx_mail_smtp_parse_command}), each input fed whole,
 * split in two at every byte boundary, and byte by byte: the events must be the same every way.
 */
class SmtpParserTest {

    /** Parses everything in the given pieces; each result as "CMD[arg|arg]{command text}", "INVALID" or "TOO LONG". */
    private static List<String> events(int bufferSize, List<byte[]> pieces) {
        SmtpParser parser = new SmtpParser(bufferSize);
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
                    e.append(']');
                    if (parser.expectsCommand()) {
                        e.append('{').append(parser.commandText()).append('}');
                    }
                    events.add(e.toString());
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
        check(4096, input, expected);
    }

    @Test
    void commandsAnyCaseWithCrlfOrLf() {
        check("EHLO client.example\r\nhelo x\nQuit\r\n",
                "EHLO[client.example]{EHLO client.example}", "HELO[x]{helo x}", "QUIT[]{Quit}");
        check("NOOP\r\nRSET\r\nVRFY bob\r\nEXPN list\r\nHELP\r\nSTARTTLS\r\nstarttls\r\n",
                "NOOP[]{NOOP}", "RSET[]{RSET}", "VRFY[bob]{VRFY bob}", "EXPN[list]{EXPN list}", "HELP[]{HELP}",
                "STARTTLS[]{STARTTLS}", "STARTTLS[]{starttls}");
    }

    @Test
    void mailAndRcptKeepTheirTextUpToTheLastArgument() {
        check("MAIL FROM:<a@example.com>  SIZE=100 BODY=8BITMIME  \r\nRCPT   TO:<b@example.com>\r\n",
                "MAIL[FROM:<a@example.com>|SIZE=100|BODY=8BITMIME]{MAIL FROM:<a@example.com>  SIZE=100 BODY=8BITMIME}",
                "RCPT[TO:<b@example.com>]{RCPT   TO:<b@example.com>}");
    }

    @Test
    void afterAuthTheNextLineIsAnArgument() {
        check("AUTH PLAIN\r\nAHVzZXIAcGFzcw==\r\n", "AUTH[PLAIN]", "AUTH[AHVzZXIAcGFzcw==]");
        check("AUTH LOGIN\r\n\r\n* x\r\n", "AUTH[LOGIN]", "AUTH[]", "AUTH[*|x]");
        check("auth login dXNlcg==\r\nEHLO x\r\n", "AUTH[login|dXNlcg==]", "AUTH[EHLO|x]");
    }

    @Test
    void invalidLinesAreSkippedToTheirEnd() {
        check("XYZZ\r\nNOOP\r\n", "INVALID", "NOOP[]{NOOP}");
        check("\r\n\nNOOP\r\n", "INVALID", "INVALID", "NOOP[]{NOOP}");
        check("NO0P\r\nDATA\r\nMAILFROM:<a>\r\nSTARTTLSX\r\n", "INVALID", "INVALID", "INVALID", "INVALID");
        check("NOOP\rX\r\nNOOP\r\n", "INVALID", "NOOP[]{NOOP}");
        check(" NOOP\r\nNOOP x\ry\r\n", "INVALID", "INVALID");
        check("EHLO a\tb\r\n", "EHLO[a\tb]{EHLO a\tb}");
    }

    @Test
    void elevenArgumentsAtMost() {
        check("RCPT 1 2 3 4 5 6 7 8 9 10 11\r\n", "RCPT[1|2|3|4|5|6|7|8|9|10|11]{RCPT 1 2 3 4 5 6 7 8 9 10 11}");
        check("RCPT 1 2 3 4 5 6 7 8 9 10 11 12\r\nNOOP\r\n", "INVALID", "NOOP[]{NOOP}");
        check("RCPT 1 2 3 4 5 6 7 8 9 10 11 \r\n", "RCPT[1|2|3|4|5|6|7|8|9|10|11]{RCPT 1 2 3 4 5 6 7 8 9 10 11}");
    }

    @Test
    void tooLongLine() {
        check(16, "EHLO 012345678\r\n", "EHLO[012345678]{EHLO 012345678}");
        check(16, "EHLO 0123456789\r\n", "TOO LONG", "INVALID");
        check(16, "XXXXXXXXXXXXXXXXXXXX\r\n", "TOO LONG", "INVALID");
    }
}
