package org.mailproxy.core.config;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What a module declares about one directive, as an nginx {@code ngx_command_t} plus the default
 * and merge rule of its {@code merge_srv_conf}: where it may appear, how many arguments it takes
 * or whether it is a block, whether it may repeat, how its value is parsed, its default, and
 * whether a server inherits it from {@code mail}.
 *
 * <pre>
 * DirectiveSpec.builder("timeout").context(Context.MAIL, Context.SERVER)
 *         .time().defaultValue(java.time.Duration.ofSeconds(60)).build();
 * </pre>
 */
public final class DirectiveSpec {

    /** How a server gets a value it does not set itself. */
    public enum Inheritance {
        /** From the {@code mail} level, else the default (nginx's {@code ngx_conf_merge_*_value}). */
        INHERIT,
        /** Never from {@code mail}: the server's own value or the default. */
        SERVER_ONLY
    }

    /** What a second occurrence in the same block means. */
    public enum Repeat {
        /** An error: {@code "x" directive is duplicate}. */
        ONCE,
        /** Each occurrence adds its value; the value is a List of the occurrences' values. */
        LIST,
        /** Each occurrence's value is a List; the value is their concatenation (nginx's array push). */
        CONCAT
    }

    private final String name;
    private final Set<Context> contexts;
    private final int minArgs;
    private final int maxArgs;
    private final boolean block;
    private final Repeat repeat;
    private final ValueParser<?> parser;
    private final Supplier<?> defaultValue;
    private final Inheritance inheritance;

    private DirectiveSpec(Builder b) {
        this.name = b.name;
        this.contexts = Set.copyOf(b.contexts);
        this.minArgs = b.minArgs;
        this.maxArgs = b.maxArgs;
        this.block = b.block;
        this.repeat = b.repeat;
        this.parser = b.parser;
        this.inheritance = b.inheritance;
        if (b.defaultValue == null && repeat != Repeat.ONCE) {
            this.defaultValue = List::of;
        } else {
            this.defaultValue = b.defaultValue;
        }
    }

    /** Starts a spec; by default it takes one argument, parsed as a string, once, and inherits. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    public String name() {
        return name;
    }

    public Set<Context> contexts() {
        return contexts;
    }

    public boolean allowedIn(Context context) {
        return contexts.contains(context);
    }

    public int minArgs() {
        return minArgs;
    }

    /** The most arguments allowed; {@link Integer#MAX_VALUE} for "one or more". */
    public int maxArgs() {
        return maxArgs;
    }

    public boolean isBlock() {
        return block;
    }

    public Repeat repeat() {
        return repeat;
    }

    public boolean isRepeatable() {
        return repeat != Repeat.ONCE;
    }

    public Inheritance inheritance() {
        return inheritance;
    }

    public boolean hasDefault() {
        return defaultValue != null;
    }

    /** The default value (computed now when it is computed), or null when there is none. */
    public Object defaultValue() {
        return defaultValue == null ? null : defaultValue.get();
    }

    /** Checks the argument count: {@code invalid number of arguments in "listen" directive}. */
    public void checkArgs(Directive d) throws ConfigException {
        int n = d.args().size();
        if (n < minArgs || n > maxArgs) {
            throw d.error("invalid number of arguments in \"" + name + "\" directive");
        }
    }

    /** Parses one occurrence; null for a block directive. */
    public Object parse(Directive d) throws ConfigException {
        return parser == null ? null : parser.parse(d);
    }

    @Override
    public String toString() {
        return "DirectiveSpec[" + name + " " + contexts + (block ? " block" : " args " + minArgs + ".."
                + (maxArgs == Integer.MAX_VALUE ? "n" : maxArgs)) + " " + repeat + " " + inheritance + "]";
    }

    /** Fluent builder of a {@link DirectiveSpec}. */
    public static final class Builder {
        private final String name;
        private final Set<Context> contexts = EnumSet.noneOf(Context.class);
        private int minArgs = 1;
        private int maxArgs = 1;
        private boolean block;
        private Repeat repeat = Repeat.ONCE;
        private ValueParser<?> parser = Values.string();
        private Supplier<?> defaultValue;
        private Inheritance inheritance = Inheritance.INHERIT;

        private Builder(String name) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("a directive needs a name");
            }
            this.name = name;
        }

        /** Where the directive may appear. */
        public Builder context(Context... where) {
            contexts.addAll(List.of(where));
            return this;
        }

        /** No arguments ({@code NGX_CONF_NOARGS}). */
        public Builder noArgs() {
            return args(0, 0);
        }

        /** Exactly n arguments ({@code NGX_CONF_TAKEn}). */
        public Builder takes(int n) {
            return args(n, n);
        }

        /** From min to max arguments ({@code NGX_CONF_TAKE12}, {@code NGX_CONF_TAKE123}, ...). */
        public Builder args(int min, int max) {
            if (min < 0 || max < min) {
                throw new IllegalArgumentException("bad argument range " + min + ".." + max);
            }
            this.minArgs = min;
            this.maxArgs = max;
            return this;
        }

        /** One or more arguments ({@code NGX_CONF_1MORE}). */
        public Builder oneOrMore() {
            return args(1, Integer.MAX_VALUE);
        }

        /** Two or more arguments ({@code NGX_CONF_2MORE}). */
        public Builder twoOrMore() {
            return args(2, Integer.MAX_VALUE);
        }

        /** Any number of arguments, none included ({@code NGX_CONF_ANY}). */
        public Builder anyArgs() {
            return args(0, Integer.MAX_VALUE);
        }

        /** A block directive with no arguments ({@code NGX_CONF_BLOCK|NGX_CONF_NOARGS}); it has no value. */
        public Builder block() {
            this.block = true;
            this.parser = null;
            return noArgs();
        }

        /** Occurrences are collected into a List value. */
        public Builder repeatable() {
            this.repeat = Repeat.LIST;
            return this;
        }

        /** Occurrences' List values are concatenated (the parser must return a List). */
        public Builder accumulating() {
            this.repeat = Repeat.CONCAT;
            return this;
        }

        /** The value parser; see {@link Values}. */
        public Builder parser(ValueParser<?> p) {
            this.parser = Objects.requireNonNull(p, "parser");
            return this;
        }

        /** One argument, {@code on|off}, to Boolean ({@code NGX_CONF_FLAG}). */
        public Builder flag() {
            return takes(1).parser(Values.flag());
        }

        /** One argument, a number, to Integer. */
        public Builder number() {
            return takes(1).parser(Values.number());
        }

        /** One argument, a size, to Long bytes. */
        public Builder size() {
            return takes(1).parser(Values.size());
        }

        /** One argument, a time with millisecond precision, to Duration. */
        public Builder time() {
            return takes(1).parser(Values.time());
        }

        /** One argument, a time with second precision, to Duration. */
        public Builder seconds() {
            return takes(1).parser(Values.seconds());
        }

        /** One argument, as a String. */
        public Builder string() {
            return takes(1).parser(Values.string());
        }

        /** One argument out of fixed words, to String. */
        public Builder oneOf(String... words) {
            return takes(1).parser(Values.oneOf(words));
        }

        /** One or more arguments, to a List of String. */
        public Builder words() {
            return oneOrMore().parser(Values.words());
        }

        /** One or more arguments out of fixed words, to a List of String. */
        public Builder wordsOf(String... words) {
            return oneOrMore().parser(Values.wordsOf(words));
        }

        /** A fixed default value. */
        public Builder defaultValue(Object value) {
            Objects.requireNonNull(value, "default");
            this.defaultValue = () -> value;
            return this;
        }

        /** A default computed when a configuration is built (e.g. the host name). */
        public Builder defaultValue(Supplier<?> value) {
            this.defaultValue = Objects.requireNonNull(value, "default");
            return this;
        }

        /** A server without its own value takes the mail-level one (the default). */
        public Builder inherit() {
            this.inheritance = Inheritance.INHERIT;
            return this;
        }

        /** A server never takes the mail-level value. */
        public Builder serverOnly() {
            this.inheritance = Inheritance.SERVER_ONLY;
            return this;
        }

        public DirectiveSpec build() {
            if (contexts.isEmpty()) {
                throw new IllegalStateException("directive \"" + name + "\" has no context");
            }
            return new DirectiveSpec(this);
        }
    }
}
