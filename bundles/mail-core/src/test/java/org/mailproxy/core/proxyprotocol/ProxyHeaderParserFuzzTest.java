package org.mailproxy.core.proxyprotocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes {@link ProxyHeaderParser}, the first bytes of every connection on a
 * {@code proxy_protocol} listener, v1 and v2. The parser sees a growing prefix of what arrived;
 * its answer must be consistent as the prefix grows: once complete, the same header of the same
 * length; once broken, broken; a complete header never longer than what arrived or than nginx
 * reads; a broken one always with a log text.
 */
class ProxyHeaderParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void aGrowingPrefixNeverChangesTheAnswer(FuzzedDataProvider data) {
        int cut = data.consumeInt(0, ProxyHeaderParser.MAX_HEADER + 16);
        byte[] bytes = data.consumeRemainingAsBytes();
        int shorter = Math.min(cut, bytes.length);
        ProxyHeaderParser.Result whole = check(bytes, bytes.length);
        ProxyHeaderParser.Result prefix = check(bytes, shorter);
        if (prefix.complete()) {
            assertEquals(prefix.length(), whole.length(), "the header length changed as more bytes came");
            assertEquals(String.valueOf(prefix.info()), String.valueOf(whole.info()));
        } else if (prefix.broken()) {
            assertTrue(whole.broken(), "broken on a prefix, not on the whole");
        }
    }

    private static ProxyHeaderParser.Result check(byte[] bytes, int len) {
        ProxyHeaderParser.Result r = ProxyHeaderParser.parse(bytes, len);
        assertNotNull(r);
        if (r.complete()) {
            assertTrue(r.length() <= len, "a header of " + r.length() + " bytes in " + len);
            assertTrue(r.length() <= ProxyHeaderParser.MAX_HEADER, "a header longer than nginx reads");
            assertNull(r.error());
        } else if (r.broken()) {
            assertNotNull(r.error(), "broken without a log text");
        } else {
            assertTrue(len < ProxyHeaderParser.MAX_HEADER, "still waiting after " + len + " bytes");
        }
        return r;
    }
}
