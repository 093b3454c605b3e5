package org.mailproxy.core.config;

/**
 * Turns one occurrence of a directive into its typed value, as an nginx {@code set} handler
 * ({@code ngx_conf_set_flag_slot}, {@code ngx_conf_set_msec_slot}, a module's own function) does.
 * The number of arguments is already checked. Ready-made parsers are in {@link Values}.
 *
 * @param <T> the value type
 */
@FunctionalInterface
public interface ValueParser<T> {

    /**
     * @param directive the occurrence, with its arguments and position
     * @return the value, never null
     * @throws ConfigException with nginx's words, usually {@link Directive#invalid(String)} or
     *                         {@link Directive#error(String)}
     */
    T parse(Directive directive) throws ConfigException;
}
