package org.mailproxy.core.tls;

import java.lang.reflect.Constructor;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;
import org.apache.mina.core.session.IoSession;

/**
 * MINA 2.2.4's TLS handler (the package-private {@code SSLHandlerG1}) without an executor: its
 * delegated handshake tasks then run on the I/O thread that read the handshake bytes, and every
 * record leaves in the order it was made (see {@link ServerTls}). nginx, too, checks certificates
 * on its worker thread. Reflection because MINA has no public way to choose the executor.
 */
final class InlineTlsHandlers {

    private static final Constructor<?> G1 = constructor();

    private InlineTlsHandlers() {
    }

    static Object create(SSLEngine engine, IoSession session) {
        try {
            return G1.newInstance(engine, null, session);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("MINA's SSLHandlerG1 could not be created", e);
        }
    }

    private static Constructor<?> constructor() {
        try {
            Constructor<?> c = Class.forName("org.apache.mina.filter.ssl.SSLHandlerG1")
                    .getDeclaredConstructor(SSLEngine.class, Executor.class, IoSession.class);
            c.setAccessible(true);
            return c;
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
