package org.mailproxy.smtp;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Supplier;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.filter.ssl.SslFilter;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.Authenticator;
import org.mailproxy.core.spi.HostResolver;
import org.mailproxy.core.spi.HostResolver.HostName;
import org.mailproxy.core.spi.ProtocolHandler;
import org.mailproxy.smtp.SmtpConfig.Mechanism;
import org.mailproxy.smtp.SmtpParser.Result;
import org.mailproxy.core.sasl.Salt;
import org.mailproxy.core.sasl.Sasl;
import org.mailproxy.core.sasl.SaslException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP client before login (nginx: {@code ngx_mail_smtp_init_session},
 * {@code ngx_mail_smtp_auth_state} and the shared {@code ngx_mail_auth_*} steps): the client's
 * host name from the resolver, the greeting (at once or after {@code smtp_greeting_delay}), then
 * each parsed line dispatched on the state, then authentication, then the backend login.
 *
 * <p>The per-command methods return what nginx's return: {@link Rc#OK} (send {@link #reply}),
 * {@link Rc#DONE} (credentials or envelope complete: authenticate), {@link Rc#INVALID}
 * ({@code 500 5.5.1 Invalid command}, back to the start state) or {@link Rc#ERROR} (internal
 * error, close).
 *
 * <p>Errors counted for {@code max_errors} are the ones the parser finds (unknown command, bad
 * syntax), as in nginx; a known command refused by its handler (VRFY, STARTTLS without TLS,
 * undecodable SASL) is answered the same way but not counted.
 */
final class SmtpHandler implements ProtocolHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SmtpHandler.class);

    /** The resolver module's directive (read, never parsed, here: its value prints as "off" when off). */
    static final String RESOLVER_DIRECTIVE = "resolver";

    static final byte[] OK = ascii("250 2.0.0 OK\r\n");
    static final byte[] START_TLS = ascii("220 2.0.0 Start TLS\r\n");
    static final byte[] BYE = ascii("221 2.0.0 Bye\r\n");
    static final byte[] NEXT = ascii("334 \r\n");
    static final byte[] USERNAME = ascii("334 " + Sasl.USERNAME_PROMPT + "\r\n");
    static final byte[] PASSWORD = ascii("334 " + Sasl.PASSWORD_PROMPT + "\r\n");
    static final byte[] INVALID_COMMAND = ascii("500 5.5.1 Invalid command\r\n");
    static final byte[] INVALID_PIPELINING = ascii("503 5.5.0 Improper use of SMTP command pipelining\r\n");
    static final byte[] INVALID_ARGUMENT = ascii("501 5.5.4 Invalid argument\r\n");
    static final byte[] AUTH_REQUIRED = ascii("530 5.7.1 Authentication required\r\n");
    static final byte[] BAD_SEQUENCE = ascii("503 5.5.1 Bad sequence of commands\r\n");
    static final byte[] INTERNAL_SERVER_ERROR = ascii("451 4.3.2 Internal server error\r\n");

    /** The Auth-Error-Code nginx uses when the auth server sends none. */
    static final String DEFAULT_ERROR_CODE = "535 5.7.0";

    /** What a command step asks for (nginx's {@code NGX_OK}, {@code NGX_DONE}, {@code NGX_ERROR}, {@code NGX_MAIL_PARSE_INVALID_COMMAND}). */
    enum Rc { OK, DONE, ERROR, INVALID }

    /** nginx's {@code ngx_smtp_state_e} before login (plus Angie's two OAuth states). */
    enum State { START, AUTH_LOGIN_USERNAME, AUTH_LOGIN_PASSWORD, AUTH_PLAIN, AUTH_CRAM_MD5, AUTH_EXTERNAL,
        AUTH_XOAUTH2, AUTH_OAUTHBEARER }

    /** Auth-Method as nginx sends it: PLAIN and LOGIN are both "plain". */
    enum Method {
        PLAIN("plain", true), CRAM_MD5("cram-md5", false), EXTERNAL("external", false),
        XOAUTH2("xoauth2", true), OAUTHBEARER("oauthbearer", true), NONE("none", false);

        final String authName;
        /** Whether the client's secret can log in to the backend (proxy_smtp_auth) when the auth server sends no Auth-Pass. */
        final boolean passwordUsable;

        Method(String authName, boolean passwordUsable) {
            this.authName = authName;
            this.passwordUsable = passwordUsable;
        }
    }

    private final MailSession session;
    private final SmtpConfig config;
    private final Supplier<Authenticator> authenticator;
    private final Supplier<HostResolver> resolver;
    private final SmtpParser parser;

    private State state = State.START;
    private byte[] reply;
    /** The client's name for XCLIENT NAME= and Client-Host (nginx: {@code s->host}). */
    private HostName host = new HostName(HostName.Status.UNAVAILABLE, null);
    private String salt;
    private String login;
    private String password;
    private Method method = Method.PLAIN;
    /** The HELO/EHLO argument, MAIL FROM and RCPT TO commands (nginx: {@code s->smtp_helo/from/to}). */
    private String helo;
    private boolean esmtp;
    private String from;
    private String to;
    private int loginAttempt;
    /** Resolving, delaying the greeting, or waiting for the authenticator, an Auth-Wait delay or the backend. */
    private boolean waiting;
    /** smtp_greeting_delay runs: anything the client sends now is refused. */
    private boolean greetingDelayed;
    /** The error to send after the client answers an Auth-Error-SASL challenge (nginx: {@code s->auth_err}). */
    private byte[] authError;
    /** Whether the session closes after the authentication error (no Auth-Wait). */
    private boolean authQuit;
    private ScheduledFuture<?> timer;

    SmtpHandler(MailSession session, SmtpConfig config, Supplier<Authenticator> authenticator,
                Supplier<HostResolver> resolver) {
        this.session = session;
        this.config = config;
        this.authenticator = authenticator;
        this.resolver = resolver;
        this.parser = new SmtpParser(config.clientBuffer());
    }

    // ================================================================ ProtocolHandler

    /** Resolves the client first when a resolver runs, as nginx's SMTP does; then the greeting. */
    @Override
    public void onStart() {
        HostResolver r = resolver.get();
        if (r == null) {
            host = withoutResolver(config.server());
            greeting();
            return;
        }
        waiting = true;
        session.suspendReading();
        try {
            r.resolve(session.clientAddress().getAddress(), config.server()).whenComplete((name, failure) ->
                    session.execute(() -> resolved(name)));
        } catch (RuntimeException e) {
            LOG.error("*{} the resolver failed", session.id(), e);
            resolved(new HostName(HostName.Status.TEMPUNAVAIL, null));
        }
    }

    /**
     * The client's name while no resolver module runs (its bundle stopped or not installed): when
     * the server's configuration asks for a resolver, the lookup cannot be made now, which is a
     * temporary failure, {@code [TEMPUNAVAIL]}, as nginx sends when DNS fails; without a
     * {@code resolver} (or with {@code resolver off}) it is {@code [UNAVAILABLE]}, as in nginx.
     */
    static HostName withoutResolver(ServerConfig server) {
        return new HostName(asksForResolver(server) ? HostName.Status.TEMPUNAVAIL : HostName.Status.UNAVAILABLE, null);
    }

    /**
     * Whether {@code resolver} is set and not {@code off}: the typed value when the configuration
     * was built with the resolver module running, else the server block's own directive as written
     * (a {@code resolver} in the mail block is not seen then).
     */
    private static boolean asksForResolver(ServerConfig server) {
        if (server.directiveNames().contains(RESOLVER_DIRECTIVE)) {
            Object value = server.get(RESOLVER_DIRECTIVE);
            return value != null && !"off".equals(value.toString());
        }
        return server.own().unvalidated().stream().filter(d -> d.name().equals(RESOLVER_DIRECTIVE))
                .reduce((first, last) -> last)
                .map(d -> !(d.args().size() == 1 && "off".equals(d.arg(0))))
                .orElse(false);
    }

    private void resolved(HostName name) {
        if (!waiting || session.isClosing()) {
            return;
        }
        host = name != null ? name : new HostName(HostName.Status.TEMPUNAVAIL, null);
        LOG.debug("*{} smtp greeting for \"{}\"", session.id(), host.xclientName());
        waiting = false;
        greeting();
        session.resumeReading();
    }

    /** {@code ngx_mail_smtp_greeting}: now, or after smtp_greeting_delay. */
    private void greeting() {
        Duration delay = config.greetingDelay();
        if (delay.isZero() || delay.isNegative()) {
            session.write(config.greeting());
            return;
        }
        greetingDelayed = true;
        session.holdTimeout(delay); // nginx: timeout starts with the greeting, not before the delay
        timer = session.schedule(delay, () -> {
            timer = null;
            if (greetingDelayed && !session.isClosing()) {
                greetingDelayed = false;
                session.write(config.greeting());
            }
        });
    }

    @Override
    public void onData(IoBuffer data) {
        if (greetingDelayed) {
            invalidPipelining(data);
            return;
        }
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
        greetingDelayed = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** The client talked before the delayed greeting ({@code ngx_mail_smtp_invalid_pipelining}). */
    private void invalidPipelining(IoBuffer data) {
        byte[] bytes = new byte[Math.min(data.remaining(), config.clientBuffer())];
        data.get(bytes);
        data.position(data.limit());
        LOG.info("*{} client was rejected before greeting: \"{}\"", session.id(), loggable(bytes));
        greetingDelayed = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        session.write(INVALID_PIPELINING);
        session.closeAfterWrite();
    }

    // ================================================================ one line

    /** A line the parser refused: counted for max_errors; a too long one also ends the session. */
    private void invalidLine() {
        if (parser.tooLong()) {
            LOG.info("*{} client sent too long command \"{}\"", session.id(), parser.loggable());
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
        case OK -> {
            if (state == State.START) {
                parser.expectCommand();
            }
            session.write(reply);
        }
        }
    }

    private Rc dispatch() {
        return switch (state) {
            case START -> startState();
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
            case HELO, EHLO -> helo();
            case AUTH -> auth();
            case QUIT -> quit();
            case MAIL -> mail();
            case RCPT -> rcpt();
            case RSET -> rset();
            case NOOP -> Rc.OK;
            case STARTTLS -> starttls();
            default -> Rc.INVALID; // VRFY, EXPN, HELP: known words, refused before login
        };
    }

    /** Back to reading commands (nginx: {@code s->mail_state = ngx_smtp_start; s->state = 0}). */
    private void toStart() {
        state = State.START;
        parser.expectCommand();
        authError = null;
    }

    // ================================================================ commands

    private Rc helo() {
        List<byte[]> args = parser.args();
        if (args.size() != 1) {
            reply = INVALID_ARGUMENT;
            return Rc.OK;
        }
        helo = new String(args.get(0), ISO_8859_1); // the client's bytes, one char per byte, as the SPI carries them
        from = null;
        to = null;
        if (parser.command() == SmtpParser.Command.HELO) {
            reply = config.heloReply();
        } else {
            esmtp = true;
            reply = config.capability(!secure());
        }
        return Rc.OK;
    }

    private Rc quit() {
        reply = BYE;
        session.closeAfterWrite();
        return Rc.OK;
    }

    /**
     * MAIL FROM: refused (530) unless {@code smtp_auth none}; then kept for the auth server and the
     * backend, and the credentials of an earlier failed AUTH are forgotten, so that they never
     * reach the auth server with Auth-Method none (CVE-2025-53859).
     */
    private Rc mail() {
        if (!config.authNone()) {
            LOG.info("*{} client was rejected: \"{}\"", session.id(), parser.loggable());
            reply = AUTH_REQUIRED;
            return Rc.OK;
        }
        if (from != null) {
            reply = BAD_SEQUENCE;
            return Rc.OK;
        }
        if (parser.args().isEmpty()) {
            reply = INVALID_ARGUMENT;
            return Rc.OK;
        }
        from = parser.commandText();
        LOG.debug("*{} smtp mail from:\"{}\"", session.id(), from);
        clearCredentials();
        return Rc.OK;
    }

    /** RCPT TO after MAIL FROM ({@code smtp_auth none}): the envelope goes to the auth server. */
    private Rc rcpt() {
        if (from == null) {
            reply = BAD_SEQUENCE;
            return Rc.OK;
        }
        if (parser.args().isEmpty()) {
            reply = INVALID_ARGUMENT;
            return Rc.OK;
        }
        to = parser.commandText();
        LOG.debug("*{} smtp rcpt to:\"{}\"", session.id(), to);
        clearCredentials();
        method = Method.NONE;
        return Rc.DONE;
    }

    private Rc rset() {
        from = null;
        to = null;
        return Rc.OK;
    }

    /**
     * STARTTLS: nginx answers {@code 220 2.0.0 Start TLS}, forgets HELO, MAIL and RCPT, drops what
     * the client pipelined after it (CVE-2014-3556) and starts the handshake; with {@code starttls
     * off} or on TLS already it is an invalid command and what follows is read as commands.
     */
    private Rc starttls() {
        if (config.starttls() == SmtpConfig.Starttls.OFF || secure() || !session.canStartTls()) {
            return Rc.INVALID;
        }
        helo = null; // RFC 3207: forget what the client said before STARTTLS
        from = null;
        to = null;
        session.startTls(START_TLS); // in clear, pipelined input dropped, then TLS
        reply = new byte[0];
        return Rc.OK;
    }

    /** AUTH mechanism [initial-response] ({@code ngx_mail_smtp_auth} + {@code ngx_mail_auth_parse}). */
    private Rc auth() {
        if (starttlsOnly()) {
            return Rc.INVALID;
        }
        List<byte[]> args = parser.args();
        if (args.isEmpty()) {
            reply = INVALID_ARGUMENT;
            return Rc.OK;
        }
        String mechanism = asciiUpper(args.get(0));
        boolean initial = args.size() == 2;
        switch (mechanism) {
        case "LOGIN":
            if (args.size() > 2) {
                return Rc.INVALID;
            }
            if (initial) {
                state = State.AUTH_LOGIN_PASSWORD;
                reply = PASSWORD;
                return username(1);
            }
            state = State.AUTH_LOGIN_USERNAME;
            reply = USERNAME;
            return Rc.OK;
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
            if (salt == null) {
                salt = Salt.create(config.serverName());
            }
            state = State.AUTH_CRAM_MD5;
            reply = ascii("334 " + Sasl.cramMd5Challenge(salt) + "\r\n");
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
            login = Sasl.loginUsername(arg(n));
            return Rc.OK;
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc loginPassword() {
        try {
            password = Sasl.loginPassword(arg(0));
            method = Method.PLAIN;
            return Rc.DONE;
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc plain(int n) {
        try {
            return credentials(Sasl.plain(arg(n)), Method.PLAIN);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc cramMd5() {
        try {
            return credentials(Sasl.cramMd5(arg(0)), Method.CRAM_MD5);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc external(int n) {
        try {
            return credentials(Sasl.external(arg(n)), Method.EXTERNAL);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc xoauth2(int n) {
        if (authError != null) {
            List<byte[]> args = parser.args();
            return saslErrorAnswered(args.size() == 1 && args.get(0).length == 0);
        }
        try {
            return credentials(Sasl.xoauth2(arg(n)), Method.XOAUTH2);
        } catch (SaslException e) {
            return refused(e);
        }
    }

    private Rc oauthbearer(int n) {
        if (authError != null) {
            List<byte[]> args = parser.args();
            return saslErrorAnswered(args.size() == 1
                    && new String(args.get(0), UTF_8).startsWith(Sasl.OAUTHBEARER_DUMMY_RESPONSE));
        }
        try {
            return credentials(Sasl.oauthbearer(arg(n)), Method.OAUTHBEARER);
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
        state = State.START;
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

    private void clearCredentials() {
        login = null;
        password = null;
    }

    // ================================================================ authentication

    /** Credentials (or the envelope) complete: stop reading and ask the authenticator ({@code ngx_mail_auth}). */
    private void authenticate() {
        waiting = true;
        session.suspendReading();
        session.authenticating(method == Method.NONE ? null : readable(login)); // console, JMX, session log; never the password
        parser.expectCommand();
        loginAttempt++;
        boolean none = method == Method.NONE;
        AuthRequest request = new AuthRequest(method.authName, none ? "" : login, none ? "" : password,
                method == Method.CRAM_MD5 ? salt : null, SmtpProtocol.NAME, loginAttempt, session.clientAddress(),
                host.xclientName(), session.proxyProtocol(), none ? new AuthRequest.SmtpEnvelope(helo, from, to) : null)
                .withSession(session.id(), session.localAddress()).withTls(session.tlsInfo());
        Authenticator auth = authenticator.get();
        if (auth == null) {
            LOG.error("*{} no auth_http module is running, login refused", session.id());
            authenticated(new AuthResult.TemporaryError("no authenticator"));
            return;
        }
        try {
            auth.authenticate(request, config.server()).whenComplete((result, failure) -> session.execute(() ->
                    authenticated(result != null ? result : new AuthResult.TemporaryError(String.valueOf(failure)))));
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

    /** Auth-Status OK: log in to the backend. */
    private void loggedIn(AuthResult.Ok ok) {
        String user = ok.user() != null ? ok.user() : login;
        String pass = ok.password() != null ? ok.password() : method.passwordUsable ? password : null;
        if (config.proxySmtpAuth() && method != Method.NONE && pass == null) {
            LOG.error("*{} auth http server did not send password", session.id());
            internalError();
            return;
        }
        boolean none = method == Method.NONE;
        SmtpBackendLogin.Envelope envelope = new SmtpBackendLogin.Envelope(helo, esmtp, from, to);
        session.connectBackend(ok.backend(), ok.backendTls(), new SmtpBackendLogin(session, config,
                none ? ok.user() : user, none ? null : pass, host.xclientName(), envelope, none,
                session.server().limits().proxyBuffer()));
    }

    /**
     * Auth-Status other than OK: after Auth-Wait (if any) send the error (or first the
     * Auth-Error-SASL challenge) and read commands again; without Auth-Wait the session closes
     * after the error. The reply is {@code Auth-Error-Code} (default {@code 535 5.7.0}) and the text.
     */
    private void refused(AuthResult.Failure failure) {
        // the auth_http module logs "client login failed" at info, as nginx does: once
        LOG.debug("*{} login refused: \"{}\"", session.id(), failure.message());
        String code = failure.errorCode() != null && !failure.errorCode().isEmpty() ? failure.errorCode()
                : DEFAULT_ERROR_CODE;
        authError = ascii(code + " " + failure.message() + "\r\n");
        byte[] challenge = failure.saslError() != null && (method == Method.XOAUTH2 || method == Method.OAUTHBEARER)
                ? ascii("334 " + failure.saslError() + "\r\n")
                : null;
        Duration wait = failure.retryAfter();
        if (wait == null || wait.isZero() || wait.isNegative()) {
            authQuit = true;
            sendError(challenge);
        } else {
            authQuit = false;
            timer = session.schedule(wait, () -> sendError(challenge));
        }
    }

    /** {@code ngx_mail_auth_send_error}. */
    private void sendError(byte[] challenge) {
        timer = null;
        State oauthState = method == Method.XOAUTH2 ? State.AUTH_XOAUTH2 : State.AUTH_OAUTHBEARER;
        method = Method.PLAIN;
        if (challenge == null) {
            session.write(authError);
            if (authQuit) {
                session.closeAfterWrite();
            }
            toStart();
        } else {
            session.write(challenge); // the error follows the client's answer; authError stays set
            state = oauthState;
            parser.expectResponse();
        }
        waiting = false;
        session.resumeReading();
    }

    private void internalError() {
        session.write(INTERNAL_SERVER_ERROR);
        session.closeAfterWrite();
    }

    // ================================================================ helpers

    /** Whether the client connection is TLS: an implicit-TLS listen, or after STARTTLS. */
    private boolean secure() {
        return session.listen().ssl() || session.ioSession().getFilterChain().contains(SslFilter.class);
    }

    /** {@code ngx_mail_starttls_only}: AUTH refused before TLS with {@code starttls only}. */
    private boolean starttlsOnly() {
        return config.starttls() == SmtpConfig.Starttls.ONLY && !secure();
    }

    private byte[] arg(int n) {
        return parser.args().get(n);
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

    private static String loggable(byte[] bytes) {
        byte[] copy = bytes.clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] == '\r' || copy[i] == '\n') {
                copy[i] = '_';
            }
        }
        return new String(copy, UTF_8);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(UTF_8);
    }
}
