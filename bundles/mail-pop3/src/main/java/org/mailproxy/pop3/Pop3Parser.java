package org.mailproxy.pop3;

import java.util.ArrayList;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;

/**
 * The POP3 command parser ({@code ngx_mail_pop3_parse_command}): a byte-at-a-time state machine
 * whose state survives between reads, so a command may arrive in any number of pieces.
 *
 * <p>Rules, as nginx's:
 * <ul>
 * <li>a command is four letters, any case: USER PASS APOP QUIT CAPA AUTH NOOP STLS; anything
 *     else, an empty line or a non-letter in the command word is an invalid command, skipped up
 *     to its LF;</li>
 * <li>arguments are separated by spaces, at most three; in USER and PASS a space belongs to the
 *     argument (user names and passwords with spaces);</li>
 * <li>a line ends with LF or CRLF; a CR followed by anything else makes the line invalid;</li>
 * <li>after AUTH the parser stays in the argument state: the next line (a SASL response) is
 *     read as arguments, not as a command;</li>
 * <li>a line longer than the buffer (nginx: 128 bytes, here {@code pop3_client_buffer}) is
 *     "too long": the parse ends as invalid and the session must close.</li>
 * </ul>
 *
 * <p>{@link #parse} consumes bytes from the buffer and stops right after the LF of a complete or
 * invalid line, so what follows (pipelined commands) stays in the buffer.
 */
final class Pop3Parser {

    /** What {@link #parse} found. */
    enum Result {
        /** The line is not complete; every byte was consumed. */
        AGAIN,
        /** A command (or a SASL response line) is complete: see {@link #command()} and {@link #args()}. */
        OK,
        /** An invalid line was skipped up to its LF, or the line is too long ({@link #tooLong()}). */
        INVALID
    }

    /** The commands the parser knows, as nginx's {@code NGX_POP3_*}. */
    enum Command { USER, PASS, CAPA, QUIT, NOOP, STLS, APOP, AUTH }

    private enum State { START, COMMAND, INVALID, SPACES_BEFORE_ARGUMENT, ARGUMENT, ALMOST_DONE }

    private static final int MAX_ARGS = 3;
    /** The line buffer starts this small (nginx's fixed size) and grows up to the limit when needed. */
    private static final int INITIAL_BUFFER = 128;

    private final int limit;
    private byte[] line;
    private int length;
    private State state = State.START;
    private Command command;
    private int argStart = -1;
    private final List<byte[]> args = new ArrayList<>(2);
    private boolean tooLong;

    /** @param bufferSize the longest line accepted, terminator included ({@code pop3_client_buffer}) */
    Pop3Parser(int bufferSize) {
        if (bufferSize < 1) {
            throw new IllegalArgumentException("buffer size " + bufferSize);
        }
        this.limit = bufferSize;
        this.line = new byte[Math.min(bufferSize, INITIAL_BUFFER)];
    }

    /** The command of the last complete line; in the argument state, the AUTH it continues. */
    Command command() {
        return command;
    }

    /** The arguments of the last complete line (raw bytes, without separators). */
    List<byte[]> args() {
        return args;
    }

    /** Whether the last {@link Result#INVALID} was a line longer than the buffer. */
    boolean tooLong() {
        return tooLong;
    }

    /** Whether the next line is read as a command (false: as arguments, after AUTH). */
    boolean expectsCommand() {
        return state == State.START;
    }

    /** The next line is a command (nginx: {@code s->state = 0}). */
    void expectCommand() {
        state = State.START;
    }

    /**
     * Reads bytes until a line is complete, invalid or the buffer runs out.
     *
     * @param in the client's bytes; consumed up to and including the LF that ends the line
     */
    Result parse(IoBuffer in) {
        if (length == 0) {
            beginLine();
        }
        while (in.hasRemaining()) {
            byte ch = in.get();
            if (length == line.length) {
                line = java.util.Arrays.copyOf(line, (int) Math.min(limit, 2L * line.length));
            }
            line[length++] = ch;
            Result result = step(ch);
            if (result != Result.AGAIN) {
                length = 0;
                return result;
            }
            if (length == limit) {
                tooLong = true;
                length = 0;
                state = State.START;
                return Result.INVALID;
            }
        }
        return Result.AGAIN;
    }

    private void beginLine() {
        args.clear();
        tooLong = false;
        argStart = state == State.ARGUMENT ? 0 : -1;
    }

    /** One byte, already stored at {@code line[length - 1]}. */
    private Result step(byte ch) {
        int p = length - 1;
        switch (state) {
        case START:
            state = State.COMMAND;
            return command(ch, p);
        case COMMAND:
            return command(ch, p);
        case INVALID:
            return invalid(ch);
        case SPACES_BEFORE_ARGUMENT:
            return spacesBeforeArgument(ch, p);
        case ARGUMENT:
            return argument(ch, p);
        case ALMOST_DONE:
            return ch == '\n' ? done() : invalid(ch);
        default:
            throw new IllegalStateException(state.toString());
        }
    }

    private Result command(byte ch, int p) {
        if (ch == ' ' || ch == '\r' || ch == '\n') {
            command = p == 4 ? lookup() : null;
            if (command == null) {
                return invalid(ch);
            }
            return afterWord(ch);
        }
        if ((ch < 'A' || ch > 'Z') && (ch < 'a' || ch > 'z')) {
            return invalid(ch);
        }
        return Result.AGAIN;
    }

    private Command lookup() {
        String word = new String(new char[] {upper(line[0]), upper(line[1]), upper(line[2]), upper(line[3])});
        switch (word) {
        case "USER": return Command.USER;
        case "PASS": return Command.PASS;
        case "APOP": return Command.APOP;
        case "QUIT": return Command.QUIT;
        case "CAPA": return Command.CAPA;
        case "AUTH": return Command.AUTH;
        case "NOOP": return Command.NOOP;
        case "STLS": return Command.STLS;
        default: return null;
        }
    }

    private static char upper(byte b) {
        return (char) (b >= 'a' && b <= 'z' ? b - ('a' - 'A') : b);
    }

    private Result spacesBeforeArgument(byte ch, int p) {
        switch (ch) {
        case ' ':
            return Result.AGAIN;
        case '\r':
            state = State.ALMOST_DONE;
            return Result.AGAIN;
        case '\n':
            return done();
        default:
            if (args.size() < MAX_ARGS) {
                state = State.ARGUMENT;
                argStart = p;
                return Result.AGAIN;
            }
            return invalid(ch);
        }
    }

    private Result argument(byte ch, int p) {
        if (ch == ' ' && (command == Command.USER || command == Command.PASS)) {
            return Result.AGAIN; // a space is part of a user name or password
        }
        if (ch == ' ' || ch == '\r' || ch == '\n') {
            byte[] arg = new byte[p - argStart];
            System.arraycopy(line, argStart, arg, 0, arg.length);
            args.add(arg);
            argStart = -1;
            return afterWord(ch);
        }
        return Result.AGAIN;
    }

    /** After the command word or an argument, by the byte that ended it. */
    private Result afterWord(byte ch) {
        switch (ch) {
        case ' ':
            state = State.SPACES_BEFORE_ARGUMENT;
            return Result.AGAIN;
        case '\r':
            state = State.ALMOST_DONE;
            return Result.AGAIN;
        default:
            return done();
        }
    }

    private Result done() {
        state = command != Command.AUTH ? State.START : State.ARGUMENT;
        return Result.OK;
    }

    /** Skips the rest of an invalid line, through its LF. */
    private Result invalid(byte ch) {
        if (ch == '\n') {
            state = State.START;
            return Result.INVALID;
        }
        state = State.INVALID;
        return Result.AGAIN;
    }
}
