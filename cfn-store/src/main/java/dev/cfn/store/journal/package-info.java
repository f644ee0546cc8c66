/**
 * The embedded SQLite {@link dev.cfn.core.spi.Journal} behind RELIABLE messages.
 *
 * <p>Public: {@link dev.cfn.store.journal.SqliteJournal} (with its builder and {@code Synchronous}
 * levels), the journal itself; {@link dev.cfn.store.journal.JournalFiles}, its file operations
 * (check, backup, restore, on files that may be in use: {@code cfn store check}, {@code backup},
 * {@code restore}); {@link dev.cfn.store.journal.DeadLetterQueue}, the administration of its dead
 * letters ({@code cfn dlq}); {@link dev.cfn.store.journal.JournalQuarantine}, the damaged pending
 * records recovery set aside ({@code cfn store quarantine}); {@link
 * dev.cfn.store.journal.JournalReader}, a read-only look at a journal beside its running owner
 * ({@code SqliteJournal.openReadOnly}: no lock, no writes); and the values they return ({@link
 * dev.cfn.store.journal.DeadLetterRecord}, {@link dev.cfn.store.journal.QuarantinedRecord}, {@link
 * dev.cfn.store.journal.RawPayload}, {@link dev.cfn.store.journal.BackupInfo}, {@link
 * dev.cfn.store.journal.RestoreInfo}); {@link dev.cfn.store.journal.StateCache}, the in-memory
 * committed agent state that serves state reads (updated by the writer after each commit; public
 * only so that cfn-cluster's PostgreSQL journal shares it). Package-private, beside them: the
 * writer thread and its group commit ({@code JournalWriter}, {@code WriteOp}, {@code Writes},
 * {@code WriteConnection}), the schema ({@code Schema}, {@code Table}), the envelope and payload
 * codecs ({@code MessageCodec}, {@code PayloadCodec}), the process lock ({@code LockFile}, which
 * also refuses a journal with a second hard link), and disaster recovery: read-only access and
 * verification of a file ({@code StoreFile}, which also checks a journal's structure before it
 * opens), backups and restores ({@code Backups}, which also remove what killed ones left) and their
 * schedule ({@code BackupSchedule}).
 *
 * <p>Producers' idempotency keys ({@code Journal.appendOnce}) live in the {@code idempotency} table
 * (its own migration), each with the id of the message first stored under it, for the retention
 * period; a keyed append checks and stores the key in the transaction that stores the message
 * ({@code Writes.KeyedAppend}), and the sweep of old acknowledged ids also drops expired keys.
 *
 * <p>Disaster recovery in short: backups are consistent online snapshots ({@code VACUUM INTO} in
 * one read transaction of a read-only connection), written to a temporary sibling, fsynced,
 * verified (integrity check, schema version, every record's checksum) and only then renamed into
 * place; scheduled ones run every minute by default (the recovery point) and rotate. A restore
 * refuses a journal in use and a bad backup, and moves the previous files aside instead of deleting
 * them.
 *
 * <p>Depends on {@code dev.cfn.core} (Envelope and its values), {@code dev.cfn.core.spi}, {@code
 * dev.cfn.store} ({@code StoreCheck}), {@code dev.cfn.store.crypto} ({@code AtRest}: payloads
 * sealed when a keyring is configured), the internal {@code dev.cfn.store.sqlite}, sqlite-jdbc,
 * Jackson databind and SLF4J; never on the memory or call-log packages.
 */
package dev.cfn.store.journal;
