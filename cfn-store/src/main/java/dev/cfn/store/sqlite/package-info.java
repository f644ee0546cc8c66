/**
 * <b>Internal</b>: what the three stores of cfn-store share. Its classes are public only so that
 * {@code dev.cfn.store.journal}, {@code .memory} and {@code .calls} can use them; they are not part
 * of cfn's API, may change in any release, and applications must not use them.
 *
 * <ul>
 *   <li>{@code SqliteLibrary}: the one place connections are opened and the SQLite native library
 *       is extracted and cached; the busy timeout; ending a read transaction after damage.
 *   <li>{@code Migrations}: the versioned schema every kind of cfn file goes through when it opens
 *       (application id, {@code schema_version}, refusal of other kinds and of newer files), and
 *       the application ids of the three kinds (one id space, so kept here).
 *   <li>{@code StoreConnection}: the one locked connection (WAL, {@code synchronous=FULL},
 *       migration, scheduled sweep, check, close) that the memory store and the call log each open
 *       on their file, and the read-only connections the call log's lookups use beside it. The call
 *       log writes through it from its own writer thread (group commit); the journal has its own
 *       writer connection instead.
 *   <li>{@code RecordChecksum} (CRC32C of a record), {@code ColumnText} (column values in error
 *       messages), {@code PrivateFiles} (owner-only files 0600 and directories 0700), {@code
 *       SqliteErrors} (SQLite result codes translated into errors that say what to do).
 * </ul>
 *
 * <p>Depends on {@code dev.cfn.store} ({@code StoreCheck}), {@code dev.cfn.core.spi} ({@code
 * JournalException}), sqlite-jdbc and SLF4J; never on the store packages.
 */
package dev.cfn.store.sqlite;
