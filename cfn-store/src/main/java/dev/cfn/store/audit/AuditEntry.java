package dev.cfn.store.audit;

/**
 * An event as the audit log holds it.
 *
 * @param seq its position in the log, from 1 (checkpoints take positions too)
 * @param event the event
 * @param hash the entry's SHA-256 (64 hex digits), which the next entry links to
 */
public record AuditEntry(long seq, AuditEvent event, String hash) {}
