/**
 * The management API of the mail proxy, for the console ({@code mail:*} commands), JMX and
 * other tools: the {@link org.mailproxy.core.admin.MailAdmin} service, registered by the core,
 * and the plain values it returns (snapshots; nothing here holds on to live objects).
 */
@org.osgi.annotation.versioning.Version("1.0.0")
package org.mailproxy.core.admin;
