package org.mailproxy.resolver.internal;

import org.xbill.DNS.Name;

/**
 * The check nginx added for CVE-2026-28753 (nginx 1.29.7, "Mail: host validation"): a host name
 * found by the PTR lookup is used only if it consists of the characters RFC 1034 section 3.5
 * allows: letters, digits and hyphens, in labels separated by dots. Anything else (CR, LF, spaces,
 * {@code _}, {@code /}, {@code %}, {@code \}, bytes above 0x7f) makes the client's name
 * {@code [UNAVAILABLE]}, and the name goes no further: not to the forward lookup, not to
 * auth_http's {@code Client-Host}, not to XCLIENT {@code NAME=}.
 *
 * <p>The check is done on the label bytes of the DNS answer, not on a textual form, so an escaped
 * presentation ({@code \032}) cannot slip through. A dot inside a label (possible on the wire) is
 * refused too: such a name would not mean the same when written out.
 */
final class HostNames {

    private HostNames() {
    }

    /**
     * The host name of a PTR target, lower case and without the final dot, as nginx's
     * {@code ngx_resolver_copy()} makes it; null when a byte is not allowed or the name is the root.
     */
    static String validated(Name target) {
        StringBuilder out = new StringBuilder();
        int labels = target.labels();
        for (int i = 0; i < labels; i++) {
            byte[] label = target.getLabel(i);
            int length = label[0] & 0xff;
            if (length == 0) {
                break;
            }
            if (out.length() > 0) {
                out.append('.');
            }
            for (int j = 1; j <= length; j++) {
                int c = label[j] & 0xff;
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                    return null;
                }
                out.append((char) c);
            }
        }
        return out.length() == 0 ? null : out.toString();
    }

    /** A name for a log line: printable ASCII kept, every other byte as {@code \xNN}. */
    static String forLog(Name name) {
        StringBuilder out = new StringBuilder();
        int labels = name.labels();
        for (int i = 0; i < labels; i++) {
            byte[] label = name.getLabel(i);
            int length = label[0] & 0xff;
            if (length == 0) {
                break;
            }
            if (out.length() > 0) {
                out.append('.');
            }
            for (int j = 1; j <= length; j++) {
                int c = label[j] & 0xff;
                if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
                    out.append((char) c);
                } else {
                    out.append(String.format("\\x%02x", c));
                }
            }
        }
        return out.toString();
    }
}
