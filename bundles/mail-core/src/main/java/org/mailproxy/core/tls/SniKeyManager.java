package org.mailproxy.core.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The server key manager of {@code ssl_certificate_sni}: picks the certificates of the name the
 * client asked for with SNI, else the server's {@code ssl_certificate} set.
 *
 * <p>JSSE asks {@link #chooseEngineServerAlias} once per key type it could use (RSA, EC,
 * RSASSA-PSS...) during the handshake; the requested name is read from the handshake session
 * ({@link ExtendedSSLSession#getRequestedServerNames()}). A name with certificates of its own is
 * served from those only: when none of them fits the key type JSSE asks for, the answer is null
 * and JSSE tries the next suite or signature scheme, as OpenSSL does after nginx's SNI callback
 * switched the context. A client without SNI, or with a name that matches nothing, gets the
 * default set. Matching: exact names first, then the longest wildcard ({@code *.example.com}
 * matches {@code imap.example.com} and {@code a.b.example.com}, not {@code example.com}).
 *
 * <p>Aliases are the delegate's alias behind a prefix naming the set ({@code -} the default set,
 * else the set's index), so certificate and key lookups go to the manager that chose them.
 */
final class SniKeyManager extends X509ExtendedKeyManager {

    private static final String DEFAULT = "-";

    private final X509ExtendedKeyManager fallback;
    private final List<X509ExtendedKeyManager> sets = new ArrayList<>();
    private final Map<String, Integer> exact = new LinkedHashMap<>();
    /** Wildcards by suffix (".example.com"), longest first. */
    private final Map<String, Integer> wildcards = new LinkedHashMap<>();

    /**
     * @param fallback the {@code ssl_certificate} set
     * @param byName   the manager of each name, in lower case ({@code mail.example.com}, {@code *.example.com})
     */
    SniKeyManager(X509ExtendedKeyManager fallback, Map<String, X509ExtendedKeyManager> byName) {
        this.fallback = fallback;
        List<String> suffixes = new ArrayList<>();
        Map<String, Integer> wild = new LinkedHashMap<>();
        for (Map.Entry<String, X509ExtendedKeyManager> e : byName.entrySet()) {
            sets.add(e.getValue());
            int index = sets.size() - 1;
            if (e.getKey().startsWith("*.")) {
                String suffix = e.getKey().substring(1);
                suffixes.add(suffix);
                wild.put(suffix, index);
            } else {
                exact.put(e.getKey(), index);
            }
        }
        suffixes.sort(Comparator.comparingInt(String::length).reversed());
        for (String suffix : suffixes) {
            wildcards.put(suffix, wild.get(suffix));
        }
    }

    /** The index of the set for a requested host name, or -1 for the default set. */
    int setFor(String host) {
        if (host == null) {
            return -1;
        }
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        Integer index = exact.get(name);
        if (index != null) {
            return index;
        }
        for (Map.Entry<String, Integer> w : wildcards.entrySet()) {
            if (name.endsWith(w.getKey()) && name.length() > w.getKey().length()) {
                return w.getValue();
            }
        }
        return -1;
    }

    /** The host name a client asked for with SNI in this handshake (or finished session), else null. */
    static String requestedHost(SSLSession session) {
        if (!(session instanceof ExtendedSSLSession extended)) {
            return null;
        }
        List<SNIServerName> names;
        try {
            names = extended.getRequestedServerNames();
        } catch (UnsupportedOperationException e) {
            return null;
        }
        for (SNIServerName n : names) {
            if (n.getType() == StandardConstants.SNI_HOST_NAME) {
                return n instanceof SNIHostName host ? host.getAsciiName()
                        : new SNIHostName(n.getEncoded()).getAsciiName();
            }
        }
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        int set = engine == null ? -1 : setFor(requestedHost(engine.getHandshakeSession()));
        if (set < 0) {
            return prefixed(DEFAULT, fallback.chooseEngineServerAlias(keyType, issuers, engine));
        }
        return prefixed(Integer.toString(set), sets.get(set).chooseEngineServerAlias(keyType, issuers, engine));
    }

    /** Blocking sockets are not used by the proxy: no SNI there, the default set. */
    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return prefixed(DEFAULT, fallback.chooseServerAlias(keyType, issuers, socket));
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        List<String> out = new ArrayList<>();
        add(out, DEFAULT, fallback.getServerAliases(keyType, issuers));
        for (int i = 0; i < sets.size(); i++) {
            add(out, Integer.toString(i), sets.get(i).getServerAliases(keyType, issuers));
        }
        return out.isEmpty() ? null : out.toArray(new String[0]);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        X509ExtendedKeyManager manager = manager(alias);
        return manager == null ? null : manager.getCertificateChain(inner(alias));
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        X509ExtendedKeyManager manager = manager(alias);
        return manager == null ? null : manager.getPrivateKey(inner(alias));
    }

    /** A server never chooses a client certificate. */
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    private X509ExtendedKeyManager manager(String alias) {
        int colon = alias == null ? -1 : alias.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String set = alias.substring(0, colon);
        if (set.equals(DEFAULT)) {
            return fallback;
        }
        try {
            int index = Integer.parseInt(set);
            return index >= 0 && index < sets.size() ? sets.get(index) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String inner(String alias) {
        return alias.substring(alias.indexOf(':') + 1);
    }

    private static String prefixed(String set, String alias) {
        return alias == null ? null : set + ":" + alias;
    }

    private static void add(List<String> out, String set, String[] aliases) {
        if (aliases != null) {
            for (String a : aliases) {
                out.add(prefixed(set, a));
            }
        }
    }
}
