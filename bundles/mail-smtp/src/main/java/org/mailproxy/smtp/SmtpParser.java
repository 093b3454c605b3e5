package org.mailproxy.smtp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;

/**
 * The SMTP command parser ({@code ngx_mail_smtp_parse_command}): a byte-at-a-time state machine
 * whose state survives between reads, so a command may arrive in any number of pieces.
 *
 * <p>Rules, as nginx's:
 * <ul>
 * <li>a command is a word of letters, any case: HELO EHLO QUIT AUTH NOOP MAIL RSET RCPT VRFY EXPN
 *     HELP STARTTLS; anything else, an empty line or a non-letter in the command word is an
 *     invalid command, skipped up to its LF;</li>
 * <li>arguments are separated by one or more spaces; an eleventh-plus argument makes the line
 *     invalid (nginx: {@code s->args.nelts <= 10});</li>
 * <li>a line ends with LF or CRLF; a CR followed by anything else makes the line invalid;</li>
 * <li>after AUTH the parser stays in the argument state: the next line (a SASL response) is
 *     read as arguments, not as a command, until the handler calls {@link #expectCommand()};</li>
 * <li>a line longer than {@code smtp_client_buffer} is "too long": the parse ends as invalid
 *     and the session must close.</li>
 * </ul>
 *
 * <p>{@link #parse} consumes bytes from the buffer and stops right after the LF of a complete or
 * invalid line, so what follows (pipelined commands) stays in the buffer.
 */
final class SmtpParser {

    /** What {@link #parse} found. */
    enum Result {
        /** The line is not complete; every byte was consumed. */
        AGAIN,
        /** A command (or a SASL response line) is complete: see {@link #command()} and {@link #args()}. */
        OK,
        /** An invalid line was skipped up to its LF, or the line is too long ({@link #tooLong()}). */
        INVALID
    }

    /** The commands the parser knows, as nginx's {@code NGX_SMTP_*}. */
    enum Command { HELO, EHLO, AUTH, QUIT, NOOP, MAIL, RSET, RCPT, VRFY, EXPN, HELP, STARTTLS }

    private enum State { START, COMMAND, INVALID, SPACES_BEFORE_ARGUMENT, ARGUMENT, ALMOST_DONE }

    /** nginx accepts a new argument while it has at most 10: 11 arguments in all. */
    private static final int MAX_ARGS = 11;

    private final byte[] line;
    private int length;
    private State state = State.START;
    private Command command;
    private int argStart = -1;
    private int argsEnd;
    private final List<byte[]> args = new ArrayList<>(2);
    private boolean tooLong;
    private int lineLength;

    /** @param bufferSize the longest line accepted, terminator included ({@code smtp_client_buffer}) */
    SmtpParser(int bufferSize) {
        if (bufferSize < 1) {
            throw new IllegalArgumentException("buffer size " + bufferSize);
        }
        this.line = new byte[bufferSize];
    }

    /** The command of the last complete line; in the argument state, the AUTH it continues. */
    Command command() {
        return command;
    }

    /** The arguments of the last complete line (raw bytes, without separators). */
    List<byte[]> args() {
        return args;
    }

    /**
     * The last complete command from its first byte to the end of its last argument, spaces
     * inside kept as sent (nginx's {@code cmd} for MAIL FROM and RCPT TO, replayed to the
     * backend and sent to the auth server), its bytes one char per byte (ISO-8859-1).
     */
    String commandText() {
        return new String(line, 0, argsEnd, StandardCharsets.ISO_8859_1);
    }

    /**
     * The last line as nginx logs a rejected one: CR and LF turned into {@code _}
     * ({@code ngx_mail_smtp_log_rejected_command}).
     */
    String loggable() {
        byte[] copy = Arrays.copyOf(line, lineLength);
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] == '\r' || copy[i] == '\n') {
                copy[i] = '_';
            }
        }
        return new String(copy, StandardCharsets.UTF_8);
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
        if (length == 0) {
            state = State.START;
        }
    }

    /** The next line is a SASL response, read as arguments (after an Auth-Error-SASL challenge). */
    void expectResponse() {
        if (length == 0) {
            state = State.ARGUMENT;
        }
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
            line[length++] = ch;
            Result result = step(ch);
            if (result != Result.AGAIN) {
                lineLength = length;
                length = 0;
                return result;
            }
            if (length == line.length) {
                tooLong = true;
                lineLength = length;
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
        argsEnd = 0;
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
            command = lookup(p);
            if (command == null) {
                return invalid(ch);
            }
            argsEnd = p;
            return afterWord(ch);
        }
        if ((ch < 'A' || ch > 'Z') && (ch < 'a' || ch > 'z')) {
            return invalid(ch);
        }
        return Result.AGAIN;
    }

    private Command lookup(int len) {
        if (len == 4) {
            switch (new String(new char[] {upper(line[0]), upper(line[1]), upper(line[2]), upper(line[3])})) {
            case "HELO": return Command.HELO;
            case "EHLO": return Command.EHLO;
            case "QUIT": return Command.QUIT;
            case "AUTH": return Command.AUTH;
            case "NOOP": return Command.NOOP;
            case "MAIL": return Command.MAIL;
            case "RSET": return Command.RSET;
            case "RCPT": return Command.RCPT;
            case "VRFY": return Command.VRFY;
            case "EXPN": return Command.EXPN;
            case "HELP": return Command.HELP;
            default: return null;
            }
        }
        if (len == 8) {
            String word = "STARTTLS";
            for (int i = 0; i < 8; i++) {
                if (upper(line[i]) != word.charAt(i)) {
                    return null;
                }
            }
            return Command.STARTTLS;
        }
        return null;
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
        if (ch == ' ' || ch == '\r' || ch == '\n') {
            args.add(Arrays.copyOfRange(line, argStart, p));
            argStart = -1;
            argsEnd = p;
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
