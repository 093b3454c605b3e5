package org.mailproxy.core.config;

import java.time.Duration;
import java.util.List;
import org.mailproxy.core.spi.MailModule;

/**
 * The directives of nginx's {@code ngx_mail_proxy_module}, all allowed in {@code mail} and
 * {@code server} and inherited by servers:
 * <ul>
 * <li>{@code proxy on|off} (off): parsed and never used, as in nginx;</li>
 * <li>{@code proxy_buffer size} (16k): the relay's read size and queue limit per direction.
 *     nginx's default is the memory page size (4k), because nginx gives every proxied session its
 *     buffers when the relay starts: a larger one costs memory per idle session. Here a buffer
 *     exists only while bytes are on their way (one per read, from the I/O thread's pool), so the
 *     default can be larger at no cost to idle sessions, and a relay then makes a quarter of the reads,
 *     writes and wake-ups per megabyte (bench/README.md: about a third of the CPU per GB of a
 *     4k buffer). A {@code proxy_buffer} in the configuration is honoured as it is;</li>
 * <li>{@code proxy_timeout time} (24h);</li>
 * <li>{@code proxy_pass_error_message on|off} (off);</li>
 * <li>{@code proxy_protocol off|on|v2} (off): PROXY protocol header to the backend, String value
 *     {@code "off"}, {@code "on"} (version 1) or {@code "v2"};</li>
 * <li>{@code proxy_smtp_auth on|off} (off);</li>
 * <li>{@code xclient on|off} (on).</li>
 * </ul>
 */
public final class ProxyModule implements MailModule {

    /** The module name. */
    public static final String NAME = "proxy";

    /** The default of {@code proxy_buffer}: 16 KiB (nginx: one 4 KiB page; see the class comment). */
    public static final long DEFAULT_BUFFER = 16384;

    private static final List<DirectiveSpec> DIRECTIVES = List.of(
            flag("proxy", false),
            DirectiveSpec.builder("proxy_buffer").context(Context.MAIL, Context.SERVER).size()
                    .defaultValue(DEFAULT_BUFFER).build(),
            DirectiveSpec.builder("proxy_timeout").context(Context.MAIL, Context.SERVER).time()
                    .defaultValue(Duration.ofHours(24)).build(),
            flag("proxy_pass_error_message", false),
            DirectiveSpec.builder("proxy_protocol").context(Context.MAIL, Context.SERVER).oneOf("off", "on", "v2")
                    .defaultValue("off").build(),
            flag("proxy_smtp_auth", false),
            flag("xclient", true));

    private static DirectiveSpec flag(String name, boolean value) {
        return DirectiveSpec.builder(name).context(Context.MAIL, Context.SERVER).flag().defaultValue(value).build();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<DirectiveSpec> directives() {
        return DIRECTIVES;
    }
}
