package org.mailproxy.core.config;

import java.time.Duration;
import java.util.List;
import org.mailproxy.core.spi.MailModule;

/**
 * The directives of nginx's {@code ngx_mail_module} and {@code ngx_mail_core_module}: {@code mail},
 * {@code server}, {@code listen}, {@code protocol}, {@code server_name}, {@code timeout},
 * {@code max_errors}, {@code max_commands} and {@code error_log}. {@code resolver} and
 * {@code resolver_timeout}, also core in nginx, belong to the resolver bundle here.
 *
 * <p>Values: {@code listen} a List of {@link ListenSpec} (all listens of the server),
 * {@code protocol} and {@code server_name} a String, {@code timeout} a Duration,
 * {@code max_errors} and {@code max_commands} an Integer, {@code error_log} a List of
 * {@link ErrorLog}, {@code error_log_user_tag} (Angie) a List of String: the tags the server's
 * messages carry after {@code mail}, for {@code filter=tag:} and the JSON {@code tags}.
 */
public final class CoreModule implements MailModule {

    /** The module name. */
    public static final String NAME = "core";

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            DirectiveSpec.builder("mail").context(Context.MAIN).block().build(),
            DirectiveSpec.builder("server").context(Context.MAIL).block().build(),
            DirectiveSpec.builder("listen").context(Context.SERVER).oneOrMore().accumulating()
                    .parser(ListenParser::parse).serverOnly().build(),
            DirectiveSpec.builder("protocol").context(Context.SERVER).takes(1)
                    .parser(CoreModule::protocol).serverOnly().build(),
            DirectiveSpec.builder("server_name").context(Context.MAIL, Context.SERVER).takes(1)
                    .parser(d -> d.arg(0).isEmpty() ? Hostname.get() : d.arg(0))
                    .defaultValue(Hostname::get).build(),
            DirectiveSpec.builder("timeout").context(Context.MAIL, Context.SERVER).time()
                    .defaultValue(Duration.ofSeconds(60)).build(),
            DirectiveSpec.builder("max_errors").context(Context.MAIL, Context.SERVER).number()
                    .defaultValue(5).build(),
            DirectiveSpec.builder("max_commands").context(Context.MAIL, Context.SERVER).number()
                    .defaultValue(1000).build(),
            DirectiveSpec.builder("error_log").context(Context.MAIN, Context.MAIL, Context.SERVER).oneOrMore()
                    .repeatable().parser(ErrorLog::parse).build(),
            DirectiveSpec.builder("error_log_user_tag").context(Context.MAIL, Context.SERVER).takes(1)
                    .repeatable().parser(CoreModule::userTag).build());

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }

    /** Angie's {@code error_log_user_tag "NAME"}: a literal here, the mail module has no variables. */
    private static String userTag(Directive d) throws ConfigException {
        String tag = d.arg(0);
        if (tag.isEmpty()) {
            throw d.error("empty tag in \"error_log_user_tag\" directive");
        }
        if (tag.indexOf('$') >= 0) {
            throw d.error("variables are not supported in \"error_log_user_tag\" (\"" + tag + "\")");
        }
        return tag;
    }

    /** {@code protocol imap|pop3|smtp}, known whether or not the protocol's bundle runs. */
    private static String protocol(Directive d) throws ConfigException {
        String name = d.arg(0);
        if (OptionalModules.protocol(name).isEmpty()) {
            throw d.error("unknown protocol \"" + name + "\"");
        }
        return name;
    }
}
