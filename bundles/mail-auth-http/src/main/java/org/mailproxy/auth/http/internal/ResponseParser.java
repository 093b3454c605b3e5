package org.mailproxy.auth.http.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads an auth_http response the way nginx does ({@code ngx_mail_auth_http_ignore_status_line},
 * {@code ngx_mail_auth_http_parse_header_line}): byte by byte, resumable across reads, into a
 * fixed buffer of {@value #LIMIT} bytes.
 *
 * <ul>
 * <li>The status line is skipped whatever it says, if the response starts with {@code HTTP/};
 *     otherwise the response is read as headers from its first byte. A CR in the status line
 *     not followed by LF is an invalid response.</li>
 * <li>Header names are letters, digits and {@code -} (starting with a letter or digit); the value
 *     starts after the spaces following {@code :} and ends before trailing spaces; a line without
 *     {@code :} is a header with an empty value. Lines may end in CRLF or LF; a CR followed by
 *     anything else, or another byte in a name, is an invalid header.</li>
 * <li>The empty line ends the headers; the body, and anything after, is never parsed (the
 *     transport may read and discard it to keep the connection, see {@link KeepAlive}).</li>
 * <li>nginx reads into a 1024-byte buffer and never enlarges it: when it is full before the
 *     headers end, its next read asks for 0 bytes, which nginx takes for a closed connection, and
 *     the login fails with an internal error (or the auth_http timeout hits first). Here a full
 *     buffer without the end of the headers is {@link Status#TOO_LARGE} at once.</li>
 * </ul>
 */
final class ResponseParser {

    /** nginx's {@code ngx_create_temp_buf(ctx->pool, 1024)}. */
    static final int LIMIT = 1024;

    /** Where the parse stands after the bytes given so far. */
    enum Status { MORE, DONE, INVALID_RESPONSE, INVALID_HEADER, TOO_LARGE }

    /** One response header: its name as sent, its value's bytes. */
    record Header(String name, byte[] value) {
        /** The value as UTF-8 text. */
        String text() {
            return new String(value, StandardCharsets.UTF_8);
        }

        /** The value's bytes, one char per byte (ISO-8859-1): Auth-User and Auth-Pass, for the backend as sent. */
        String bytesAsText() {
            return new String(value, StandardCharsets.ISO_8859_1);
        }

        boolean is(String headerName) {
            return name.equalsIgnoreCase(headerName);
        }

        @Override
        public String toString() {
            return name + ": (" + value.length + " bytes)";
        }
    }

    // status line states
    private static final int SL_START = 0;
    private static final int SL_H = 1;
    private static final int SL_HT = 2;
    private static final int SL_HTT = 3;
    private static final int SL_HTTP = 4;
    private static final int SL_SKIP = 5;
    private static final int SL_ALMOST_DONE = 6;

    // header line states
    private static final int H_START = 0;
    private static final int H_NAME = 1;
    private static final int H_SPACE_BEFORE_VALUE = 2;
    private static final int H_VALUE = 3;
    private static final int H_SPACE_AFTER_VALUE = 4;
    private static final int H_ALMOST_DONE = 5;
    private static final int H_HEADER_ALMOST_DONE = 6;

    private final byte[] buf = new byte[LIMIT];
    private int last;
    private int pos;
    private boolean inHeaders;
    private int state;
    private int nameStart;
    private int nameEnd;
    private int valueStart;
    private int valueEnd;
    /** Where the status line ends (before its CR or LF); -1 while unknown or when there is none. */
    private int statusLineEnd = -1;
    private Status status = Status.MORE;
    private final List<Header> headers = new ArrayList<>();

    /**
     * Takes the next bytes read (as many as fit) and parses them.
     *
     * @return the status; once it is not {@link Status#MORE} further input is ignored
     */
    Status feed(ByteBuffer data) {
        if (status != Status.MORE) {
            return status;
        }
        int n = Math.min(LIMIT - last, data.remaining());
        data.get(buf, last, n);
        last += n;
        status = parse();
        if (status == Status.MORE && last == LIMIT) {
            status = Status.TOO_LARGE;
        }
        return status;
    }

    Status status() {
        return status;
    }

    /** The headers read so far, in order. */
    List<Header> headers() {
        return headers;
    }

    /**
     * The status line without its line end ({@code HTTP/1.1 200 OK}), once the headers are read;
     * null when the response did not start with {@code HTTP/} (nginx then reads it as headers).
     */
    String statusLineText() {
        return status == Status.DONE && statusLineEnd >= 0
                ? new String(buf, 0, statusLineEnd, StandardCharsets.ISO_8859_1) : null;
    }

    /**
     * Once the headers are read: how many bytes after the empty line were taken into the buffer
     * (the start of the body). Bytes that did not fit are still in the buffer given to
     * {@link #feed}.
     */
    int bodyBytesRead() {
        return status == Status.DONE ? last - pos : 0;
    }

    private Status parse() {
        if (!inHeaders) {
            Status s = statusLine();
            if (s != null) {
                return s;
            }
        }
        while (true) {
            int rc = headerLine();
            if (rc == H_OK) {
                headers.add(new Header(new String(buf, nameStart, nameEnd - nameStart, StandardCharsets.ISO_8859_1),
                        Arrays.copyOfRange(buf, valueStart, valueEnd)));
                continue;
            }
            if (rc == H_DONE) {
                return Status.DONE;
            }
            if (rc == H_AGAIN) {
                return Status.MORE;
            }
            return Status.INVALID_HEADER;
        }
    }

    /** Skips the status line; null when done with it (go on with headers), else the status to return. */
    private Status statusLine() {
        int p;
        for (p = pos; p < last; p++) {
            byte ch = buf[p];
            switch (state) {
            case SL_START:
                if (ch != 'H') {
                    return restartAsHeaders();
                }
                state = SL_H;
                break;
            case SL_H:
                if (ch != 'T') {
                    return restartAsHeaders();
                }
                state = SL_HT;
                break;
            case SL_HT:
                if (ch != 'T') {
                    return restartAsHeaders();
                }
                state = SL_HTT;
                break;
            case SL_HTT:
                if (ch != 'P') {
                    return restartAsHeaders();
                }
                state = SL_HTTP;
                break;
            case SL_HTTP:
                if (ch != '/') {
                    return restartAsHeaders();
                }
                state = SL_SKIP;
                break;
            case SL_SKIP:
                if (ch == '\r') {
                    statusLineEnd = p;
                    state = SL_ALMOST_DONE;
                } else if (ch == '\n') {
                    statusLineEnd = p;
                    return statusLineDone(p + 1);
                }
                break;
            default: // SL_ALMOST_DONE
                if (ch == '\n') {
                    return statusLineDone(p + 1);
                }
                return Status.INVALID_RESPONSE;
            }
        }
        pos = p;
        return Status.MORE;
    }

    /** Not {@code HTTP/}: nginx reads the whole buffer as headers from its start. */
    private Status restartAsHeaders() {
        statusLineEnd = -1;
        return statusLineDone(0);
    }

    private Status statusLineDone(int next) {
        pos = next;
        state = H_START;
        inHeaders = true;
        return null;
    }

    private static final int H_OK = 0;
    private static final int H_DONE = 1;
    private static final int H_AGAIN = 2;
    private static final int H_ERROR = 3;

    private int headerLine() {
        int p;
        for (p = pos; p < last; p++) {
            byte ch = buf[p];
            switch (state) {
            case H_START:
                if (ch == '\r') {
                    state = H_HEADER_ALMOST_DONE;
                    break;
                }
                if (ch == '\n') {
                    return lineEnd(p, H_DONE);
                }
                state = H_NAME;
                nameStart = p;
                if (isLetter(ch) || isDigit(ch)) {
                    break;
                }
                return H_ERROR;
            case H_NAME:
                if (isLetter(ch) || ch == '-' || isDigit(ch)) {
                    break;
                }
                if (ch == ':') {
                    nameEnd = p;
                    state = H_SPACE_BEFORE_VALUE;
                    break;
                }
                if (ch == '\r') {
                    nameEnd = p;
                    valueStart = p;
                    valueEnd = p;
                    state = H_ALMOST_DONE;
                    break;
                }
                if (ch == '\n') {
                    nameEnd = p;
                    valueStart = p;
                    valueEnd = p;
                    return lineEnd(p, H_OK);
                }
                return H_ERROR;
            case H_SPACE_BEFORE_VALUE:
                if (ch == ' ') {
                    break;
                }
                if (ch == '\r') {
                    valueStart = p;
                    valueEnd = p;
                    state = H_ALMOST_DONE;
                    break;
                }
                if (ch == '\n') {
                    valueStart = p;
                    valueEnd = p;
                    return lineEnd(p, H_OK);
                }
                valueStart = p;
                state = H_VALUE;
                break;
            case H_VALUE:
                if (ch == ' ') {
                    valueEnd = p;
                    state = H_SPACE_AFTER_VALUE;
                } else if (ch == '\r') {
                    valueEnd = p;
                    state = H_ALMOST_DONE;
                } else if (ch == '\n') {
                    valueEnd = p;
                    return lineEnd(p, H_OK);
                }
                break;
            case H_SPACE_AFTER_VALUE:
                if (ch == ' ') {
                    break;
                }
                if (ch == '\r') {
                    state = H_ALMOST_DONE;
                    break;
                }
                if (ch == '\n') {
                    return lineEnd(p, H_OK);
                }
                state = H_VALUE;
                break;
            case H_ALMOST_DONE:
                if (ch == '\n') {
                    return lineEnd(p, H_OK);
                }
                return H_ERROR;
            default: // H_HEADER_ALMOST_DONE
                if (ch == '\n') {
                    return lineEnd(p, H_DONE);
                }
                return H_ERROR;
            }
        }
        pos = p;
        return H_AGAIN;
    }

    private int lineEnd(int p, int rc) {
        pos = p + 1;
        state = H_START;
        return rc;
    }

    private static boolean isLetter(byte ch) {
        int c = (ch | 0x20) & 0xff;
        return c >= 'a' && c <= 'z';
    }

    private static boolean isDigit(byte ch) {
        return ch >= '0' && ch <= '9';
    }
}
