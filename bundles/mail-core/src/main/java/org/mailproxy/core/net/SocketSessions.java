package org.mailproxy.core.net;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.channels.SocketChannel;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.service.IoService;
import org.apache.mina.core.service.TransportMetadata;
import org.apache.mina.transport.socket.nio.NioSession;

/**
 * MINA's TCP session, for the connections the core accepts and connects itself: MINA's class,
 * NioSocketSession, is package-private (its acceptor and connector create it), so its public
 * constructor is reached once by reflection, as {@code InlineTlsHandlers} does for MINA's TLS
 * handler. A MINA without it fails at the first listener or connector created, in every test.
 */
public final class SocketSessions {

    /** {@code new NioSocketSession(IoService, IoProcessor, SocketChannel)}. */
    private static final MethodHandle NEW_SESSION;

    /** The metadata of MINA's socket sessions (what its socket acceptor and connector report). */
    public static final TransportMetadata METADATA;

    static {
        try {
            Class<?> type = Class.forName("org.apache.mina.transport.socket.nio.NioSocketSession", false,
                    NioSession.class.getClassLoader());
            Constructor<?> constructor = type.getConstructor(IoService.class, IoProcessor.class, SocketChannel.class);
            constructor.setAccessible(true);
            NEW_SESSION = MethodHandles.lookup().unreflectConstructor(constructor).asType(
                    MethodType.methodType(NioSession.class, IoService.class, IoProcessor.class, SocketChannel.class));
            Field metadata = type.getDeclaredField("METADATA");
            metadata.setAccessible(true);
            METADATA = (TransportMetadata) metadata.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private SocketSessions() {
    }

    /** A MINA session of {@code service} for a connected channel, served by {@code processor}. */
    public static NioSession newSession(IoService service, IoProcessor<NioSession> processor, SocketChannel channel)
            throws Exception {
        try {
            return (NioSession) NEW_SESSION.invoke(service, processor, channel);
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
