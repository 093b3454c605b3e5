package org.mailproxy.pop3;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.mailproxy.core.config.ServerConfig;

/**
 * The POP3 settings of one server with every reply that depends only on the configuration built
 * once, as {@code ngx_mail_pop3_merge_srv_conf} does: the three CAPA variants (plain, with STLS,
 * and the starttls-only one without USER and SASL) and the AUTH mechanism list.
 */
final class Pop3Config {

    /**
     * The mechanisms in nginx's bit order ({@code NGX_MAIL_AUTH_*_ENABLED}), which is the order of
     * the SASL line and of the AUTH list. {@code plain} enables PLAIN and LOGIN; APOP is no SASL
     * mechanism.
     */
    enum Mechanism {
        PLAIN("PLAIN"), LOGIN("LOGIN"), APOP(null), CRAM_MD5("CRAM-MD5"), EXTERNAL("EXTERNAL"),
        XOAUTH2("XOAUTH2"), OAUTHBEARER("OAUTHBEARER");

        final String saslName;

        Mechanism(String saslName) {
            this.saslName = saslName;
        }
    }

    /** The {@code starttls} setting of the ssl module: off when that module is absent. */
    enum Starttls { OFF, ON, ONLY }

    private final ServerConfig server;
    private final Set<Mechanism> mechanisms;
    private final List<String> capabilities;
    private final byte[] capability;
    private final byte[] starttlsCapability;
    private final byte[] starttlsOnlyCapability;
    private final byte[] authCapability;
    private final String serverName;
    private final int clientBuffer;
    private final boolean passErrorMessage;
    private final Starttls starttls;

    private Pop3Config(ServerConfig server) {
        this.server = server;
        this.mechanisms = mechanisms(server.get(Pop3Protocol.AUTH));
        this.capabilities = List.copyOf(server.<List<String>>get(Pop3Protocol.CAPABILITIES));
        this.serverName = server.string("server_name");
        this.clientBuffer = Math.toIntExact(server.size(Pop3Protocol.CLIENT_BUFFER));
        this.passErrorMessage = server.flag("proxy_pass_error_message");
        this.starttls = starttls(server);
        this.capability = ascii(capa(true, false));
        this.starttlsCapability = ascii(capa(true, true));
        this.starttlsOnlyCapability = ascii(capa(false, true));
        this.authCapability = ascii(authList());
    }

    /** Builds the settings of a merged pop3 server. */
    static Pop3Config of(ServerConfig server) {
        return new Pop3Config(server);
    }

    private static Set<Mechanism> mechanisms(List<String> words) {
        Set<Mechanism> set = EnumSet.noneOf(Mechanism.class);
        for (String word : words) {
            switch (word) {
            case "plain" -> {
                set.add(Mechanism.PLAIN);
                set.add(Mechanism.LOGIN);
            }
            case "apop" -> set.add(Mechanism.APOP);
            case "cram-md5" -> set.add(Mechanism.CRAM_MD5);
            case "external" -> set.add(Mechanism.EXTERNAL);
            case "xoauth2" -> set.add(Mechanism.XOAUTH2);
            case "oauthbearer" -> set.add(Mechanism.OAUTHBEARER);
            default -> throw new IllegalArgumentException("pop3_auth " + word);
            }
        }
        return set;
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
     * {@code +OK Capability list follows}, the capabilities, then the SASL line ({@code withSasl})
     * and STLS ({@code stls}); without SASL it is the starttls-only variant, which also drops USER.
     */
    private String capa(boolean withSasl, boolean stls) {
        StringBuilder out = new StringBuilder("+OK Capability list follows\r\n");
        for (String c : capabilities) {
            if (!withSasl && c.equalsIgnoreCase("USER")) {
                continue;
            }
            out.append(c).append("\r\n");
        }
        if (withSasl) {
            out.append("SASL");
            for (Mechanism m : mechanisms) {
                if (m.saslName != null) {
                    out.append(' ').append(m.saslName);
                }
            }
            out.append("\r\n");
        }
        if (stls) {
            out.append("STLS\r\n");
        }
        return out.append(".\r\n").toString();
    }

    /** The reply to a bare AUTH: one SASL mechanism per line. */
    private String authList() {
        StringBuilder out = new StringBuilder("+OK methods supported:\r\n");
        for (Mechanism m : mechanisms) {
            if (m.saslName != null) {
                out.append(m.saslName).append("\r\n");
            }
        }
        return out.append(".\r\n").toString();
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

    /** Whether the greeting carries a salt: apop or cram-md5 is enabled. */
    boolean salted() {
        return enabled(Mechanism.APOP) || enabled(Mechanism.CRAM_MD5);
    }

    /** The CAPA reply: with STLS while {@code starttls} is on (only-variant for {@code only}) and the connection is not TLS yet. */
    byte[] capability(boolean offerStls) {
        if (offerStls) {
            if (starttls == Starttls.ON) {
                return starttlsCapability;
            }
            if (starttls == Starttls.ONLY) {
                return starttlsOnlyCapability;
            }
        }
        return capability;
    }

    byte[] authCapability() {
        return authCapability;
    }

    String serverName() {
        return serverName;
    }

    int clientBuffer() {
        return clientBuffer;
    }

    boolean passErrorMessage() {
        return passErrorMessage;
    }

    Starttls starttls() {
        return starttls;
    }
}
