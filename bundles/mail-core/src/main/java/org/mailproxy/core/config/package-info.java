/**
 * The nginx configuration language of the mail proxy: the lexer and parser
 * ({@link org.mailproxy.core.config.ConfigParser}), the directive tables modules declare
 * ({@link org.mailproxy.core.config.DirectiveSpec}, {@link org.mailproxy.core.config.DirectiveRegistry}),
 * validation and the merge of {@code mail} into each {@code server}
 * ({@link org.mailproxy.core.config.ConfigBuilder}), and the result
 * ({@link org.mailproxy.core.config.MailConfiguration}, {@link org.mailproxy.core.config.ServerConfig}).
 *
 * <p>Plain Java: nothing here depends on OSGi or MINA, so {@link org.mailproxy.core.config.ConfigCheck}
 * runs from a command line. Behaviour and error words follow nginx's {@code src/core/ngx_conf_file.c},
 * {@code ngx_parse.c} and {@code src/mail/ngx_mail_core_module.c}.
 */
package org.mailproxy.core.config;
