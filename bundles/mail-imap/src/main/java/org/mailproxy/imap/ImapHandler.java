package org.mailproxy.imap;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.filter.ssl.SslFilter;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.Authenticator;
import org.mailproxy.core.spi.ProtocolHandler;
import org.mailproxy.imap.ImapModule.AuthMethod;
import org.mailproxy.imap.ImapParser.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One IMAP client before login (nginx: {@code ngx_mail_imap_auth_state} and its helpers in
 * {@code ngx_mail_imap_handler.c}): greeting, CAPABILITY, NOOP, LOGOUT, STARTTLS, ID, LOGIN and
 * AUTHENTICATE with their SASL exchanges, then the auth server, then the backend.
 *
 * <p>Replies are nginx's, byte for byte. Where nginx is silent or wrong this class says so:
 * ID is answered ({@code * ID NIL}; nginx answers {@code BAD}), a BAD after an invalid AUTH LOGIN
 * user name carries the tag (nginx forgets it), and an Auth-Error-SASL challenge is answered as
 * Angie's tests expect.
 *
 * <p>Protocol errors counted for {@code max_errors} are the parser's (unknown commands, bad
 * syntax), as nginx counts them in {@code ngx_mail_read_command}; a known command with wrong
 * arguments gets {@code BAD} without counting.
 */
final class ImapHandler implements ProtocolHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ImapHandler.class);

    static final byte[] GREETING = ImapSettings.ascii("* OK IMAP4 ready\r\n");
    static final byte[] INTERNAL_ERROR = ImapSettings.ascii("* BAD internal server error\r\n");
    private static final String OK = "OK completed\r\n";
    private static final String INVALID = "BAD invalid command\r\n";
    private static final byte[] NEXT = ImapSettings.ascii("+ OK\r\n");
    private static final byte[] PLAIN_NEXT = ImapSettings.ascii("+ \r\n");
    private static final byte[] USERNAME = ImapSettings.ascii("+ VXNlcm5hbWU6\r\n");
    private static final byte[] PASSWORD = ImapSettings.ascii("+ UGFzc3dvcmQ6\r\n");
    private static final byte[] BYE = ImapSettings.ascii("* BYE\r\n");

    /** nginx's {@code ngx_imap_state_e}, plus the SASL error exchange and the wait for answers. */
    private enum State {
        START, AUTH_LOGIN_USERNAME, AUTH_LOGIN_PASSWORD, AUTH_PLAIN, AUTH_CRAM_MD5, AUTH_EXTERNAL,
        AUTH_XOAUTH2, AUTH_OAUTHBEARER, AUTH_SASL_ERROR, AUTHENTICATING, WAITING, BACKEND
    }

    private final MailSession session;
    private final ImapProtocol protocol;
    private final ServerConfig config;
    private final ImapSettings settings;
    private final ImapParser parser;

    private State state = State.START;
    /** The tag of the command being answered; null for an untagged (invalid) line. */
    private String tag;
    private String method;
    private byte[] login;
    private byte[] password;
    private String salt;
    private int loginAttempt;
    private AuthResult.Failure saslFailure;
    private boolean saslRetry;
    private ScheduledFuture<?> delayed;
    private CompletableFuture<AuthResult> pending;
    private boolean closed;

    ImapHandler(MailSession session, ImapProtocol protocol, ServerConfig config, ImapSettings settings) {
        this.session = session;
        this.protocol = protocol;
        this.config = config;
        this.settings = settings;
        this.parser = new ImapParser(settings.clientBuffer());
    }

    @Override
    public void onStart() {
        session.write(GREETING);
    }

    @Override
    public void onData(IoBuffer data) {
        while (data.hasRemaining() && !busy() && !session.isClosing()) {
            switch (parser.parse(data)) {
                case AGAIN:
                    return;
                case LITERAL_CONTINUATION:
                    session.write(NEXT);
                    break;
                case TOO_LONG:
                    LOG.info("*{} client sent too long command", session.id());
                    reply(parser.tag(), INVALID);
                    session.closeAfterWrite();
                    return;
                case INVALID:
                    invalidLine();
                    break;
                case COMMAND:
                    command();
                    break;
                default:
                    throw new IllegalStateException();
            }
        }
    }

    private boolean busy() {
        return state == State.AUTHENTICATING || state == State.WAITING || state == State.BACKEND;
    }

    @Override
    public void onClose() {
        closed = true;
        if (delayed != null) {
            delayed.cancel(false);
        }
        if (pending != null) {
            pending.cancel(false); // the authenticator drops its request to the auth server
        }
        clearCredentials();
    }

    // ---------------------------------------------------------------- commands

    /** A line the parser refused: counts for max_errors. */
    private void invalidLine() {
        String lineTag = state == State.START ? parser.tag() : tag;
        boolean close = !session.protocolError() || parser.closeAfterInvalid();
        endSaslExchange();
        reply(lineTag, INVALID);
        if (close) {
            session.closeAfterWrite();
        }
    }

    private void command() {
        Command command = parser.command();
        if (command != Command.RESPONSE) {
            tag = parser.tag();
        }
        if (!session.commandReceived()) {
            reply(tag, INVALID); // the session closes after it
            return;
        }
        if (command == Command.RESPONSE) {
            response(parser.args().get(0));
            return;
        }
        switch (command) {
            case CAPABILITY:
                session.write(settings.capability(isTls()));
                reply(tag, OK);
                break;
            case NOOP:
                reply(tag, OK);
                break;
            case LOGOUT:
                session.write(BYE);
                reply(tag, OK);
                session.closeAfterWrite();
                break;
            case STARTTLS:
                startTls();
                break;
            case LOGIN:
                login(parser.args());
                break;
            case AUTHENTICATE:
                authenticate(parser.args());
                break;
            case ID:
                id();
                break;
            default:
                reply(tag, INVALID);
        }
    }

    /**
     * STARTTLS ({@code ngx_mail_imap_starttls}): with {@code starttls on|only} and not TLS yet, the
     * tagged OK goes out in clear, whatever the client pipelined after the command is discarded
     * (CVE-2014-3556) and the core starts TLS; otherwise an invalid command, as in nginx.
     */
    private void startTls() {
        if (settings.startTls() == ImapSettings.StartTls.OFF || isTls() || !session.canStartTls()) {
            reply(tag, INVALID);
            return;
        }
        session.startTls(ImapSettings.ascii((tag == null ? "*" : tag) + " " + OK));
    }

    private void login(List<byte[]> args) {
        if (starttlsOnly()) {
            reply(tag, INVALID);
            return;
        }
        if (args.size() != 2 || args.get(0).length == 0) {
            reply(tag, INVALID);
            return;
        }
        login = args.get(0);
        password = args.get(1);
        LOG.debug("*{} imap login:\"{}\"", session.id(), text(login));
        auth("plain");
    }

    private void authenticate(List<byte[]> args) {
        if (starttlsOnly() || args.isEmpty()) {
            reply(tag, INVALID);
            return;
        }
        String mechanism = new String(args.get(0), StandardCharsets.US_ASCII).toUpperCase(Locale.ROOT);
        int n = args.size();
        try {
            switch (mechanism) {
                case "LOGIN":
                    if (n == 1) {
                        challenge(USERNAME, State.AUTH_LOGIN_USERNAME);
                    } else if (n == 2) {
                        login = Sasl.login(args.get(1));
                        challenge(PASSWORD, State.AUTH_LOGIN_PASSWORD);
                    } else {
                        reply(tag, INVALID);
                    }
                    return;
                case "PLAIN":
                    if (n == 1) {
                        challenge(PLAIN_NEXT, State.AUTH_PLAIN);
                    } else if (n == 2) {
                        plain(args.get(1));
                    } else {
                        reply(tag, INVALID);
                    }
                    return;
                case "CRAM-MD5":
                    if (!settings.enabled(AuthMethod.CRAM_MD5) || n != 1) {
                        reply(tag, INVALID);
                        return;
                    }
                    if (salt == null) {
                        salt = Sasl.salt(settings.serverName());
                    }
                    challenge(ImapSettings.ascii(Sasl.cramMd5Challenge("+ ", salt)), State.AUTH_CRAM_MD5);
                    return;
                case "EXTERNAL":
                    if (!settings.enabled(AuthMethod.EXTERNAL) || n > 2) {
                        reply(tag, INVALID);
                    } else if (n == 2) {
                        external(args.get(1));
                    } else {
                        challenge(USERNAME, State.AUTH_EXTERNAL);
                    }
                    return;
                case "XOAUTH2":
                case "OAUTHBEARER":
                    boolean xoauth2 = mechanism.equals("XOAUTH2");
                    if (!settings.enabled(xoauth2 ? AuthMethod.XOAUTH2 : AuthMethod.OAUTHBEARER) || n > 2) {
                        reply(tag, INVALID);
                    } else if (n == 2) {
                        oauth(xoauth2, args.get(1));
                    } else {
                        challenge(PLAIN_NEXT, xoauth2 ? State.AUTH_XOAUTH2 : State.AUTH_OAUTHBEARER);
                    }
                    return;
                default:
                    reply(tag, INVALID);
            }
        } catch (Sasl.Invalid e) {
            saslInvalid(e);
        }
    }

    /** Sends a continuation request; the next line is the client's SASL response. */
    private void challenge(byte[] line, State next) {
        session.write(line);
        state = next;
        parser.expectResponseLine();
    }

    /** A line in a SASL exchange. */
    private void response(byte[] line) {
        State current = state;
        state = State.START;
        if (current == State.AUTH_SASL_ERROR) {
            saslErrorResponse(line);
            return;
        }
        if (line.length == 1 && line[0] == '*') {
            // RFC 3501 6.2.2: the client cancels; the command is rejected with a tagged BAD
            LOG.debug("*{} client cancelled authentication", session.id());
            reply(tag, INVALID);
            return;
        }
        try {
            switch (current) {
                case AUTH_LOGIN_USERNAME:
                    login = Sasl.login(line);
                    challenge(PASSWORD, State.AUTH_LOGIN_PASSWORD);
                    break;
                case AUTH_LOGIN_PASSWORD:
                    password = Sasl.login(line);
                    auth("plain");
                    break;
                case AUTH_PLAIN:
                    plain(line);
                    break;
                case AUTH_CRAM_MD5:
                    Sasl.Credentials cram = Sasl.cramMd5(line);
                    login = cram.login();
                    password = cram.password();
                    auth("cram-md5");
                    break;
                case AUTH_EXTERNAL:
                    external(line);
                    break;
                case AUTH_XOAUTH2:
                case AUTH_OAUTHBEARER:
                    oauth(current == State.AUTH_XOAUTH2, line);
                    break;
                default:
                    reply(tag, INVALID);
            }
        } catch (Sasl.Invalid e) {
            saslInvalid(e);
        }
    }

    private void plain(byte[] argument) throws Sasl.Invalid {
        Sasl.Credentials plain = Sasl.plain(argument);
        login = plain.login();
        password = plain.password();
        auth("plain");
    }

    private void external(byte[] argument) throws Sasl.Invalid {
        login = Sasl.external(argument);
        password = new byte[0];
        auth("external");
    }

    private void oauth(boolean xoauth2, byte[] argument) throws Sasl.Invalid {
        Sasl.Credentials credentials = xoauth2 ? Sasl.xoauth2(argument) : Sasl.oauthbearer(argument);
        login = credentials.login();
        password = credentials.password();
        auth(xoauth2 ? "xoauth2" : "oauthbearer");
    }

    private void saslInvalid(Sasl.Invalid e) {
        LOG.info("*{} {}", session.id(), e.getMessage());
        endSaslExchange();
        reply(tag, INVALID);
    }

    /**
     * The SASL exchange is over (an invalid line, a cancel): back to commands. The parser starts
     * afresh after every line it returns, so it needs nothing.
     */
    private void endSaslExchange() {
        if (state != State.START) {
            state = State.START;
            clearCredentials();
        }
    }

    /** ID before login: answered here (nginx answers BAD), with {@code imap_id} or NIL. */
    private void id() {
        byte[] answer = settings.idReply();
        if (answer == null) {
            session.protocolError(); // imap_id off: as nginx, for which ID is an unknown command
            reply(tag, INVALID);
            return;
        }
        List<byte[]> args = parser.args();
        boolean valid;
        if (parser.isList()) {
            valid = args.size() % 2 == 0;
            for (int i = 0; valid && i < args.size(); i += 2) {
                valid = !parser.isAtom(i);
            }
        } else {
            valid = args.size() == 1 && parser.isAtom(0) && text(args.get(0)).equalsIgnoreCase("NIL");
        }
        if (!valid) {
            reply(tag, INVALID);
            return;
        }
        if (LOG.isDebugEnabled()) {
            StringBuilder id = new StringBuilder();
            for (byte[] arg : args) {
                id.append(id.length() == 0 ? "" : " ").append('"').append(text(arg)).append('"');
            }
            LOG.debug("*{} client ID ({})", session.id(), id);
        }
        session.write(answer);
        reply(tag, OK);
    }

    // ---------------------------------------------------------------- authentication

    private boolean starttlsOnly() {
        return settings.startTls() == ImapSettings.StartTls.ONLY && !isTls();
    }

    private boolean isTls() {
        return session.listen().ssl() || session.ioSession().getFilterChain().contains(SslFilter.class);
    }

    /** nginx's {@code ngx_mail_auth}: asks the auth server, reading nothing meanwhile. */
    private void auth(String authMethod) {
        method = authMethod;
        state = State.AUTHENTICATING;
        session.suspendReading();
        session.authenticating(text(login)); // console, JMX, session log: the login name, never the password
        loginAttempt++;
        AuthRequest request = new AuthRequest(authMethod, bytesAsText(login), bytesAsText(password),
                authMethod.equals("cram-md5") ? salt : null, "imap", loginAttempt, session.clientAddress(), null,
                session.proxyProtocol(), null).withTls(session.tlsInfo())
                .withSession(session.id(), session.localAddress());
        Authenticator authenticator = protocol.authenticator();
        if (authenticator == null) {
            LOG.error("*{} no authenticator (auth_http) is available", session.id());
            internalError();
            return;
        }
        CompletableFuture<AuthResult> stage = authenticator.authenticate(request, config).toCompletableFuture();
        pending = stage;
        stage.whenComplete((result, failure) -> session.execute(() -> {
            if (pending == stage) {
                pending = null;
            }
            AuthResult answer = result;
            if (answer == null) {
                answer = new AuthResult.TemporaryError(String.valueOf(failure));
            }
            authenticated(answer);
        }));
    }

    private void authenticated(AuthResult result) {
        if (closed || state != State.AUTHENTICATING) {
            return;
        }
        if (result instanceof AuthResult.Ok ok) {
            backend(ok);
        } else if (result instanceof AuthResult.Failure failure) {
            failed(failure);
        } else {
            AuthResult.TemporaryError error = (AuthResult.TemporaryError) result;
            LOG.debug("*{} authentication failed: {}", session.id(), error.reason());
            session.authTemporaryError(error);
            internalError();
        }
    }

    private void backend(AuthResult.Ok ok) {
        byte[] user = ok.user() != null ? bytes(ok.user()) : login;
        byte[] pass = ok.password() != null ? bytes(ok.password()) : plaintext() ? password : null;
        clearCredentials();
        if (pass == null) {
            LOG.error("*{} auth server did not send password", session.id());
            internalError();
            return;
        }
        state = State.BACKEND;
        session.connectBackend(ok.backend(), ok.backendTls(), new ImapBackendLogin(session, tag, user, pass,
                settings.passErrorMessage(), session.server().limits().proxyBuffer()));
    }

    /** Whether the client gave a password the backend accepts (nginx: {@code s->passwd} is set). */
    private boolean plaintext() {
        return method.equals("plain");
    }

    /**
     * A refused login: after Auth-Wait the error, and the client may try again; without it the
     * error and close. For XOAUTH2 and OAUTHBEARER an Auth-Error-SASL challenge goes first.
     */
    private void failed(AuthResult.Failure failure) {
        clearCredentials();
        Duration wait = failure.retryAfter();
        boolean retry = wait != null && !wait.isNegative() && !wait.isZero();
        state = State.WAITING;
        Runnable answer = () -> {
            if (closed || state != State.WAITING) {
                return;
            }
            delayed = null;
            boolean oauth = method.equals("xoauth2") || method.equals("oauthbearer");
            if (oauth && failure.saslError() != null && !failure.saslError().isEmpty()) {
                saslFailure = failure;
                saslRetry = retry;
                session.write("+ " + oneLine(failure.saslError()) + "\r\n");
                state = State.AUTH_SASL_ERROR;
                parser.expectResponseLine();
                session.resumeReading();
                return;
            }
            refuse(failure, retry);
        };
        if (retry) {
            delayed = session.schedule(wait, answer);
        } else {
            answer.run();
        }
    }

    /** The client answered the Auth-Error-SASL challenge. */
    private void saslErrorResponse(byte[] line) {
        AuthResult.Failure failure = saslFailure;
        saslFailure = null;
        if (Sasl.isErrorAcknowledgement(line)) {
            refuse(failure, saslRetry);
            return;
        }
        reply(tag, INVALID);
        if (!saslRetry) {
            session.closeAfterWrite();
        }
    }

    private void refuse(AuthResult.Failure failure, boolean retry) {
        reply(tag, "NO " + oneLine(failure.message()) + "\r\n");
        if (!retry) {
            session.closeAfterWrite();
            return;
        }
        state = State.START;
        session.resumeReading();
    }

    private void internalError() {
        state = State.START;
        session.write(INTERNAL_ERROR);
        session.closeAfterWrite();
    }

    private void clearCredentials() {
        login = null;
        password = null;
    }

    // ---------------------------------------------------------------- replies

    /** {@code <tag> <text>}, or {@code * <text>} without a tag, as nginx's tagged line. */
    private void reply(String lineTag, String text) {
        session.write((lineTag == null ? "*" : lineTag) + " " + text);
    }

    /** Text for logs: the bytes as UTF-8. */
    static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** Credentials for the authenticator: the client's bytes, one char per byte, as the SPI carries them. */
    private static String bytesAsText(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** Auth-User or Auth-Pass from the auth server (one char per byte) back to the bytes it sent, for the backend. */
    private static byte[] bytes(String answer) {
        return answer.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String oneLine(String text) {
        return text.replace('\r', ' ').replace('\n', ' ');
    }
}
