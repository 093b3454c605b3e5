package org.mailproxy.core.config;

/**
 * A configuration error, worded as nginx words it.
 *
 * <p>{@link #getMessage()} is nginx's full text, {@code unknown directive "foo" in /etc/mail.conf:3};
 * {@link #reason()} is the same without the position. A null file means the text did not come from a
 * file (a Config Admin value, a test string) and the message has no position.
 */
public class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String reason;
    private final String file;
    private final int line;

    /**
     * @param message the text without position, e.g. {@code "timeout" directive invalid value}
     * @param file    the configuration file, or null
     * @param line    the line in that file
     */
    public ConfigException(String message, String file, int line) {
        super(message);
        this.reason = message;
        this.file = file;
        this.line = line;
    }

    /** An error that has no position, e.g. a main file that cannot be opened. */
    public ConfigException(String message) {
        this(message, null, 0);
    }

    @Override
    public String getMessage() {
        return file == null ? reason : reason + " in " + file + ":" + line;
    }

    /** The text without the {@code in FILE:LINE} suffix. */
    public String reason() {
        return reason;
    }

    /** The file the error is in, or null. */
    public String file() {
        return file;
    }

    /** The line the error is on, 0 when there is no file. */
    public int line() {
        return line;
    }
}
