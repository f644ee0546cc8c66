/**
 * cfn's audit log: who did what, when, with what outcome; append-only, hash-chained, with
 * checkpoints signed by Ed25519, in {@code .cfn/audit/}.
 *
 * <p>Public: {@link dev.cfn.store.audit.AuditLog} ({@code append(event)}, durable on return; {@code
 * verify()}; {@code tail(n)}; {@code read} to follow), {@link dev.cfn.store.audit.AuditEvent},
 * {@link dev.cfn.store.audit.AuditEntry}, {@link dev.cfn.store.audit.AuditReport} and {@link
 * dev.cfn.store.audit.AuditException}. Package-private beside them: the file format ({@code
 * AuditFormat}, documented there), the checker ({@code AuditVerifier}) and the secret filter
 * ({@code Redaction}).
 *
 * <p><b>Why a plain file, not SQLite.</b> The log's guarantees are about bytes: every byte of the
 * file is covered by a hash that a reader can recompute with nothing but SHA-256, and the file is
 * only ever appended to. A database file rewrites pages in place, keeps free pages and a WAL, so
 * "every byte is covered" would not hold and checking would need SQLite itself. A length-prefixed,
 * hashed record per entry is simple to write durably (one {@code write} and one {@code fsync} per
 * group of appenders) and to check from any language.
 *
 * <p><b>What {@code verify} detects.</b> Any change to the file is found and the first bad entry
 * named: a changed byte anywhere (header, length, body, stored hash), an entry deleted, inserted,
 * duplicated or moved (numbers and links), a cut in the middle of an entry, and, for everything up
 * to the last signed checkpoint, even a consistent rewrite by someone who recomputes the hashes
 * (the checkpoint's Ed25519 signature covers the hash of everything before it, and only the holder
 * of {@code .cfn/keys/audit-ed25519.key} can sign). Entries removed from the end are found when the
 * cut reaches back before the checkpoint the signed head file ({@code audit.head}) holds, and a
 * deleted head file is found when the log has any checkpoint.
 *
 * <p><b>Opening is cheap.</b> {@code AuditLog.open} reads the log from the signed head's checkpoint
 * on (found through the hint {@code audit.tail}), so its cost does not grow with the log; the part
 * before is checked in full by a background reader, which stops appends when it finds damage
 * ({@code AuditLog.checked()}). {@code verify} always reads everything.
 *
 * <p><b>What it cannot detect.</b> (1) Entries after the last checkpoint (at most {@code
 * checkpointEvery} entries or {@code checkpointInterval} of time; {@link
 * dev.cfn.store.audit.AuditReport#unsigned()} says how many) are protected against accidental
 * change only: someone who can write the file can remove them, or rewrite them with recomputed
 * hashes, unnoticed. (2) Replacing both the log and its head with an older, genuinely signed copy
 * (a rollback), or with a new log signed by a new key, is detected only by comparing the head hash
 * and key fingerprint {@code verify} prints with copies kept elsewhere ({@code cfn audit verify
 * --public-key FILE} checks the key). (3) Someone who holds the private key (it is on the same
 * machine, {@code 0600}) can forge anything; keep a copy of the head off the machine when that
 * matters.
 *
 * <p><b>No secrets.</b> Every event is filtered before it is written: values under secret-like
 * detail keys, bearer credentials and token-like strings become {@code [redacted]} (see {@code
 * Redaction}); an entry can never be deleted, so a secret must never enter one.
 *
 * <p>Depends on {@code dev.cfn.store.crypto} ({@code SigningKey}), the internal {@code
 * dev.cfn.store.sqlite} ({@code PrivateFiles}) and SLF4J; never on the store packages.
 */
package dev.cfn.store.audit;
