package org.mailproxy.core.spi;

import java.util.concurrent.CompletionStage;
import org.mailproxy.core.config.ServerConfig;

/**
 * Decides whether a login is accepted and where it goes (nginx: {@code auth_http}). Implemented by
 * the auth bundle as a DS service; the protocols call it through {@code MailSession}.
 */
public interface Authenticator extends MailModule {

    /**
     * Asks the auth server about {@code request} under the settings of {@code server}.
     * The stage completes on an I/O thread that is not the caller's; it never completes
     * exceptionally: failures are {@link AuthResult.TemporaryError}.
     */
    CompletionStage<AuthResult> authenticate(AuthRequest request, ServerConfig server);
}
