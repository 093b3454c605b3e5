package org.mailproxy.core.sasl;

/**
 * A client's SASL payload that cannot be decoded. The message is what nginx logs at info level
 * ("client sent invalid base64 encoding in AUTH PLAIN command"); the protocol replies with its
 * invalid-command line.
 */
public final class SaslException extends Exception {

    private static final long serialVersionUID = 1L;

    public SaslException(String message) {
        super(message, null, false, false);
    }
}
