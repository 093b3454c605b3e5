package org.mailproxy.smtp;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.mailproxy.core.config.ServerConfig;

/**
 * The SMTP settings of one server with every reply that depends only on the configuration built
 * once, as {@code ngx_mail_smtp_merge_srv_conf} does: the greeting, the HELO reply and the three
 * EHLO variants (plain; with {@code 250 STARTTLS} last; the starttls-only one without the AUTH
 * line).
 */
final class SmtpConfig {

    /**
     * The SASL mechanisms in nginx's bit order ({@code NGX_MAIL_AUTH_*_ENABLED}, Angie's two OAuth
     * ones after EXTERNAL), which is the order of the EHLO AUTH line.
     */
    enum Mechanism {
        PLAIN("plain", "PLAIN"), LOGIN("login", "LOGIN"), CRAM_MD5("cram-md5", "CRAM-MD5"),
        EXTERNAL("external", "EXTERNAL"), XOAUTH2("xoauth2", "XOAUTH2"), OAUTHBEARER("oauthbearer", "OAUTHBEARER");

        final String word;
        final String saslName;

        Mechanism(String word, String saslName) {
            this.word = word;
            this.saslName = saslName;
        }
    }

    /** The {@code starttls} setting of the ssl module: off when that module is absent. */
    enum Starttls { OFF, ON, ONLY }

    private final ServerConfig server;
    private final Set<Mechanism> mechanisms;
    private final boolean authNone;
    private final String serverName;
    private final byte[] greeting;
    private final byte[] heloReply;
    private final byte[] capability;
    private final byte[] starttlsCapability;
    private final byte[] starttlsOnlyCapability;
    private final int clientBuffer;
    private final Duration greetingDelay;
    private final boolean xclient;
    private final boolean proxySmtpAuth;
    private final boolean passErrorMessage;
    private final Starttls starttls;

    private SmtpConfig(ServerConfig server) {
        this.server = server;
        List<String> words = server.get(SmtpProtocol.AUTH);
        this.mechanisms = EnumSet.noneOf(Mechanism.class);
        for (Mechanism m : Mechanism.values()) {
            if (words.contains(m.word)) {
                mechanisms.add(m);
            }
        }
        this.authNone = words.contains("none");
        this.serverName = server.string("server_name");
        this.clientBuffer = Math.toIntExact(server.size(SmtpProtocol.CLIENT_BUFFER));
        this.greetingDelay = server.time(SmtpProtocol.GREETING_DELAY);
        this.xclient = server.flag("xclient");
        this.proxySmtpAuth = server.flag("proxy_smtp_auth");
        this.passErrorMessage = server.flag("proxy_pass_error_message");
        this.starttls = starttls(server);
        this.greeting = ascii("220 " + serverName + " ESMTP ready\r\n");
        this.heloReply = ascii("250 " + serverName + "\r\n");
        List<String> capabilities = server.get(SmtpProtocol.CAPABILITIES);
        this.capability = ascii(ehlo(capabilities, true, false));
        this.starttlsCapability = ascii(ehlo(capabilities, true, true));
        this.starttlsOnlyCapability = ascii(ehlo(capabilities, false, true));
    }

    /** Builds the settings of a merged smtp server. */
    static SmtpConfig of(ServerConfig server) {
        return new SmtpConfig(server);
    }

    /**
     * The ssl module's {@code starttls} when the registry has it (a String {@code on|off|only}, or
     * a Boolean); off otherwise.
     */
    private static Starttls starttls(ServerConfig server) {
        if (!server.directiveNames().contains("starttls")) {
            return Starttls.OFF;
        }
        Object value = server.get("starttls");
        if (value instanceof Boolean on) {
            return on ? Starttls.ON : Starttls.OFF;
        }
        if (value == null) {
            return Starttls.OFF;
        }
        return switch (value.toString().toLowerCase(Locale.ROOT)) {
            case "on" -> Starttls.ON;
            case "only" -> Starttls.ONLY;
            default -> Starttls.OFF;
        };
    }

    /**
     * The EHLO reply: {@code 250-name}, a {@code 250-} line per capability, {@code 250 AUTH ...}
     * ({@code withAuth} and a mechanism enabled), {@code 250 STARTTLS} ({@code stls}); the last
     * line has a space after the code.
     */
    private String ehlo(List<String> capabilities, boolean withAuth, boolean stls) {
        StringBuilder lines = new StringBuilder();
        java.util.List<String> all = new java.util.ArrayList<>();
        all.add(serverName);
        all.addAll(capabilities);
        if (withAuth && !mechanisms.isEmpty()) {
            StringBuilder auth = new StringBuilder("AUTH");
            for (Mechanism m : mechanisms) {
                auth.append(' ').append(m.saslName);
            }
            all.add(auth.toString());
        }
        if (stls) {
            all.add("STARTTLS");
        }
        for (int i = 0; i < all.size(); i++) {
            lines.append("250").append(i == all.size() - 1 ? ' ' : '-').append(all.get(i)).append("\r\n");
        }
        return lines.toString();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ accessors

    ServerConfig server() {
        return server;
    }

    boolean enabled(Mechanism mechanism) {
        return mechanisms.contains(mechanism);
    }

    /** {@code smtp_auth none}: MAIL FROM without AUTH, auth_http asked at RCPT TO. */
    boolean authNone() {
        return authNone;
    }

    String serverName() {
        return serverName;
    }

    byte[] greeting() {
        return greeting;
    }

    /** The reply to HELO: {@code 250 server_name}. */
    byte[] heloReply() {
        return heloReply;
    }

    /** The EHLO reply: with STARTTLS while {@code starttls} is on (only-variant for {@code only}) and the connection is not TLS yet. */
    byte[] capability(boolean offerStarttls) {
        if (offerStarttls) {
            if (starttls == Starttls.ON) {
                return starttlsCapability;
            }
            if (starttls == Starttls.ONLY) {
                return starttlsOnlyCapability;
            }
        }
        return capability;
    }

    int clientBuffer() {
        return clientBuffer;
    }

    Duration greetingDelay() {
        return greetingDelay;
    }

    boolean xclient() {
        return xclient;
    }

    boolean proxySmtpAuth() {
        return proxySmtpAuth;
    }

    boolean passErrorMessage() {
        return passErrorMessage;
    }

    Starttls starttls() {
        return starttls;
    }
}
