package org.mailproxy.imap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;

/**
 * The IMAP command parser before authentication (nginx: {@code ngx_mail_imap_parse_command}), a
 * resumable byte-at-a-time state machine: it consumes bytes from the buffer it is given and keeps
 * its state between calls, so a command may arrive in any number of pieces.
 *
 * <p>What it accepts, as nginx with its 2026 fixes:
 * <ul>
 * <li>a tag of 1 to 32 characters out of {@code A-Z a-z 0-9 - . _}, then one or more spaces;</li>
 * <li>the commands the proxy knows before login: CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN,
 *     AUTHENTICATE, and ID (which nginx does not know); any other command is invalid;</li>
 * <li>up to three arguments (ID: a parenthesised list of up to {@value #MAX_ID_ITEMS} strings, or
 *     an atom such as NIL), each an atom, a quoted string with backslash escapes, or a literal
 *     {@code {n}} (the caller answers {@code + OK} when {@link Result#LITERAL_CONTINUATION} comes) or
 *     {@code {n+}} (LITERAL+, no continuation);</li>
 * <li>after a literal or a quoted string only SP or CRLF (or the closing parenthesis of ID's list);</li>
 * <li>the line ends with CRLF or a bare LF.</li>
 * </ul>
 *
 * <p>Limits: a command (its line and its literals) may take {@code limit} bytes
 * ({@code imap_client_buffer}); one more is {@link Result#TOO_LONG}. A literal that cannot fit is
 * refused when its length is read, before any continuation is sent. After an invalid command the
 * rest of its line is skipped; when that line announced a non-synchronizing literal the
 * literal's bytes cannot be told from commands, so the result asks to close
 * ({@link #closeAfterInvalid()}), as nginx does.
 *
 * <p>After AUTHENTICATE the caller switches the parser with {@link #expectResponseLine()}: the
 * next line is a SASL response, returned whole as the single argument of a
 * {@link Command#RESPONSE}.
 */
final class ImapParser {

    /** What a call to {@link #parse} produced. */
    enum Result {
        /** All bytes consumed, the command is not complete. */
        AGAIN,
        /** A complete command: see {@link #tag()}, {@link #command()}, {@link #args()}. */
        COMMAND,
        /** A synchronizing literal was announced: send {@code + OK} and parse on. */
        LITERAL_CONTINUATION,
        /** An invalid command; its line is consumed. See {@link #tag()} and {@link #closeAfterInvalid()}. */
        INVALID,
        /** The command does not fit in the buffer (nginx: "client sent too long command"). */
        TOO_LONG
    }

    /** The commands known before login, and a SASL response line. */
    enum Command {
        CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE, ID, RESPONSE
    }

    /** The longest tag accepted, as nginx. */
    static final int MAX_TAG = 32;
    /** Arguments of a command other than ID (nginx: {@code s->args.nelts <= 2} before each). */
    static final int MAX_ARGS = 3;
    /** Strings in ID's list: 30 field/value pairs (RFC 2971). */
    static final int MAX_ID_ITEMS = 60;

    private enum State {
        START, TAG, SPACES_BEFORE_COMMAND, COMMAND, SPACES_BEFORE_ARGUMENT, ATOM, QUOTED, BACKSLASH,
        AFTER_QUOTED, LITERAL, LITERAL_NO_SYNC, LITERAL_CR, LITERAL_LF, LITERAL_DATA, AFTER_LITERAL,
        AFTER_LIST, ALMOST_DONE, SKIP, RESPONSE, RESPONSE_LF
    }

    private final int limit;

    private State state = State.START;
    /** Bytes of the current command so far, literals included. */
    private int count;
    private final ByteArray token = new ByteArray();
    private String tag;
    private Command command;
    private final List<byte[]> args = new ArrayList<>();
    private final BitSet atoms = new BitSet();
    private boolean list;
    private boolean listClosed;
    private long literalLength;
    private boolean literalDigits;
    private boolean nonSync;
    private boolean closeAfterInvalid;
    /** A command (or an invalid line) was returned: the next call starts afresh. */
    private boolean finished;
    /** The last two bytes of the current line, CR excluded: to spot a {@code +}} line end. */
    private int last1 = -1;
    private int last2 = -1;

    /** @param limit the most bytes a command may take ({@code imap_client_buffer}) */
    ImapParser(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive");
        }
        this.limit = limit;
    }

    /** The next line is a SASL response (after AUTHENTICATE and its continuation request). */
    void expectResponseLine() {
        reset();
        state = State.RESPONSE;
    }

    /** The tag of the command, null when the line has none (yet). */
    String tag() {
        return tag;
    }

    /** The command, after {@link Result#COMMAND}. */
    Command command() {
        return command;
    }

    /** The arguments, unescaped, after {@link Result#COMMAND}; a list for ID. */
    List<byte[]> args() {
        return args;
    }

    /** Whether argument {@code i} was an atom (not quoted, not a literal). */
    boolean isAtom(int i) {
        return atoms.get(i);
    }

    /** Whether ID's arguments came in a parenthesised list. */
    boolean isList() {
        return list;
    }

    /** After {@link Result#INVALID}: the line announced a non-synchronizing literal; close. */
    boolean closeAfterInvalid() {
        return closeAfterInvalid;
    }

    /**
     * Parses bytes from {@code in}, advancing its position, until a command is complete, a
     * continuation is due, a command is invalid, or the bytes run out.
     */
    Result parse(IoBuffer in) {
        if (finished) {
            reset();
        }
        while (in.hasRemaining()) {
            if (count == limit) {
                state = State.SKIP;
                return Result.TOO_LONG;
            }
            int ch = in.get() & 0xff;
            count++;
            Result result = step(ch);
            if (ch != '\r') {
                last2 = last1;
                last1 = ch;
            }
            if (result != null) {
                return result;
            }
        }
        return Result.AGAIN;
    }

    private Result step(int ch) {
        switch (state) {
            case START:
                tag = null;
                token.clear();
                state = State.TAG;
                // fall through
            case TAG:
                if (ch == ' ') {
                    if (token.length() == 0) {
                        return invalid(ch);
                    }
                    tag = token.ascii();
                    token.clear();
                    state = State.SPACES_BEFORE_COMMAND;
                    return null;
                }
                if (!isTagChar(ch) || token.length() == MAX_TAG) {
                    return invalid(ch);
                }
                token.add(ch);
                return null;

            case SPACES_BEFORE_COMMAND:
                if (ch == ' ') {
                    return null;
                }
                state = State.COMMAND;
                // fall through
            case COMMAND:
                if (ch == ' ' || ch == '\r' || ch == '\n') {
                    command = commandNamed(token);
                    token.clear();
                    if (command == null) {
                        return invalid(ch);
                    }
                    return endOfWord(ch);
                }
                if ((ch < 'A' || ch > 'Z') && (ch < 'a' || ch > 'z') || token.length() == 12) {
                    return invalid(ch);
                }
                token.add(ch);
                return null;

            case SPACES_BEFORE_ARGUMENT:
                switch (ch) {
                    case ' ':
                        return null;
                    case '\r':
                        state = State.ALMOST_DONE;
                        return null;
                    case '\n':
                        return done();
                    case '"':
                        if (!roomForArgument()) {
                            return invalid(ch);
                        }
                        token.clear();
                        state = State.QUOTED;
                        return null;
                    case '{':
                        if (!roomForArgument()) {
                            return invalid(ch);
                        }
                        literalLength = 0;
                        literalDigits = false;
                        nonSync = false;
                        state = State.LITERAL;
                        return null;
                    case '(':
                        if (command != Command.ID || list || !args.isEmpty()) {
                            return invalid(ch);
                        }
                        list = true;
                        return null;
                    case ')':
                        if (!list || listClosed) {
                            return invalid(ch);
                        }
                        return closeList();
                    default:
                        if (!roomForArgument() || ch < 0x20 || ch == 0x7f) {
                            return invalid(ch);
                        }
                        token.clear();
                        token.add(ch);
                        state = State.ATOM;
                        return null;
                }

            case ATOM:
                switch (ch) {
                    case ' ':
                        pushArgument(true);
                        state = State.SPACES_BEFORE_ARGUMENT;
                        return null;
                    case '\r':
                        pushArgument(true);
                        state = State.ALMOST_DONE;
                        return null;
                    case '\n':
                        pushArgument(true);
                        return done();
                    case ')':
                        if (list && !listClosed) {
                            pushArgument(true);
                            return closeList();
                        }
                        token.add(ch);
                        return null;
                    default:
                        if (ch < 0x20 || ch == 0x7f) {
                            return invalid(ch);
                        }
                        token.add(ch);
                        return null;
                }

            case QUOTED:
                switch (ch) {
                    case '"':
                        pushArgument(false);
                        state = State.AFTER_QUOTED;
                        return null;
                    case '\\':
                        state = State.BACKSLASH;
                        return null;
                    case '\r':
                    case '\n':
                        return invalid(ch);
                    default:
                        token.add(ch);
                        return null;
                }

            case BACKSLASH:
                if (ch == '\r' || ch == '\n') {
                    return invalid(ch);
                }
                token.add(ch);
                state = State.QUOTED;
                return null;

            case AFTER_QUOTED:
            case AFTER_LITERAL:
                if (ch == ')' && list && !listClosed) {
                    return closeList();
                }
                return endOfWord(ch);

            case AFTER_LIST:
                if (ch == ' ') {
                    return null;
                }
                if (ch == '\r') {
                    state = State.ALMOST_DONE;
                    return null;
                }
                if (ch == '\n') {
                    return done();
                }
                return invalid(ch);

            case LITERAL:
                if (ch >= '0' && ch <= '9') {
                    literalLength = literalLength * 10 + (ch - '0');
                    literalDigits = true;
                    if (literalLength > limit) {
                        return invalid(ch); // can never fit: refused before "+ OK", no overflow
                    }
                    return null;
                }
                if (!literalDigits) {
                    return invalid(ch);
                }
                if (ch == '}') {
                    return literalAnnounced(ch);
                }
                if (ch == '+') {
                    nonSync = true;
                    state = State.LITERAL_NO_SYNC;
                    return null;
                }
                return invalid(ch);

            case LITERAL_NO_SYNC:
                if (ch != '}') {
                    return invalid(ch);
                }
                return literalAnnounced(ch);

            case LITERAL_CR:
                if (ch == '\r') {
                    state = State.LITERAL_LF;
                    return null;
                }
                if (ch == '\n') {
                    return literalStarts();
                }
                return invalid(ch);

            case LITERAL_LF:
                if (ch != '\n') {
                    return invalid(ch);
                }
                return literalStarts();

            case LITERAL_DATA:
                token.add(ch);
                if (--literalLength == 0) {
                    pushArgument(false);
                    state = State.AFTER_LITERAL;
                }
                return null;

            case ALMOST_DONE:
                if (ch != '\n') {
                    return invalid(ch);
                }
                return done();

            case SKIP:
                if (ch == '\n') {
                    return skipped();
                }
                return null;

            case RESPONSE:
                if (ch == '\r') {
                    state = State.RESPONSE_LF;
                    return null;
                }
                if (ch == '\n') {
                    return response();
                }
                token.add(ch);
                return null;

            case RESPONSE_LF:
                if (ch != '\n') {
                    return invalid(ch);
                }
                return response();

            default:
                throw new IllegalStateException(state.toString());
        }
    }

    /** After a command name, an atom, a quoted string or a literal: SP, CR or LF. */
    private Result endOfWord(int ch) {
        switch (ch) {
            case ' ':
                state = State.SPACES_BEFORE_ARGUMENT;
                return null;
            case '\r':
                state = State.ALMOST_DONE;
                return null;
            case '\n':
                return done();
            default:
                return invalid(ch);
        }
    }

    private boolean roomForArgument() {
        if (list) {
            return !listClosed && args.size() < MAX_ID_ITEMS;
        }
        return args.size() < MAX_ARGS;
    }

    private Result closeList() {
        listClosed = true;
        state = State.AFTER_LIST;
        return null;
    }

    private void pushArgument(boolean atom) {
        if (atom) {
            atoms.set(args.size());
        }
        args.add(token.toArray());
        token.clear();
    }

    private Result literalAnnounced(int ch) {
        // the CRLF to come and the literal itself must fit in the command buffer too
        if (count + 2 + literalLength > limit) {
            return invalid(ch);
        }
        state = State.LITERAL_CR;
        return null;
    }

    private Result literalStarts() {
        token.clear();
        if (literalLength == 0) {
            pushArgument(false);
            state = State.AFTER_LITERAL;
        } else {
            state = State.LITERAL_DATA;
        }
        return nonSync ? null : Result.LITERAL_CONTINUATION;
    }

    private Result done() {
        if (list && !listClosed) {
            return invalidAtLineEnd();
        }
        finished = true;
        return Result.COMMAND;
    }

    private Result response() {
        command = Command.RESPONSE;
        args.add(token.toArray());
        token.clear();
        finished = true;
        return Result.COMMAND;
    }

    private Result invalid(int ch) {
        if (ch == '\n') {
            return invalidAtLineEnd();
        }
        state = State.SKIP;
        return null;
    }

    private Result invalidAtLineEnd() {
        return skipped();
    }

    /** The LF of an invalid line: report it, and whether it announced a non-synchronizing literal. */
    private Result skipped() {
        closeAfterInvalid = last1 == '}' && last2 == '+';
        finished = true;
        return Result.INVALID;
    }

    private void reset() {
        finished = false;
        state = State.START;
        count = 0;
        token.clear();
        tag = null;
        command = null;
        args.clear();
        atoms.clear();
        list = false;
        listClosed = false;
        literalLength = 0;
        literalDigits = false;
        nonSync = false;
        closeAfterInvalid = false;
        last1 = -1;
        last2 = -1;
    }

    private static boolean isTagChar(int ch) {
        return ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9'
                || ch == '-' || ch == '.' || ch == '_';
    }

    private static Command commandNamed(ByteArray name) {
        String word = name.ascii();
        for (Command c : Command.values()) {
            if (c != Command.RESPONSE && c.name().equalsIgnoreCase(word)) {
                return c;
            }
        }
        return null;
    }

    /** A growable byte array; the parser's token buffer. */
    static final class ByteArray {
        private byte[] bytes = new byte[64];
        private int length;

        void add(int b) {
            if (length == bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, bytes.length * 2);
            }
            bytes[length++] = (byte) b;
        }

        int length() {
            return length;
        }

        void clear() {
            length = 0;
        }

        byte[] toArray() {
            return java.util.Arrays.copyOf(bytes, length);
        }

        String ascii() {
            return new String(bytes, 0, length, StandardCharsets.US_ASCII);
        }
    }
}
