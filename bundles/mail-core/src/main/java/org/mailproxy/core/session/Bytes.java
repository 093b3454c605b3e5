package org.mailproxy.core.session;

import java.nio.charset.StandardCharsets;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.IoSession;

/** Writing to a connection without needless copies; MINA refuses empty buffers, so they are skipped. */
final class Bytes {

    private Bytes() {
    }

    static void write(IoSession connection, byte[] bytes) {
        if (bytes.length > 0) {
            connection.write(IoBuffer.wrap(bytes));
        }
    }

    static void write(IoSession connection, CharSequence text) {
        if (text.length() > 0) {
            connection.write(encode(text));
        }
    }

    static void write(IoSession connection, IoBuffer data) {
        if (data != null && data.hasRemaining()) {
            connection.write(data);
        }
    }

    /** UTF-8, with a direct path for the ASCII that mail replies are made of. */
    static IoBuffer encode(CharSequence text) {
        int length = text.length();
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                return IoBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            }
            bytes[i] = (byte) c;
        }
        return IoBuffer.wrap(bytes);
    }

    /** {@code first} followed by {@code second}; either may be null. */
    static IoBuffer concat(IoBuffer first, IoBuffer second) {
        if (first == null || !first.hasRemaining()) {
            return second;
        }
        if (second == null || !second.hasRemaining()) {
            return first;
        }
        IoBuffer joined = IoBuffer.allocate(first.remaining() + second.remaining());
        joined.put(first).put(second).flip();
        return joined;
    }
}
