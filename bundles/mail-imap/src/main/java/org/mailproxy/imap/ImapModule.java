package org.mailproxy.imap;

import java.util.ArrayList;
import java.util.List;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.config.Values;

/**
 * The directives of nginx's {@code ngx_mail_imap_module}, all allowed in {@code mail} and
 * {@code server} and inherited by servers:
 * <ul>
 * <li>{@code imap_auth method ...} ({@code plain}): {@code plain login cram-md5 external}, and
 *     Angie's {@code xoauth2 oauthbearer}; the methods advertised as {@code AUTH=...}. LOGIN,
 *     AUTHENTICATE PLAIN and AUTHENTICATE LOGIN are always allowed, as in nginx. Repeated
 *     occurrences add up, as nginx's bitmask does. A List of the method names;</li>
 * <li>{@code imap_capabilities extension ...} ({@code IMAP4 IMAP4rev1 UIDPLUS}): the CAPABILITY
 *     list before login; AUTH= methods and STARTTLS are appended. Repeated occurrences add up; a
 *     server's own list replaces the mail-level one. A List of words;</li>
 * <li>{@code imap_client_buffer size} (4k): the most bytes one command may take, literals
 *     included. nginx's default is the memory page size, 4k on the usual x86-64 and arm64 Linux
 *     (8k elsewhere); the JVM has no portable page size, so the default is a fixed 4096 bytes as
 *     for {@code proxy_buffer}. A Long;</li>
 * <li>{@code imap_id field value ... | off} (not in nginx): the answer to an ID command before login
 *     ({@code * ID ("field" "value" ...)}); without it the proxy answers {@code * ID NIL}; with
 *     {@code off} it answers {@code BAD invalid command} as nginx does. A List of strings, or
 *     {@code ["off"]}.</li>
 * </ul>
 */
final class ImapModule {

    /** The module name, as the core knows it ({@code OptionalModules}). */
    static final String NAME = "imap";

    /** The auth methods, in the order nginx and Angie list them after {@code AUTH=}. */
    enum AuthMethod {
        PLAIN("plain"), LOGIN("login"), CRAM_MD5("cram-md5"), EXTERNAL("external"), XOAUTH2("xoauth2"),
        OAUTHBEARER("oauthbearer");

        private final String word;

        AuthMethod(String word) {
            this.word = word;
        }

        /** The word in {@code imap_auth}. */
        String word() {
            return word;
        }

        /** The capability: {@code AUTH=CRAM-MD5}. */
        String capability() {
            return "AUTH=" + word.toUpperCase(java.util.Locale.ROOT);
        }

        static AuthMethod ofWord(String word) {
            for (AuthMethod m : values()) {
                if (m.word.equals(word)) {
                    return m;
                }
            }
            throw new IllegalArgumentException(word);
        }
    }

    static final List<String> DEFAULT_CAPABILITIES = List.of("IMAP4", "IMAP4rev1", "UIDPLUS");
    static final long DEFAULT_CLIENT_BUFFER = 4096;

    /** RFC 2971: field names of at most 30 octets, values of at most 1024, at most 30 pairs. */
    static final int MAX_ID_FIELD = 30;
    static final int MAX_ID_VALUE = 1024;
    static final int MAX_ID_PAIRS = 30;

    static final List<DirectiveSpec> DIRECTIVES = List.of(
            DirectiveSpec.builder("imap_auth").context(Context.MAIL, Context.SERVER).oneOrMore().accumulating()
                    .parser(Values.wordsOf(words())).defaultValue(List.of(AuthMethod.PLAIN.word())).build(),
            DirectiveSpec.builder("imap_capabilities").context(Context.MAIL, Context.SERVER).oneOrMore()
                    .accumulating().parser(Values.words()).defaultValue(DEFAULT_CAPABILITIES).build(),
            DirectiveSpec.builder("imap_client_buffer").context(Context.MAIL, Context.SERVER).size()
                    .defaultValue(DEFAULT_CLIENT_BUFFER).build(),
            DirectiveSpec.builder("imap_id").context(Context.MAIL, Context.SERVER).oneOrMore()
                    .parser(ImapModule::imapId).build());

    private ImapModule() {
    }

    private static String[] words() {
        AuthMethod[] all = AuthMethod.values();
        String[] words = new String[all.length];
        for (int i = 0; i < all.length; i++) {
            words[i] = all[i].word();
        }
        return words;
    }

    /** {@code imap_id off} or {@code imap_id field value [field value ...]}. */
    static List<String> imapId(Directive d) throws ConfigException {
        List<String> args = d.args();
        if (args.size() == 1 && args.get(0).equals("off")) {
            return List.of("off");
        }
        if (args.size() % 2 != 0) {
            throw d.invalid("needs field and value pairs, or \"off\"");
        }
        if (args.size() / 2 > MAX_ID_PAIRS) {
            throw d.invalid("has more than " + MAX_ID_PAIRS + " pairs");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String value = args.get(i);
            int max = i % 2 == 0 ? MAX_ID_FIELD : MAX_ID_VALUE;
            if (value.isEmpty() && i % 2 == 0 || value.length() > max) {
                throw d.error("invalid value \"" + value + "\" in \"imap_id\" directive, a field is 1 to "
                        + MAX_ID_FIELD + " characters and a value at most " + MAX_ID_VALUE);
            }
            for (int j = 0; j < value.length(); j++) {
                char c = value.charAt(j);
                if (c < 0x20 || c == 0x7f) {
                    throw d.error("invalid value \"" + value + "\" in \"imap_id\" directive");
                }
            }
            out.add(value);
        }
        return List.copyOf(out);
    }
}
