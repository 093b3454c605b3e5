package org.mailproxy.pop3;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Supplier;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.filter.ssl.SslFilter;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.Authenticator;
import org.mailproxy.core.spi.ProtocolHandler;
import org.mailproxy.pop3.Pop3Config.Mechanism;
import org.mailproxy.pop3.Pop3Parser.Command;
import org.mailproxy.pop3.Pop3Parser.Result;
import org.mailproxy.core.sasl.Salt;
import org.mailproxy.core.sasl.Sasl;
import org.mailproxy.core.sasl.SaslException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One POP3 client before login (nginx: {@code ngx_mail_pop3_init_session} and
 * {@code ngx_mail_pop3_auth_state} with the shared {@code ngx_mail_auth_*} steps): greeting, then
 * each parsed line dispatched on the state, then authentication, then the backend login.
 *
 * <p>The per-command methods return what nginx's return: {@link Rc#OK} (send {@link #reply}),
 * {@link Rc#DONE} (credentials complete: authenticate), {@link Rc#INVALID} ({@code -ERR invalid
 * command}, back to the start state) or {@link Rc#ERROR} (internal error, close).
 *
 * <p>Errors counted for {@code max_errors} are the ones the parser finds (unknown command, bad
 * syntax), as in nginx; a known command refused by its handler (USER without argument, APOP when
 * apop is off, undecodable SASL) is answered the same way but not counted.
 */
final class Pop3Handler implements ProtocolHandler {

    private static final Logger LOG = LoggerFactory.getLogger(Pop3Handler.class);

    static final byte[] GREETING = ascii("+OK POP3 ready\r\n");
    static final byte[] OK = ascii("+OK\r\n");
    static final byte[] NEXT = ascii("+ \r\n");
    static final byte[] USERNAME = ascii("+ " + Sasl.USERNAME_PROMPT + "\r\n");
    static final byte[] PASSWORD = ascii("+ " + Sasl.PASSWORD_PROMPT + "\r\n");
    static final byte[] INVALID_COMMAND = ascii("-ERR invalid command\r\n");
    static final byte[] INTERNAL_SERVER_ERROR = ascii("-ERR internal server error\r\n");

    /** What a command step asks for (nginx's {@code NGX_OK}, {@code NGX_DONE}, {@code NGX_ERROR}, {@code NGX_MAIL_PARSE_INVALID_COMMAND}). */
    enum Rc { OK, DONE, ERROR, INVALID }

    /** nginx's {@code ngx_pop3_state_e} (plus Angie's two OAuth states). */
    enum State { START, USER, AUTH_LOGIN_USERNAME, AUTH_LOGIN_PASSWORD, AUTH_PLAIN, AUTH_CRAM_MD5, AUTH_EXTERNAL,
        AUTH_XOAUTH2, AUTH_OAUTHBEARER }

    /** Auth-Method as nginx sends it: PLAIN, LOGIN and USER/PASS are all "plain". */
    enum Method {
        PLAIN("plain", true), APOP("apop", false), CRAM_MD5("cram-md5", false), EXTERNAL("external", false),
        XOAUTH2("xoauth2", true), OAUTHBEARER("oauthbearer", true);

        final String authName;
        /** Whether the client's secret can log in to the backend when the auth server sends no Auth-Pass. */
        final boolean passwordUsable;

        Method(String authName, boolean passwordUsable) {
            this.authName = authName;
            this.passwordUsable = passwordUsable;
        }
    }

    private final MailSession session;
    private final Pop3Config config;
    private final Supplier<Authenticator> authenticator;
    private final Pop3Parser parser;

    private State state = State.START;
    private byte[] reply;
    private String salt;
    private String login;
    private String password;
    private Method method = Method.PLAIN;
    private int loginAttempt;
    /** Waiting for the authenticator, an Auth-Wait delay or the backend: no command is read. */
    private boolean waiting;
    /** The error to send after the client answers an Auth-Error-SASL challenge (nginx: {@code s->auth_err}). */
    private byte[] authError;
    /** Whether the session closes after the authentication error (no Auth-Wait; nginx: {@code s->auth_quit}). */
    private boolean authQuit;
    private ScheduledFuture<?> delayedError;
    /** The authentication under way, cancelled when the client goes away. */
    private CompletableFuture<AuthResult> pending;

    Pop3Handler(MailSession session, Pop3Config config, Supplier<Authenticator> authenticator) {
        this.session = session;
        this.config = config;
        this.authenticator = authenticator;
        this.parser = new Pop3Parser(config.clientBuffer());
    }

    // ================================================================ ProtocolHandler

    @Override
    public void onStart() {
        if (config.salted()) {
            salt = Salt.create(config.serverName());
            session.write("+OK POP3 ready " + salt);
        } else {
            session.write(GREETING);
        }
    }

    @Override
    public void onData(IoBuffer data) {
        while (!waiting && data.hasRemaining() && !session.isClosing()) {
            Result result = parser.parse(data);
            if (result == Result.AGAIN) {
                return;
            }
            if (result == Result.INVALID) {
                invalidLine();
            } else {
                command();
            }
        }
    }

    @Override
    public void onClose() {
        waiting = true;
        if (delayedError != null) {
            delayedError.cancel(false);
            delayedError = null;
        }
        if (pending != null) {
            pending.cancel(false); // the authenticator drops its request to the auth server
            pending = null;
        }
        login = null;
        password = null;
    }

    // ================================================================ one line

    /** A line the parser refused: counted for max_errors; a too long one also ends the session. */
    private void invalidLine() {
        if (parser.tooLong()) {
            LOG.info("*{} client sent too long command", session.id());
            session.closeAfterWrite();
        } else {
            session.protocolError();
        }
        toStart();
        session.write(INVALID_COMMAND);
    }

    /** A complete line: counted for max_commands, then dispatched on the state. */
    private void command() {
        if (!session.commandReceived()) {
            session.write(INVALID_COMMAND);
            return;
        }
        reply = OK;
        Rc rc = dispatch();
        switch (rc) {
        case DONE -> authenticate();
        case ERROR -> internalError();
        case INVALID -> {
            toStart();
            session.write(INVALID_COMMAND);
        }
        case OK -> session.write(reply);
        }
    }

    private Rc dispatch() {
        return switch (state) {
            case START -> startState();
            case USER -> userState();
            case AUTH_LOGIN_USERNAME -> loginUsername(0);
            case AUTH_LOGIN_PASSWORD -> loginPassword();
            case AUTH_PLAIN -> plain(0);
            case AUTH_CRAM_MD5 -> cramMd5();
            case AUTH_EXTERNAL -> external(0);
            case AUTH_XOAUTH2 -> xoauth2(0);
            case AUTH_OAUTHBEARER -> oauthbearer(0);
        };
    }

    private Rc startState() {
        return switch (parser.command()) {
            case USER -> user();
            case CAPA -> capa(true);
            case APOP -> apop();
            case AUTH -> auth();
            case QUIT -> quit();
            case NOOP -> Rc.OK;
            case STLS -> stls();
            default -> Rc.INVALID;
        };
    }

    private Rc userState() {
        return switch (parser.command()) {
            case PASS -> pass();
            case CAPA -> capa(false);
            case QUIT -> quit();
            case NOOP -> Rc.OK;
            default -> Rc.INVALID;
        };
    }

    /** Back to reading commands (nginx: {@code s->mail_state = ngx_pop3_start; s->state = 0}). */
    private void toStart() {
        state = State.START;
        parser.expectCommand();
        authError = null;
    }

    // ================================================================ commands

    private Rc user() {
        if (starttlsOnly() || args().size() != 1) {
            return Rc.INVALID;
        }
        login = arg(0);
        state = State.USER;
        return Rc.OK;
    }

    private Rc pass() {
        if (args().size() != 1) {
            return Rc.INVALID;
        }
        password = arg(0);
        method = Method.PLAIN;
        return Rc.DONE;
    }

    private Rc capa(boolean beforeUser) {
        reply = config.capability(beforeUser && !secure());
        return Rc.OK;
    }

    private Rc quit() {
        session.closeAfterWrite();
        return Rc.OK;
    }

    /**
     * STLS: nginx answers +OK, drops whatever the client pipelined after it (CVE-2014-3556) and
     * starts the TLS handshake; with {@code starttls off} or on TLS already it is an invalid command.
     */
    private Rc stls() {
        if (config.starttls() == Pop3Config.Starttls.OFF || secure() || !session.canStartTls()) {
            return Rc.INVALID;
        }
        session.startTls(OK); // +OK in clear, pipelined input dropped, then TLS
        reply = new byte[0];
        return Rc.OK;
    }

    private Rc apop() {
        if (starttlsOnly() || args().size() != 2 || !config.enabled(Mechanism.APOP)) {
            return Rc.INVALID;
        }
        login = arg(0);
        password = arg(1);
        method = Method.APOP;
        return Rc.DONE;
    }

    /** AUTH, AUTH mechanism, AUTH mechanism initial-response ({@code ngx_mail_pop3_auth} + {@code ngx_mail_auth_parse}). */
    private Rc auth() {
        if (starttlsOnly()) {
            return Rc.INVALID;
        }
        List<byte[]> args = args();
        if (args.isEmpty()) {
            reply = config.authCapability();
            parser.expectCommand();
            return Rc.OK;
        }
        String mechanism = asciiUpper(args.get(0));
        boolean initial = args.size() == 2;
        switch (mechanism) {
        case "LOGIN":
            if (args.size() > 2) {
                return Rc.INVALID;
            }
            state = initial ? State.AUTH_LOGIN_PASSWORD : State.AUTH_LOGIN_USERNAME;
            reply = initial ? PASSWORD : USERNAME;
            return initial ? username(1) : Rc.OK;
        case "PLAIN":
            if (args.size() > 2) {
                return Rc.INVALID;
            }
            if (initial) {
                return plain(1);
            }
            state = State.AUTH_PLAIN;
            reply = NEXT;
            return Rc.OK;
        case "CRAM-MD5":
            if (args.size() != 1 || !config.enabled(Mechanism.CRAM_MD5)) {
                return Rc.INVALID;
            }
            state = State.AUTH_CRAM_MD5;
            reply = ascii("+ " + Sasl.cramMd5Challenge(salt) + "\r\n");
            return Rc.OK;
        case "EXTERNAL":
            if (args.size() > 2 || !config.enabled(Mechanism.EXTERNAL)) {
                return Rc.INVALID;
            }
            if (initial) {
                return external(1);
            }
            state = State.AUTH_EXTERNAL;
            reply = USERNAME;
            return Rc.OK;
        case "XOAUTH2":
            return oauth(Mechanism.XOAUTH2, State.AUTH_XOAUTH2, args.size());
        case "OAUTHBEARER":
            return oauth(Mechanism.OAUTHBEARER, State.AUTH_OAUTHBEARER, args.size());
        default:
            return Rc.INVALID;
        }
    }

    private Rc oauth(Mechanism mechanism, State next, int argCount) {
        if (argCount > 2 || !config.enabled(mechanism)) {
            return Rc.INVALID;
        }
        state = next;
        if (argCount == 2) {
            return mechanism == Mechanism.XOAUTH2 ? xoauth2(1) : oauthbearer(1);
        }
        reply = NEXT;
        return Rc.OK;
    }

    // ================================================================ SASL steps

    /** The LOGIN user name as the state's line: the password prompt follows even when it fails. */
    private Rc loginUsername(int n) {
        reply = PASSWORD;
        state = State.AUTH_LOGIN_PASSWORD;
        return username(n);
    }

    private Rc username(int n) {
        try {
            login = Sasl.loginUsername(args().get(n));
            return Rc.OK;
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc loginPassword() {
        try {
            password = Sasl.loginPassword(args().get(0));
            method = Method.PLAIN;
            return Rc.DONE;
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc plain(int n) {
        try {
            return credentials(Sasl.plain(args().get(n)), Method.PLAIN);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc cramMd5() {
        try {
            return credentials(Sasl.cramMd5(args().get(0)), Method.CRAM_MD5);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc external(int n) {
        try {
            return credentials(Sasl.external(args().get(n)), Method.EXTERNAL);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc xoauth2(int n) {
        if (authError != null) {
            return saslErrorAnswered(args().size() == 1 && args().get(0).length == 0);
        }
        try {
            return credentials(Sasl.xoauth2(args().get(n)), Method.XOAUTH2);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc oauthbearer(int n) {
        if (authError != null) {
            return saslErrorAnswered(args().size() == 1 && startsWith(args().get(0), Sasl.OAUTHBEARER_DUMMY_RESPONSE));
        }
        try {
            return credentials(Sasl.oauthbearer(args().get(n)), Method.OAUTHBEARER);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    /**
     * The client's answer to an Auth-Error-SASL challenge (RFC 7628 3.2.3): the expected dummy
     * response gets the authentication error; anything else is an invalid command. Either way
     * the session closes when the auth server gave no Auth-Wait.
     */
    private Rc saslErrorAnswered(boolean expected) {
        byte[] error = authError;
        authError = null;
        if (authQuit) {
            session.closeAfterWrite();
        }
        if (!expected) {
            return Rc.INVALID;
        }
        reply = error;
        toStart();
        return Rc.OK;
    }

    private Rc credentials(Sasl.Credentials credentials, Method used) {
        login = credentials.user();
        password = credentials.password();
        method = used;
        return Rc.DONE;
    }

    private Rc refused(SaslException e) {
        LOG.info("*{} {}", session.id(), e.getMessage());
        return Rc.INVALID;
    }

    // ================================================================ authentication

    /** Credentials complete: stop reading and ask the authenticator ({@code ngx_mail_auth}). */
    private void authenticate() {
        waiting = true;
        session.suspendReading();
        session.authenticating(readable(login)); // console, JMX, session log: the login name, never the password
        loginAttempt++;
        boolean salted = method == Method.APOP || method == Method.CRAM_MD5;
        AuthRequest request = new AuthRequest(method.authName, login, password, salted ? salt : null, Pop3Protocol.NAME,
                loginAttempt, session.clientAddress(), null, session.proxyProtocol(), null).withTls(session.tlsInfo())
                .withSession(session.id(), session.localAddress());
        Authenticator auth = authenticator.get();
        if (auth == null) {
            LOG.error("*{} no auth_http module is running, login refused", session.id());
            authenticated(new AuthResult.TemporaryError("no authenticator"));
            return;
        }
        try {
            CompletableFuture<AuthResult> stage = auth.authenticate(request, config.server()).toCompletableFuture();
            pending = stage;
            stage.whenComplete((result, failure) -> session.execute(() -> {
                if (pending == stage) {
                    pending = null;
                }
                authenticated(result != null ? result : new AuthResult.TemporaryError(String.valueOf(failure)));
            }));
        } catch (RuntimeException e) {
            LOG.error("*{} the authenticator failed", session.id(), e);
            authenticated(new AuthResult.TemporaryError(e.toString()));
        }
    }

    private void authenticated(AuthResult result) {
        if (!waiting || session.isClosing()) {
            return;
        }
        if (result instanceof AuthResult.Ok ok) {
            loggedIn(ok);
        } else if (result instanceof AuthResult.Failure failure) {
            refused(failure);
        } else {
            AuthResult.TemporaryError error = (AuthResult.TemporaryError) result;
            LOG.error("*{} authentication failed temporarily: {}", session.id(), error.reason());
            session.authTemporaryError(error);
            internalError();
        }
    }

    /** Auth-Status OK: log in to the backend with Auth-User / Auth-Pass or the client's own credentials. */
    private void loggedIn(AuthResult.Ok ok) {
        String user = ok.user() != null ? ok.user() : login;
        String pass = ok.password() != null ? ok.password() : method.passwordUsable ? password : null;
        if (pass == null) {
            LOG.error("*{} auth http server did not send password", session.id());
            internalError();
            return;
        }
        session.connectBackend(ok.backend(), ok.backendTls(), new Pop3BackendLogin(session, user, pass, config.passErrorMessage(),
                session.server().limits().proxyBuffer()));
    }

    /**
     * Auth-Status other than OK: after Auth-Wait (if any) send the error (or first the
     * Auth-Error-SASL challenge) and read commands again; without Auth-Wait the session closes
     * after the error.
     */
    private void refused(AuthResult.Failure failure) {
        // the auth_http module logs "client login failed" at info, as nginx does: once
        LOG.debug("*{} login refused: \"{}\"", session.id(), failure.message());
        authError = ascii("-ERR " + failure.message() + "\r\n");
        byte[] challenge = failure.saslError() != null && (method == Method.XOAUTH2 || method == Method.OAUTHBEARER)
                ? ascii("+ " + failure.saslError() + "\r\n")
                : null;
        Duration wait = failure.retryAfter();
        if (wait == null || wait.isZero() || wait.isNegative()) {
            authQuit = true;
            sendError(challenge);
        } else {
            authQuit = false;
            delayedError = session.schedule(wait, () -> sendError(challenge));
        }
    }

    /** {@code ngx_mail_auth_send_error}. */
    private void sendError(byte[] challenge) {
        delayedError = null;
        method = Method.PLAIN;
        if (challenge == null) {
            session.write(authError);
            if (authQuit) {
                session.closeAfterWrite();
            }
            toStart();
        } else {
            session.write(challenge); // the error follows the client's answer; authError stays set
        }
        waiting = false;
        session.resumeReading();
    }

    private void internalError() {
        session.write(INTERNAL_SERVER_ERROR);
        session.closeAfterWrite();
    }

    // ================================================================ helpers

    /** Whether the client connection is TLS: an implicit-TLS listen, or after STLS. */
    private boolean secure() {
        return session.listen().ssl() || session.ioSession().getFilterChain().contains(SslFilter.class);
    }

    /** {@code ngx_mail_starttls_only}: plaintext logins refused before TLS with {@code starttls only}. */
    private boolean starttlsOnly() {
        return config.starttls() == Pop3Config.Starttls.ONLY && !secure();
    }

    private List<byte[]> args() {
        return parser.args();
    }

    /** A USER, PASS or APOP argument: the client's bytes, one char per byte, as the auth SPI carries credentials. */
    private String arg(int n) {
        return new String(parser.args().get(n), ISO_8859_1);
    }

    /** A login (its bytes one char per byte) as text for people: the bytes as UTF-8, as the IMAP module shows them. */
    private static String readable(String bytesAsChars) {
        return bytesAsChars == null ? null : new String(bytesAsChars.getBytes(ISO_8859_1), UTF_8);
    }

    /** The bytes as text with a-z upper-cased and nothing else changed (nginx compares mechanism names with ngx_strncasecmp). */
    private static String asciiUpper(byte[] b) {
        char[] c = new char[b.length];
        for (int i = 0; i < b.length; i++) {
            int v = b[i] & 0xff;
            c[i] = (char) (v >= 'a' && v <= 'z' ? v - ('a' - 'A') : v);
        }
        return new String(c);
    }

    private static boolean startsWith(byte[] b, String prefix) {
        if (b.length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (b[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(UTF_8);
    }
}
