/**
 * Durable implementations of the kernel's SPIs (the embedded SQLite {@link
 * dev.cfn.core.spi.Journal}) and the agents' memory.
 *
 * <p>Public: {@link dev.cfn.store.SqliteJournal} (with its builder and {@code Synchronous} levels,
 * and its static tools for journal files that may be in use: {@code check}, {@code backup}, {@code
 * restore}) and the values its queries return ({@link dev.cfn.store.StoreCheck}, {@link
 * dev.cfn.store.DeadLetterRecord}, {@link dev.cfn.store.RawPayload}, {@link
 * dev.cfn.store.BackupInfo}, {@link dev.cfn.store.RestoreInfo}). Package-private, beside them: the
 * writer thread and its group commit ({@code JournalWriter}, {@code WriteOp}, {@code Writes},
 * {@code WriteConnection}), the schema ({@code Schema}, {@code Table}) and the versioned migration
 * that every kind of cfn file (journal, memory file, call log) goes through when it opens ({@code
 * Migrations}: application id, {@code schema_version}, refusal of other kinds and newer files),
 * record checksums ({@code RecordChecksum}), the envelope and payload codecs ({@code MessageCodec},
 * {@code PayloadCodec}), the process lock ({@code LockFile}, which also refuses a journal with a
 * second hard link), owner-only file creation ({@code PrivateFiles}: files 0600, directories 0700),
 * the one place connections are opened and the SQLite native library is cached ({@code
 * SqliteLibrary}), the translation of SQLite errors ({@code SqliteErrors}), and disaster recovery:
 * read-only access and verification of a file ({@code StoreFile}, which also checks a journal's
 * structure before it opens), backups and restores ({@code Backups}, which also remove what killed
 * ones left) and their schedule ({@code BackupSchedule}).
 *
 * <p>Disaster recovery in short: backups are consistent online snapshots ({@code VACUUM INTO} in
 * one read transaction of a read-only connection), written to a temporary sibling, fsynced,
 * verified (integrity check, schema version, every record's checksum) and only then renamed into
 * place; scheduled ones run every minute by default (the recovery point) and rotate. A restore
 * refuses a journal in use and a bad backup, and moves the previous files aside instead of deleting
 * them.
 *
 * <p>Also agent memory, in a SQLite file of its own ({@code .cfn/memory.db} by default, application
 * id "cfnm", its own migrations): public {@link dev.cfn.store.SqliteMemoryStore} (with its builder)
 * and its values {@link dev.cfn.core.spi.MemoryEntry}, {@link dev.cfn.core.spi.MemoryWrite}, {@link
 * dev.cfn.core.spi.MemoryMatch}, {@link dev.cfn.core.spi.MemoryAccessor}, {@link
 * dev.cfn.core.spi.MemoryAccessLevel}, {@link dev.cfn.core.spi.MemoryException} and {@link
 * dev.cfn.core.spi.MemoryAccessException}. Entries are keyed by namespace and key, with metadata,
 * tags, an optional time to live and FTS5 search, and every operation is checked against the
 * entry's access level. Package-private, beside them: its schema ({@code MemorySchema}), its rows
 * and checksums ({@code MemoryTable}), the access rules in Java and SQL ({@code MemoryPermissions})
 * and the search-query sanitizer ({@code MemorySearchQuery}).
 *
 * <p>And the call log of AI agents ({@link dev.cfn.store.SqliteCallLogStore}, {@code
 * .cfn/calls.db}, application id "cfnc"): results of model and tool calls kept under idempotency
 * keys, written through (fsynced) before they are used, so a run resumed after a crash replays them
 * instead of calling again; swept after the retention period. Package-private: {@code
 * CallLogSchema}, and {@code StoreConnection}, the one locked connection (WAL, {@code
 * synchronous=FULL}, migration, scheduled sweep, close) that the memory store and the call log each
 * open on their file.
 *
 * <p>Depends on cfn-core, sqlite-jdbc, Jackson databind and SLF4J. cfn-core must not depend on this
 * package; applications and the {@code cfn} command may.
 */
package dev.cfn.store;
