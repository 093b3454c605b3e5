package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigParserTest {

    @TempDir
    Path dir;

    private static List<Directive> parse(String text) throws ConfigException {
        return ConfigParser.parse(text, "t.conf");
    }

    private static List<String> args(String text) throws ConfigException {
        return parse(text).get(0).args();
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text)).getMessage();
    }

    @Test
    void directivesBlocksAndLines() throws ConfigException {
        List<Directive> top = parse("a 1 2;\n\n# comment ; { }\nb {\n  c;\n  d x {\n  }\n}\n");
        assertEquals(2, top.size());
        assertEquals(new Directive("a", List.of("1", "2"), null, "t.conf", 1), top.get(0));
        Directive b = top.get(1);
        assertEquals(4, b.line());
        assertEquals(List.of(), b.args());
        assertEquals("c", b.block().get(0).name());
        assertEquals(5, b.block().get(0).line());
        assertNull(b.block().get(0).block());
        assertEquals(List.of("x"), b.block().get(1).args());
        assertEquals(List.of(), b.block().get(1).block());
    }

    @Test
    void lineIsTheLineOfTheTerminator() throws ConfigException {
        assertEquals(3, parse("listen\n  25\n;").get(0).line());
        assertEquals(2, parse("server\n{ }").get(0).line());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "x \"a b\";            | a b",
        "x 'a b';              | a b",
        "x \"it's\";           | it's",
        "x 'say \"hi\"';       | say \"hi\"",
        "x \"a\\\"b\";         | a\"b",
        "x 'a\\'b';            | a'b",
        "x \"a\\\\b\";         | a\\b",
        "x \"a\\qb\";          | a\\qb",
        "x a\\qb;              | a\\qb",
        "x \\\"abc\\\";        | \"abc\"",
        "x abc#def;            | abc#def",
        "x a\"b;               | a\"b",
        "x \"${y}z\";          | ${y}z",
        "x a${y}z;             | a${y}z",
        "x \"\";               | ``",
        "x \"a;b{c}\";         | a;b{c}",
    })
    void quotesAndEscapes(String text, String expected) throws ConfigException {
        assertEquals(List.of(expected), args(text));
    }

    @Test
    void controlEscapes() throws ConfigException {
        assertEquals(List.of("a\tb\rc\nd"), args("x \"a\\tb\\rc\\nd\";"));
        assertEquals(List.of("a\tb"), args("x a\\tb;"));
    }

    @Test
    void escapedSpaceStaysInTheWordWithItsBackslash() throws ConfigException {
        assertEquals(List.of("a\\ b", "c"), args("x a\\ b c;"));
    }

    @Test
    void closingParenthesisAfterQuoteStartsAWord() throws ConfigException {
        Directive d = parse("if ($a = \"b\") { return 200; }").get(0);
        assertEquals(List.of("($a", "=", "b", ")"), d.args());
        assertEquals("return", d.block().get(0).name());
    }

    @Test
    void quotedWordsMaySpanLines() throws ConfigException {
        List<Directive> top = parse("log_format main '$remote_addr - '\n    '\"$request\"';\nnext;");
        assertEquals(List.of("main", "$remote_addr - ", "\"$request\""), top.get(0).args());
        assertEquals(2, top.get(0).line());
        assertEquals(3, top.get(1).line());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`}`                         | unexpected \"}\" in t.conf:1",
        "`a {\n}\n}`                 | unexpected \"}\" in t.conf:3",
        "`a b }`                     | unexpected \"}\" in t.conf:1",
        "`;`                         | unexpected \";\" in t.conf:1",
        "`\n\n{`                     | unexpected \"{\" in t.conf:3",
        "`a \"b\"c;`                 | unexpected \"c\" in t.conf:1",
        "`a 'b'#;`                   | unexpected \"#\" in t.conf:1",
        "`a b`                       | unexpected end of file, expecting \";\" or \"}\" in t.conf:1",
        "`a b # no end\n`            | unexpected end of file, expecting \";\" or \"}\" in t.conf:2",
        "`a \"open;\n\n`             | unexpected end of file, expecting \";\" or \"}\" in t.conf:3",
        "`mail {\n  server {\n  }\n` | unexpected end of file, expecting \"}\" in t.conf:4",
        "`include a b;`              | invalid number of arguments in \"include\" directive in t.conf:1",
        "`include;`                  | invalid number of arguments in \"include\" directive in t.conf:1",
        "`include a {}`              | directive \"include\" is not terminated by \";\" in t.conf:1",
    })
    void syntaxErrors(String text, String message) {
        assertEquals(message, error(text));
    }

    @Test
    void parameterTextHasItsOwnEndMessageAndNoPosition() throws ConfigException {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse("listen 25", null));
        assertEquals("unexpected end of parameter, expecting \";\"", e.getMessage());
        assertNull(e.file());
        assertEquals(List.of("25"), ConfigParser.parse("listen 25;", null).get(0).args());
    }

    @Test
    void tooLongParameter() {
        String word = "a".repeat(ConfigLexer.MAX_WORD);
        assertEquals("too long parameter \"aaaaaaaaaa...\" started in t.conf:2", error("\nx " + word + ";"));
        assertEquals("too long parameter, probably missing terminating \"\"\" character in t.conf:1",
                error("x \"" + word + "\";"));
        assertEquals("too long parameter, probably missing terminating \"'\" character in t.conf:1",
                error("x '" + word.substring(5) + "\n" + word + "';"));
        assertEquals(ConfigLexer.MAX_WORD - 1, assertDoesNotThrow("x " + word.substring(1) + ";"));
    }

    private static int assertDoesNotThrow(String text) {
        try {
            return args(text).get(0).length();
        } catch (ConfigException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    @Test
    void mainFileThatCannotBeOpened() {
        Path missing = dir.resolve("missing.conf");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(missing));
        assertEquals("open() \"" + missing + "\" failed (2: No such file or directory)", e.getMessage());
        assertNull(e.file());
    }

    @Test
    void includeIsExpandedInPlaceRelativeToTheMainFile() throws ConfigException {
        TestFiles.write(dir, "conf.d/servers.conf", "server { listen 25; }\nserver { listen 110; }\n");
        TestFiles.write(dir, "proxy.conf", "xclient off;\n");
        Path main = TestFiles.write(dir, "main.conf", "mail {\n    include proxy.conf;\n    include conf.d/servers.conf;\n}\n");
        Directive mail = ConfigParser.parse(main).get(0);
        List<Directive> block = mail.block();
        assertEquals(List.of("xclient", "server", "server"), block.stream().map(Directive::name).toList());
        assertEquals(dir.resolve("proxy.conf").toString(), block.get(0).file());
        assertEquals(1, block.get(0).line());
        assertEquals(dir.resolve("conf.d/servers.conf").toString(), block.get(2).file());
        assertEquals(2, block.get(2).line());
        assertEquals(main.toString(), mail.file());
    }

    @Test
    void includeGlobsAreSortedAndMayMatchNothing() throws ConfigException {
        TestFiles.write(dir, "conf.d/b.conf", "b;");
        TestFiles.write(dir, "conf.d/a.conf", "a;");
        TestFiles.write(dir, "conf.d/c.txt", "c;");
        TestFiles.write(dir, "conf.d/.hidden.conf", "hidden;");
        TestFiles.write(dir, "sites/one/mail.conf", "one;");
        TestFiles.write(dir, "sites/two/mail.conf", "two;");
        Path main = TestFiles.write(dir, "main.conf",
                "include conf.d/*.conf;\ninclude nothing/*.conf;\ninclude conf.d/[!a].conf;\n"
                        + "include sites/*/mail.conf;\ninclude conf.d/?.txt;\ninclude conf.d/.h*;\n");
        assertEquals(List.of("a", "b", "b", "one", "two", "c", "hidden"),
                ConfigParser.parse(main).stream().map(Directive::name).toList());
    }

    @Test
    void nestedIncludesAreRelativeToTheMainFileLikeNginxsPrefix() throws ConfigException {
        TestFiles.write(dir, "conf.d/outer.conf", "outer;\ninclude snippets/inner.conf;\n");
        TestFiles.write(dir, "snippets/inner.conf", "inner;\n");
        TestFiles.write(dir, "conf.d/snippets/inner.conf", "wrong;\n");
        Path main = TestFiles.write(dir, "main.conf", "include conf.d/outer.conf;\n");
        assertEquals(List.of("outer", "inner"), ConfigParser.parse(main).stream().map(Directive::name).toList());
    }

    @Test
    void textWithAFileNameIncludesFromThatFilesDirectory() throws ConfigException {
        TestFiles.write(dir, "x.conf", "x;\n");
        List<Directive> top = ConfigParser.parse("include x.conf;\ny;", dir.resolve("virtual.conf").toString());
        assertEquals(List.of("x", "y"), top.stream().map(Directive::name).toList());
        assertEquals(dir.resolve("virtual.conf").toString(), top.get(1).file());
    }

    @Test
    void includeOfAbsolutePath() throws ConfigException {
        Path inc = TestFiles.write(dir, "x/inc.conf", "a;");
        Path main = TestFiles.write(dir, "main.conf", "include " + Directive.quote(inc.toString()) + ";");
        assertEquals("a", ConfigParser.parse(main).get(0).name());
    }

    @Test
    void missingIncludeIsAnErrorAtTheIncludeLine() {
        Path main = TestFiles.write(dir, "main.conf", "mail {\n    include missing.conf;\n}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(main));
        assertEquals("open() \"" + dir.resolve("missing.conf") + "\" failed (2: No such file or directory) in "
                + main + ":2", e.getMessage());
    }

    @Test
    void errorsInsideAnIncludedFileNameThatFile() {
        Path inc = TestFiles.write(dir, "inc.conf", "a;\nb \"c\"d;\n");
        Path main = TestFiles.write(dir, "main.conf", "include inc.conf;\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(main));
        assertEquals("unexpected \"d\" in " + inc + ":2", e.getMessage());
    }

    @Test
    void aBlockCannotEndInAnIncludedFile() {
        TestFiles.write(dir, "inc.conf", "}\n");
        Path main = TestFiles.write(dir, "main.conf", "mail {\ninclude inc.conf;\n}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(main));
        assertEquals("unexpected \"}\" in " + dir.resolve("inc.conf") + ":1", e.getMessage());
    }

    @Test
    void includeLoopsStop() {
        Path main = TestFiles.write(dir, "main.conf", "include main.conf;\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(main));
        assertTrue(e.reason().startsWith("too deep include nesting"), e.getMessage());
    }

    @Test
    void includingADirectoryFails() {
        TestFiles.write(dir, "d/x.conf", "a;");
        Path main = TestFiles.write(dir, "main.conf", "include d;\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(main));
        assertEquals("pread() \"" + dir.resolve("d") + "\" failed (21: Is a directory) in " + main + ":1",
                e.getMessage());
    }

    @Test
    void wholeNginxFileParses() throws ConfigException {
        Path main = TestFiles.write(dir, "nginx.conf", """
                user www-data;
                worker_processes auto;
                pid /run/nginx.pid;
                include /nonexistent-dir-for-test/*.conf;

                events { worker_connections 768; multi_accept on; }

                http {
                    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                                    '$status $body_bytes_sent "$http_referer"';
                    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
                    server {
                        listen 80 default_server;
                        server_name _;
                        location ~* \\.(jpg|png)$ { expires 30d; }
                        location / {
                            if ($request_method = POST) { return 405; }
                            if ($http_x ~ "^a b$") { set $y "${http_x}z"; }
                            return 200 "ok\\n";
                        }
                    }
                }

                stream { server { listen 12345; proxy_pass 127.0.0.1:22; } }

                mail { server { listen 143; } }
                """);
        List<Directive> top = ConfigParser.parse(main);
        assertEquals(List.of("user", "worker_processes", "pid", "events", "http", "stream", "mail"),
                top.stream().map(Directive::name).toList());
        Directive location = top.get(4).block().get(2).block().get(2);
        assertEquals(List.of("~*", "\\.(jpg|png)$"), location.args());
    }

    @Test
    void seedExampleParses() throws ConfigException {
        List<Directive> top = ConfigParser.parse(TestFiles.write(dir, "mail.conf", TestFiles.SEED));
        Directive mail = top.get(3);
        assertEquals("mail", mail.name());
        Directive caps = mail.block().stream().filter(d -> d.name().equals("smtp_capabilities")).findFirst()
                .orElseThrow();
        assertEquals(List.of("SIZE 10485760", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN"), caps.args());
        assertEquals(19, caps.line());
    }
}
