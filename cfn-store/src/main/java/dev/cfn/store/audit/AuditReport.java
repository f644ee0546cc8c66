package dev.cfn.store.audit;

/**
 * What {@code verify} found in an audit log.
 *
 * @param ok true when nothing is wrong
 * @param entries how many entries were read intact (events and checkpoints), up to the first bad
 *     one
 * @param events how many of them are events
 * @param checkpoints how many are signed checkpoints
 * @param signedThrough the last entry a verified signature covers (the last checkpoint's position);
 *     0 when none
 * @param unsigned entries after the last checkpoint: protected against accidental change by the
 *     chain, but not yet by a signature (see the package documentation for what that means)
 * @param headHash SHA-256 of the last intact entry (of the header when there is none): keep it
 *     elsewhere to detect a later rollback
 * @param keyFingerprint SHA-256 of the log's Ed25519 public key
 * @param badEntry the first bad entry's position (0: the header or the head file); -1 when ok
 * @param badOffset the byte offset in the log where the bad entry starts; -1 when ok or not in the
 *     log
 * @param problem what is wrong, naming the entry; null when ok
 */
public record AuditReport(
    boolean ok,
    long entries,
    long events,
    long checkpoints,
    long signedThrough,
    long unsigned,
    String headHash,
    String keyFingerprint,
    long badEntry,
    long badOffset,
    String problem) {}
