package org.mailproxy.core.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code glob(3)} that nginx's {@code include} uses: {@code * ? [...]} in any path component,
 * {@code [!...]} negation, backslash escapes, names starting with a dot matched only by a literal
 * dot, and the matches sorted.
 */
final class IncludeGlob {

    private IncludeGlob() {
    }

    /** nginx's test: {@code strpbrk(name, "*?[")}. */
    static boolean isGlob(String name) {
        return name.indexOf('*') >= 0 || name.indexOf('?') >= 0 || name.indexOf('[') >= 0;
    }

    /** The existing paths matching the pattern, sorted; empty when nothing matches. */
    static List<Path> expand(Path pattern) {
        List<Path> out = new ArrayList<>();
        Path root = pattern.getRoot();
        List<String> parts = new ArrayList<>();
        for (Path part : pattern) {
            parts.add(part.toString());
        }
        walk(root, parts, 0, out);
        out.sort(Comparator.comparing(Path::toString));
        return out;
    }

    private static void walk(Path dir, List<String> parts, int i, List<Path> out) {
        if (i == parts.size()) {
            if (dir != null && Files.exists(dir)) {
                out.add(dir);
            }
            return;
        }
        String part = parts.get(i);
        if (!isGlob(part)) {
            walk(dir == null ? Path.of(part) : dir.resolve(part), parts, i + 1, out);
            return;
        }
        Path base = dir == null ? Path.of("") : dir;
        if (!Files.isDirectory(base)) {
            return;
        }
        Pattern regex = regex(part);
        boolean dotLiteral = part.startsWith(".");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(base)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(".") && !dotLiteral) {
                    continue;
                }
                if (regex.matcher(name).matches()) {
                    walk(dir == null ? Path.of(name) : dir.resolve(name), parts, i + 1, out);
                }
            }
        } catch (IOException e) {
            /* an unreadable directory matches nothing, as glob(3) without GLOB_ERR */
        }
    }

    /** One path component of a glob as a regular expression. */
    static Pattern regex(String glob) {
        StringBuilder re = new StringBuilder();
        int i = 0;
        while (i < glob.length()) {
            char c = glob.charAt(i);
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else if (c == '\\' && i + 1 < glob.length()) {
                re.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
            } else if (c == '[') {
                int end = classEnd(glob, i);
                if (end < 0) {
                    re.append(Pattern.quote("["));
                } else {
                    re.append(charClass(glob.substring(i + 1, end)));
                    i = end;
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
            i++;
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    /** The index of the {@code ]} closing a class opened at {@code open}, or -1. */
    private static int classEnd(String glob, int open) {
        int j = open + 1;
        if (j < glob.length() && glob.charAt(j) == '!') {
            j++;
        }
        if (j < glob.length() && glob.charAt(j) == ']') {
            j++;
        }
        int end = glob.indexOf(']', j);
        return end;
    }

    /**
     * A glob bracket expression as a regex class. A range whose end comes before its start
     * matches nothing (glibc's fnmatch); a class left with no member matches nothing, or any one
     * character when negated. Every member but an ASCII letter or digit is written as
     * {@code \x{hex}}, so no text of the file can make the expression invalid.
     */
    private static String charClass(String body) {
        boolean negated = body.startsWith("!");
        StringBuilder members = new StringBuilder();
        for (int k = negated ? 1 : 0; k < body.length(); k++) {
            char c = body.charAt(k);
            if (k + 2 < body.length() && body.charAt(k + 1) == '-') { // a '-' first or last is itself
                char end = body.charAt(k + 2);
                if (c <= end) {
                    members.append(member(c)).append('-').append(member(end));
                }
                k += 2;
            } else {
                members.append(member(c));
            }
        }
        if (members.length() == 0) {
            return negated ? "." : "(?!)";
        }
        return (negated ? "[^" : "[") + members + "]";
    }

    private static String member(char c) {
        boolean plain = c < 128 && Character.isLetterOrDigit(c);
        return plain ? String.valueOf(c) : "\\x{" + Integer.toHexString(c) + "}";
    }
}
