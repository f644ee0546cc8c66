/**
 * Agents' memory on SQLite, implementing the {@link dev.cfn.core.spi.MemoryStore} SPI: a file of
 * its own ({@code .cfn/memory.db} by default, application id "cfnm", its own migrations).
 *
 * <p>Public: {@link dev.cfn.store.memory.SqliteMemoryStore} (with its builder). Its values ({@code
 * MemoryEntry}, {@code MemoryWrite}, {@code MemoryMatch}, {@code MemoryAccessor}, {@code
 * MemoryAccessLevel}) and errors ({@code MemoryException}, {@code MemoryAccessException}) are the
 * SPI's, in {@code dev.cfn.core.spi}. Entries are keyed by namespace and key, with metadata, tags,
 * an optional time to live and FTS5 search, and every operation is checked against the entry's
 * access level. Package-private, beside it: its schema ({@code MemorySchema}), its rows and
 * checksums ({@code MemoryTable}), the access rules in Java and SQL ({@code MemoryPermissions}) and
 * the search-query sanitizer ({@code MemorySearchQuery}).
 *
 * <p>Depends on {@code dev.cfn.core.spi}, {@code dev.cfn.store} ({@code StoreCheck}), {@code
 * dev.cfn.store.crypto} ({@code AtRest}: values sealed when a keyring is configured), the internal
 * {@code dev.cfn.store.sqlite} (its locked connection, migrations, checksums), sqlite-jdbc, Jackson
 * and SLF4J; never on the journal or call-log packages.
 */
package dev.cfn.store.memory;
