package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzzes the configuration language: {@link ConfigParser} (lexer, quoting, escapes, blocks,
 * {@code include} with globs, relative to an empty directory) and the number, size and time
 * readers every directive uses. Any text either parses, with every directive at a line of the
 * file, or fails with a {@link ConfigException} naming a line — never another exception, never
 * a negative value that is not the "invalid" answer.
 */
class ConfigParserFuzzTest {

    private static final Path DIR = emptyDirectory();

    @FuzzTest(maxDuration = "5s")
    void anyTextParsesOrFailsWithItsLine(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.contains("include") && (text.contains("/") || text.contains("\\"))) {
            return; // includes stay inside the empty directory: no reading of the machine's files
        }
        String file = DIR.resolve("fuzz.conf").toString();
        int lines = (int) text.chars().filter(c -> c == '\n').count() + 1;
        try {
            check(ConfigParser.parse(text, file), file, lines);
        } catch (ConfigException e) {
            assertNotNull(e.getMessage());
            assertTrue(e.line() >= 0 && e.line() <= lines, "error at line " + e.line() + " of " + lines);
        }
    }

    private static void check(List<Directive> directives, String file, int lines) {
        for (Directive d : directives) {
            assertNotNull(d.name());
            assertTrue(file.equals(d.file()), "directive from " + d.file());
            assertTrue(d.line() >= 1 && d.line() <= lines, "directive at line " + d.line() + " of " + lines);
            for (String arg : d.args()) {
                assertTrue(Values.parseNumber(arg) >= -1, "number " + arg);
                assertTrue(Values.parseSize(arg) >= -1, "size " + arg);
                assertTrue(Values.parseOffset(arg) >= -1, "offset " + arg);
                assertTrue(Values.parseTimeMillis(arg) >= -1, "time " + arg);
                assertTrue(Values.parseTimeSeconds(arg) >= -1, "seconds " + arg);
            }
            if (d.isBlock()) {
                check(d.block(), file, lines);
            }
        }
    }

    private static Path emptyDirectory() {
        try {
            Path dir = Files.createTempDirectory("config-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
