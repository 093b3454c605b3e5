package org.mailproxy.core.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * {@code ssl_verify_client}, done as nginx does it with OpenSSL: the handshake accepts whatever
 * certificate the client sends (nginx's verify callback always returns 1), the result of the
 * verification is recorded, and after the handshake the session decides: with {@code on} a
 * failed or missing certificate, with {@code optional} a failed one, gets the protocol's
 * certificate error and the connection closes; {@code optional_no_ca} lets a certificate whose
 * issuer is unknown through (OpenSSL's "optional" verify errors), and the auth server sees
 * {@code Auth-SSL-Verify: FAILED:...}.
 *
 * <p>Trust: the certificates of {@code ssl_client_certificate} and {@code ssl_trusted_certificate};
 * self-signed ones are anchors, the others intermediates, as in an OpenSSL X509_STORE.
 * Only {@code ssl_client_certificate}'s are sent to the client as acceptable issuers.
 * {@code ssl_crl} turns on revocation checking against those CRLs. {@code ssl_verify_depth}
 * limits the certificates between the client's and the anchor.
 */
final class ClientCertVerifier {

    /** The modes of {@code ssl_verify_client}. */
    enum Mode {
        OFF, ON, OPTIONAL, OPTIONAL_NO_CA;

        static Mode of(String word) {
            return valueOf(word.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** The recorded result: {@code verify} as sent in Auth-SSL-Verify; whether the session must refuse. */
    record Result(String verify, boolean reject, boolean noCertificate) {
    }

    private static final String RESULT_KEY = "org.mailproxy.verify";

    private final Mode mode;
    private final int depth;
    private final Set<TrustAnchor> anchors;
    private final List<Object> storeContent;
    private final X509Certificate[] advertised;
    private final boolean revocation;

    ClientCertVerifier(Mode mode, int depth, List<X509Certificate> trusted, List<X509Certificate> advertised,
                       List<X509CRL> crls) {
        this.mode = mode;
        this.depth = depth;
        this.anchors = new HashSet<>();
        this.storeContent = new ArrayList<>(crls);
        for (X509Certificate c : trusted) {
            if (c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
                anchors.add(new TrustAnchor(c, null));
            } else {
                storeContent.add(c);
            }
        }
        this.advertised = advertised.toArray(new X509Certificate[0]);
        this.revocation = !crls.isEmpty();
    }

    static ClientCertVerifier off() {
        return new ClientCertVerifier(Mode.OFF, 1, List.of(), List.of(), List.of());
    }

    Mode mode() {
        return mode;
    }

    /** The trust manager of the context: accepts every client certificate (the result is checked after). */
    TrustManager trustManager() {
        return new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                    throws java.security.cert.CertificateException {
                throw new java.security.cert.CertificateException("server certificates are not checked here");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws java.security.cert.CertificateException {
                throw new java.security.cert.CertificateException("server certificates are not checked here");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType)
                    throws java.security.cert.CertificateException {
                throw new java.security.cert.CertificateException("server certificates are not checked here");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return advertised.clone();
            }
        };
    }

    /** The verification of a finished handshake's client certificate, computed once per TLS session. */
    Result verify(SSLSession session) {
        if (mode == Mode.OFF) {
            return new Result(null, false, false);
        }
        Object cached = session.getValue(RESULT_KEY);
        if (cached instanceof Result r) {
            return r;
        }
        Result result = compute(session);
        session.putValue(RESULT_KEY, result);
        return result;
    }

    private Result compute(SSLSession session) {
        X509Certificate[] chain;
        try {
            Certificate[] peer = session.getPeerCertificates();
            chain = Arrays.copyOf(peer, peer.length, X509Certificate[].class);
        } catch (SSLPeerUnverifiedException e) {
            return new Result("NONE", mode == Mode.ON, mode == Mode.ON);
        }
        String failure = check(chain);
        if (failure == null) {
            return new Result("SUCCESS", false, false);
        }
        boolean optionalError = failure.equals(SELF_SIGNED) || failure.equals(NO_ISSUER);
        boolean reject = !(mode == Mode.OPTIONAL_NO_CA && optionalError);
        return new Result("FAILED:" + failure, reject, false);
    }

    private static final String SELF_SIGNED = "self-signed certificate";
    private static final String NO_ISSUER = "unable to get local issuer certificate";

    /** Null when the chain verifies, else OpenSSL's words for why not. */
    private String check(X509Certificate[] chain) {
        X509Certificate leaf = chain[0];
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            return "certificate has expired";
        } catch (CertificateNotYetValidException e) {
            return "certificate is not yet valid";
        }
        boolean selfSigned = leaf.getSubjectX500Principal().equals(leaf.getIssuerX500Principal());
        if (anchors.isEmpty()) {
            return selfSigned ? SELF_SIGNED : NO_ISSUER;
        }
        CertPath path;
        try {
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(leaf);
            PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, target);
            List<Object> content = new ArrayList<>(storeContent);
            content.addAll(Arrays.asList(chain));
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(content)));
            params.setRevocationEnabled(false);
            PKIXCertPathBuilderResult built = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(params);
            path = built.getCertPath();
        } catch (GeneralSecurityException e) {
            return selfSigned ? SELF_SIGNED : NO_ISSUER;
        }
        if (path.getCertificates().size() > depth) {
            return "certificate chain too long";
        }
        if (revocation) {
            try {
                PKIXParameters params = new PKIXParameters(anchors);
                params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(storeContent)));
                params.setRevocationEnabled(true);
                CertPathValidator.getInstance("PKIX").validate(path, params);
            } catch (CertPathValidatorException e) {
                if (e.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
                    return "certificate revoked";
                }
                if (e.getReason() == CertPathValidatorException.BasicReason.UNDETERMINED_REVOCATION_STATUS) {
                    return "unable to get certificate CRL";
                }
                return e.getMessage();
            } catch (GeneralSecurityException e) {
                return e.getMessage();
            }
        }
        return null;
    }
}
