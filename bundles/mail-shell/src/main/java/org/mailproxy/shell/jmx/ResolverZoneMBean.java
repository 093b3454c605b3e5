package org.mailproxy.shell.jmx;

/** {@code org.mailproxy:type=Resolver,zone=NAME}: one resolver status_zone. */
public interface ResolverZoneMBean {
    String getZone();
    long getNameQueries();
    long getAddrQueries();
    long getSuccess();
    long getFormatError();
    long getServerFailure();
    long getNotFound();
    long getUnimplemented();
    long getRefused();
    long getTimedOut();
    long getOther();
}
