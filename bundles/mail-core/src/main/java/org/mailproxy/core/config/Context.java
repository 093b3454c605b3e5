package org.mailproxy.core.config;

/**
 * Where a directive may appear, as nginx's {@code NGX_MAIN_CONF}, {@code NGX_MAIL_MAIN_CONF} and
 * {@code NGX_MAIL_SRV_CONF}.
 */
public enum Context {
    /** The top level of the file, outside any block. */
    MAIN,
    /** Directly inside {@code mail { }}. */
    MAIL,
    /** Inside {@code mail { server { } }}. */
    SERVER
}
