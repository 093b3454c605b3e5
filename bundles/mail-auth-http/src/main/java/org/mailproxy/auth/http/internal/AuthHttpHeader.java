package org.mailproxy.auth.http.internal;

import org.mailproxy.core.config.Directive;

/**
 * One {@code auth_http_header name value}: a line {@code name: value} added, as written, at the end
 * of every request (nginx: {@code ngx_mail_auth_http_header}, joined in its merge function).
 */
record AuthHttpHeader(String name, String value) {

    static AuthHttpHeader parse(Directive d) {
        return new AuthHttpHeader(d.arg(0), d.arg(1));
    }
}
