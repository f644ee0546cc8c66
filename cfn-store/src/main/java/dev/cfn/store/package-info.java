/**
 * Durable implementations of the kernel's SPIs; for now the embedded SQLite {@link
 * dev.cfn.core.Journal}.
 *
 * <p>Public: {@link dev.cfn.store.SqliteJournal} (with its builder and {@code Synchronous} levels)
 * and the values its queries return ({@link dev.cfn.store.StoreCheck}, {@link
 * dev.cfn.store.DeadLetterRecord}, {@link dev.cfn.store.RawPayload}). Package-private, beside them:
 * the writer thread and its group commit ({@code JournalWriter}, {@code WriteOp}, {@code Writes},
 * {@code WriteConnection}), the schema and its migrations ({@code Schema}, {@code Table}), record
 * checksums ({@code RecordChecksum}), the envelope and payload codecs ({@code MessageCodec}, {@code
 * PayloadCodec}), the process lock ({@code LockFile}) and the translation of SQLite errors ({@code
 * SqliteErrors}).
 *
 * <p>Depends on cfn-core, sqlite-jdbc, Jackson databind and SLF4J. cfn-core must not depend on this
 * package; applications and the {@code cfn} command may.
 */
package dev.cfn.store;
