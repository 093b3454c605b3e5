/**
 * Small helpers shared by the mail bundles: {@link org.mailproxy.core.util.InetText}, addresses
 * read and written as nginx does.
 */
@org.osgi.annotation.versioning.Version("1.0.0")
package org.mailproxy.core.util;
