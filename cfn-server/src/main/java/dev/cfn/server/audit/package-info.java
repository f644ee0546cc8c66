/**
 * What the server reports for the audit: {@link dev.cfn.server.audit.AuditEvent} (who, what,
 * target, outcome), the {@link dev.cfn.server.audit.AuditTrail} every route calls, and {@link
 * dev.cfn.server.audit.LoggingAuditTrail}, which logs each event. The hash-chained audit log of
 * cfn-store plugs in behind the same interface. Depends on SLF4J only.
 */
package dev.cfn.server.audit;
