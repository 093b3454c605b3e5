package org.mailproxy.imap;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.mailproxy.core.config.ServerConfig;
import org.mailproxy.imap.ImapModule.AuthMethod;

/**
 * What one server's IMAP sessions need, computed once per configuration as nginx's
 * {@code ngx_mail_imap_merge_srv_conf} does: the auth methods, the command buffer size, the three
 * CAPABILITY replies (plain, with STARTTLS, and for {@code starttls only}) and the ID reply.
 */
final class ImapSettings {

    /** nginx's {@code starttls} values; OFF when no module declares the directive. */
    enum StartTls { OFF, ON, ONLY }

    private static final Map<ServerConfig, ImapSettings> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    private final Set<AuthMethod> authMethods;
    private final int clientBuffer;
    private final byte[] capability;
    private final byte[] starttlsCapability;
    private final byte[] starttlsOnlyCapability;
    private final byte[] idReply;
    private final StartTls startTls;
    private final boolean passErrorMessage;
    private final String serverName;

    ImapSettings(List<String> methods, List<String> capabilities, long clientBuffer, List<String> id,
                 StartTls startTls, boolean passErrorMessage, String serverName) {
        EnumSet<AuthMethod> set = EnumSet.noneOf(AuthMethod.class);
        methods.forEach(m -> set.add(AuthMethod.ofWord(m)));
        this.authMethods = Collections.unmodifiableSet(set);
        this.clientBuffer = (int) Math.max(1, Math.min(Integer.MAX_VALUE, clientBuffer));

        StringBuilder caps = new StringBuilder("* CAPABILITY");
        for (String c : capabilities) {
            caps.append(' ').append(c);
        }
        String withoutAuth = caps.toString();
        for (AuthMethod m : set) {
            caps.append(' ').append(m.capability());
        }
        this.capability = utf8(caps + "\r\n");
        this.starttlsCapability = utf8(caps + " STARTTLS\r\n");
        this.starttlsOnlyCapability = utf8(withoutAuth + " STARTTLS LOGINDISABLED\r\n");

        if (id == null) {
            this.idReply = ascii("* ID NIL\r\n");
        } else if (id.equals(List.of("off"))) {
            this.idReply = null;
        } else {
            StringBuilder reply = new StringBuilder("* ID (");
            for (int i = 0; i < id.size(); i++) {
                if (i > 0) {
                    reply.append(' ');
                }
                quote(reply, id.get(i));
            }
            this.idReply = reply.append(")\r\n").toString().getBytes(StandardCharsets.UTF_8);
        }
        this.startTls = startTls;
        this.passErrorMessage = passErrorMessage;
        this.serverName = serverName;
    }

    /** The settings of a configured server (cached per configuration). */
    static ImapSettings of(ServerConfig server) {
        ImapSettings settings = CACHE.get(server);
        if (settings == null) {
            settings = new ImapSettings(server.get("imap_auth"), server.get("imap_capabilities"),
                    server.size("imap_client_buffer"), server.get("imap_id"), startTls(server),
                    server.flag("proxy_pass_error_message"), server.string("server_name"));
            CACHE.put(server, settings);
        }
        return settings;
    }

    /**
     * The {@code starttls} value, when a module declares that directive (TLS lives in the core,
     * not here): on|off as a Boolean or {@code off|on|only} as a String.
     */
    static StartTls startTls(ServerConfig server) {
        if (!server.directiveNames().contains("starttls")) {
            return StartTls.OFF;
        }
        Object value = server.get("starttls");
        if (value instanceof Boolean on) {
            return on ? StartTls.ON : StartTls.OFF;
        }
        if (value instanceof String word) {
            switch (word.toLowerCase(java.util.Locale.ROOT)) {
                case "on":
                    return StartTls.ON;
                case "only":
                    return StartTls.ONLY;
                default:
                    return StartTls.OFF;
            }
        }
        return StartTls.OFF;
    }

    boolean enabled(AuthMethod method) {
        return authMethods.contains(method);
    }

    Set<AuthMethod> authMethods() {
        return authMethods;
    }

    int clientBuffer() {
        return clientBuffer;
    }

    /** The CAPABILITY reply line for a session, as {@code ngx_mail_imap_capability} picks it. */
    byte[] capability(boolean tls) {
        if (!tls) {
            if (startTls == StartTls.ON) {
                return starttlsCapability;
            }
            if (startTls == StartTls.ONLY) {
                return starttlsOnlyCapability;
            }
        }
        return capability;
    }

    /** The untagged ID reply, or null when ID is refused ({@code imap_id off}). */
    byte[] idReply() {
        return idReply;
    }

    StartTls startTls() {
        return startTls;
    }

    boolean passErrorMessage() {
        return passErrorMessage;
    }

    String serverName() {
        return serverName;
    }

    private static void quote(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        out.append('"');
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
