package org.mailproxy.resolver.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Reads a DNS response the way nginx's {@code ngx_resolver_process_response()},
 * {@code _process_a()} and {@code _process_ptr()} do.
 *
 * <p>A response that nginx would log and drop (FORMERR or an rcode above REFUSED, a question that
 * is not ours, a record of another class, an answer section without the type asked for or a
 * CNAME) gives null: the query keeps waiting for another server or for its timeout. Otherwise:
 * SERVFAIL, NXDOMAIN, NOTIMP and REFUSED end the lookup with that code; an empty PTR answer is
 * NXDOMAIN; an empty A/AAAA answer is "no data" (success without addresses); a PTR answer gives its
 * first PTR record; an A/AAAA answer gives all the records of the type asked for, whatever their
 * owner name, or else its last CNAME to follow. The TTL to cache is the PTR record's, or the
 * smallest of an A/AAAA answer's records.
 */
final class Responses {

    private static final Logger LOG = LoggerFactory.getLogger(Responses.class);

    private Responses() {
    }

    static Answer read(Message response, Name name, int type, String server) {
        int rcode = response.getRcode();
        int id = response.getHeader().getID();
        if (rcode == Rcode.FORMERR || rcode > Rcode.REFUSED) {
            LOG.warn("DNS error ({}: {}), query id:{}, name:\"{}\", resolver: {}", rcode, Answer.strerror(rcode), id,
                    name, server);
            return null;
        }
        Record question = response.getQuestion();
        if (question == null || question.getType() != type || question.getDClass() != DClass.IN
                || !question.getName().equals(name)) {
            LOG.warn("unexpected DNS response for {}, resolver: {}", name, server);
            return null;
        }
        if (rcode != Rcode.NOERROR) {
            return Answer.failure(rcode);
        }
        List<Record> answers = response.getSection(Section.ANSWER);
        if (answers.isEmpty()) {
            return type == Type.PTR ? Answer.failure(Answer.NXDOMAIN)
                    : new Answer(Answer.OK, null, List.of(), null, -1);
        }
        return type == Type.PTR ? ptr(answers, server) : address(answers, type, server);
    }

    private static Answer ptr(List<Record> answers, String server) {
        for (Record r : answers) {
            if (r.getDClass() != DClass.IN) {
                LOG.warn("unexpected RR class {} in DNS response, resolver: {}", r.getDClass(), server);
                return null;
            }
            if (r instanceof PTRRecord p) {
                return new Answer(Answer.OK, p.getTarget(), List.of(), null, ttl(r));
            }
            if (r.getType() != Type.CNAME) {
                LOG.warn("unexpected RR type {} in DNS response, resolver: {}", r.getType(), server);
            }
        }
        LOG.warn("no PTR type in DNS response, resolver: {}", server);
        return null;
    }

    private static Answer address(List<Record> answers, int type, String server) {
        List<InetAddress> addresses = new ArrayList<>();
        Name cname = null;
        long ttl = Long.MAX_VALUE;
        for (Record r : answers) {
            if (r.getDClass() != DClass.IN) {
                LOG.warn("unexpected RR class {} in DNS response, resolver: {}", r.getDClass(), server);
                return null;
            }
            ttl = Math.min(ttl, ttl(r));
            if (r instanceof ARecord a) {
                if (type != Type.A) {
                    LOG.warn("unexpected A record in DNS response, resolver: {}", server);
                    return null;
                }
                addresses.add(a.getAddress());
            } else if (r instanceof AAAARecord a) {
                if (type != Type.AAAA) {
                    LOG.warn("unexpected AAAA record in DNS response, resolver: {}", server);
                    return null;
                }
                addresses.add(a.getAddress());
            } else if (r instanceof CNAMERecord c) {
                cname = c.getTarget();
            } else if (r.getType() != Type.DNAME) {
                LOG.warn("unexpected RR type {} in DNS response, resolver: {}", r.getType(), server);
            }
        }
        if (!addresses.isEmpty()) {
            return new Answer(Answer.OK, null, addresses, null, ttl);
        }
        if (cname != null) {
            return new Answer(Answer.OK, null, List.of(), cname, ttl);
        }
        LOG.warn("no A or CNAME types in DNS response, resolver: {}", server);
        return null;
    }

    /** nginx reads the TTL as a signed 32-bit number and takes a negative one as 0. */
    private static long ttl(Record r) {
        long ttl = r.getTTL();
        return ttl > Integer.MAX_VALUE ? 0 : ttl;
    }
}
