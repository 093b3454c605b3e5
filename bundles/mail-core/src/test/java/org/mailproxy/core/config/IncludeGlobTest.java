package org.mailproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** One path component of an {@code include} glob as a regex, as glob(3) reads it. */
class IncludeGlobTest {

    private static boolean matches(String glob, String name) {
        return IncludeGlob.regex(glob).matcher(name).matches();
    }

    @Test
    void wildcardsAndClasses() {
        assertTrue(matches("*.conf", "imap.conf"));
        assertFalse(matches("*.conf", "imap.conf~"));
        assertTrue(matches("?.conf", "a.conf"));
        assertTrue(matches("[a-c].conf", "b.conf"));
        assertFalse(matches("[a-c].conf", "d.conf"));
        assertTrue(matches("[!a].conf", "b.conf"));
        assertFalse(matches("[!a].conf", "a.conf"));
        assertTrue(matches("[]x]", "]"), "a ] first in a class is a member");
        assertTrue(matches("[a-]", "-"), "a - last in a class is a member");
        assertTrue(matches("[.^$\\\\]", "\\"));
        assertTrue(matches("[.^$\\\\]", "^"));
        assertTrue(matches("[\u00e9]", "\u00e9"));
        assertTrue(matches("a[", "a["), "an unclosed [ is itself");
    }

    @Test
    void aReversedRangeMatchesNothingInsteadOfFailing() {
        // found by ConfigParserFuzzTest: "[]t2\uFFFD-3]" made an invalid regex (illegal range)
        assertFalse(matches("[z-a]", "m"));
        assertFalse(matches("[z-a]", "z"));
        assertTrue(matches("[z-ab]", "b"));
        assertTrue(matches("[!z-a]", "m"), "a negated empty class is any character");
        assertTrue(matches("[]t2\uFFFD-3]x", "tx"));
        assertFalse(matches("[]t2\uFFFD-3]x", "\uFFFDx"));
        Pattern.compile(IncludeGlob.regex("*.auth[]t2\uFFFD-3\uFFFD]").pattern());
    }
}
