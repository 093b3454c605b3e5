package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DirectiveTest {

    @ParameterizedTest(name = "quote({0}) = {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "plain            | plain",
        "localhost:9000/a | localhost:9000/a",
        "$var             | $var",
        "``               | \"\"",
        "SIZE 10485760    | \"SIZE 10485760\"",
        "a;b              | \"a;b\"",
        "{x}              | \"{x}\"",
        "#x               | \"#x\"",
        "it's             | \"it's\"",
        "say \"hi\"       | \"say \\\"hi\\\"\"",
        "back\\slash      | \"back\\\\slash\"",
    })
    void quote(String arg, String quoted) {
        assertEquals(quoted, Directive.quote(arg));
    }

    @Test
    void quoteControlCharacters() {
        assertEquals("\"a\\tb\\nc\\rd\"", Directive.quote("a\tb\nc\rd"));
    }

    @Test
    void splitArgsReadsQuotesAndEscapes() {
        assertEquals(List.of("SIZE 10485760", "ENHANCEDSTATUSCODES", "8BITMIME"),
                Directive.splitArgs("\"SIZE 10485760\" ENHANCEDSTATUSCODES   8BITMIME"));
        assertEquals(List.of("a b", "c\"d", "e\\qf"), Directive.splitArgs("'a b' \"c\\\"d\" e\\qf"));
        assertEquals(List.of(), Directive.splitArgs(""));
        assertEquals(List.of(), Directive.splitArgs("   "));
        assertEquals(List.of("x"), Directive.splitArgs("x "));
        assertEquals(List.of(""), Directive.splitArgs("\"\""));
    }

    @ParameterizedTest(name = "splitArgs(''{0}'') is refused")
    @ValueSource(strings = {"\"open", "a;b", "a {", "}", "'x'y", "a\\"})
    void splitArgsRefusesWhatIsNotAListOfWords(String text) {
        assertThrows(IllegalArgumentException.class, () -> Directive.splitArgs(text));
    }

    @Test
    void argsTextAndSplitArgsRoundTrip() {
        List<List<String>> cases = List.of(
                List.of("25"),
                List.of("SIZE 10485760", "DSN"),
                List.of("", "a\"b", "c'd", "e\\f", "\\", "\\\"", "g;h", "{", "}", "#", "$x", "${y}", "a$", "x y\tz\n",
                        "\r", "ünïcødé", "(a", "b)", ")"));
        for (List<String> args : cases) {
            Directive d = Directive.of("x", args, null, 0);
            assertEquals(args, Directive.splitArgs(d.argsText()), d.argsText());
        }
    }

    @Test
    void randomRoundTrip() {
        String alphabet = "ab \t\n\r;{}#\"'\\$()é";
        Random random = new Random(42);
        for (int n = 0; n < 2000; n++) {
            List<String> args = new ArrayList<>();
            for (int i = random.nextInt(4); i >= 0; i--) {
                StringBuilder word = new StringBuilder();
                for (int j = random.nextInt(6); j > 0; j--) {
                    word.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                args.add(word.toString());
            }
            String text = Directive.of("x", args, null, 0).argsText();
            assertEquals(args, Directive.splitArgs(text), text);
        }
    }

    @Test
    void argsTextThroughTheParser() throws ConfigException {
        List<String> args = List.of("a b", "", "c\\d", "e\"f");
        Directive d = Directive.of("x", args, null, 0);
        assertEquals(args, ConfigParser.parse(d.toConfigText(), "t").get(0).args());
    }

    @Test
    void toConfigTextIndentsBlocks() throws ConfigException {
        Directive mail = ConfigParser.parse("mail { server { listen 25; } xclient off; }", "t").get(0);
        assertEquals("mail {\n    server {\n        listen 25;\n    }\n    xclient off;\n}\n", mail.toConfigText());
    }

    @Test
    void errorsCarryThePosition() {
        Directive d = Directive.of("timeout", List.of("x"), "/etc/mail.conf", 12);
        assertEquals("\"timeout\" directive invalid value in /etc/mail.conf:12", d.invalid("invalid value").getMessage());
        ConfigException e = d.error("something");
        assertEquals("something", e.reason());
        assertEquals("/etc/mail.conf", e.file());
        assertEquals(12, e.line());
        assertEquals("something", Directive.of("x", List.of(), null, 0).error("something").getMessage());
    }

    @Test
    void withoutPositionIsRecursive() {
        Directive inner = Directive.of("listen", List.of("25"), "a", 2);
        Directive block = new Directive("server", List.of(), List.of(inner), "a", 1);
        Directive other = new Directive("server", List.of(), List.of(Directive.of("listen", List.of("25"), "b", 9)),
                "b", 8);
        assertEquals(block.withoutPosition(), other.withoutPosition());
    }
}
