package dev.cfn.store.memory;

import dev.cfn.core.spi.MemoryException;
import dev.cfn.store.sqlite.Migrations;
import dev.cfn.store.sqlite.Migrations.Migration;
import dev.cfn.store.sqlite.RecordChecksum;
import java.util.List;

/**
 * The schema of a memory file as an ordered list of migrations, like the journal's {@code Schema}
 * but with an application id and a version history of its own: a memory file is never a journal,
 * and each refuses the other. {@link Migrations} applies them when a store opens. New migrations
 * are appended to {@link #MIGRATIONS}; existing ones are never edited.
 *
 * <p>{@code memory_entries} holds the entries ({@code tags} and {@code metadata} as JSON, times in
 * epoch milliseconds, {@code crc} the {@link RecordChecksum} of the other columns but {@code id}).
 * {@code memory_search} is an FTS5 index over its key, value and tags, an external-content table
 * kept in step by triggers, so the text is stored once. Since version 2 the index reads its content
 * through the view {@code memory_search_source}, which shows a sealed value (a BLOB, see {@code
 * dev.cfn.store.crypto.AtRest}) as NULL: encrypted values are not searchable, and their words are
 * never written to the index.
 */
final class MemorySchema {

  /** The text the index sees of a value column: NULL for a sealed (BLOB) value. */
  private static final String INDEXED_VALUE =
      "CASE WHEN typeof(%1$s) = 'blob' THEN NULL ELSE %1$s END";

  /** {@code PRAGMA application_id} of a cfn memory file: "cfnm". */
  static final int APPLICATION_ID = Migrations.MEMORY_APPLICATION_ID;

  /** The memory file's history: "not a cfn memory file", "has memory schema version 3". */
  static final Migrations MIGRATIONS =
      new Migrations(
          APPLICATION_ID,
          "memory file",
          "memory",
          "memory store",
          MemoryException::new,
          List.of(
              new Migration(
                  1,
                  "memory_entries and their full-text index memory_search",
                  List.of(
                      """
                  CREATE TABLE memory_entries (
                    id INTEGER PRIMARY KEY,
                    namespace TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    level TEXT NOT NULL
                      CHECK (level IN ('PRIVATE', 'SWARM', 'PROJECT', 'PUBLIC')),
                    owner TEXT NOT NULL,
                    swarm TEXT,
                    project TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    crc INTEGER NOT NULL,
                    UNIQUE (namespace, key))""",
                      "CREATE INDEX memory_by_expiry ON memory_entries(expires_at)"
                          + " WHERE expires_at IS NOT NULL",
                      "CREATE VIRTUAL TABLE memory_search USING fts5(key, value, tags,"
                          + " content='memory_entries', content_rowid='id',"
                          + " tokenize='unicode61 remove_diacritics 2')",
                      """
                  CREATE TRIGGER memory_search_insert AFTER INSERT ON memory_entries BEGIN
                    INSERT INTO memory_search(rowid, key, value, tags)
                      VALUES (new.id, new.key, new.value, new.tags);
                  END""",
                      """
                  CREATE TRIGGER memory_search_delete AFTER DELETE ON memory_entries BEGIN
                    INSERT INTO memory_search(memory_search, rowid, key, value, tags)
                      VALUES ('delete', old.id, old.key, old.value, old.tags);
                  END""",
                      """
                  CREATE TRIGGER memory_search_update AFTER UPDATE ON memory_entries BEGIN
                    INSERT INTO memory_search(memory_search, rowid, key, value, tags)
                      VALUES ('delete', old.id, old.key, old.value, old.tags);
                    INSERT INTO memory_search(rowid, key, value, tags)
                      VALUES (new.id, new.key, new.value, new.tags);
                  END""")),
              // Encryption at rest: a sealed value is a BLOB and must not reach the full-text
              // index (its words would be the plaintext the encryption hides, its bytes noise).
              // The index now reads its content through a view that shows NULL for a BLOB value,
              // so triggers, highlight() and FTS5's integrity-check all see the same text.
              new Migration(
                  2,
                  "memory_search indexes values through memory_search_source, which hides sealed"
                      + " (BLOB) values",
                  List.of(
                      "DROP TRIGGER memory_search_insert",
                      "DROP TRIGGER memory_search_delete",
                      "DROP TRIGGER memory_search_update",
                      "DROP TABLE memory_search",
                      "CREATE VIEW memory_search_source AS SELECT id, key, "
                          + INDEXED_VALUE.formatted("value")
                          + " AS value, tags FROM memory_entries",
                      "CREATE VIRTUAL TABLE memory_search USING fts5(key, value, tags,"
                          + " content='memory_search_source', content_rowid='id',"
                          + " tokenize='unicode61 remove_diacritics 2')",
                      """
                  CREATE TRIGGER memory_search_insert AFTER INSERT ON memory_entries BEGIN
                    INSERT INTO memory_search(rowid, key, value, tags)
                      VALUES (new.id, new.key, %s, new.tags);
                  END"""
                          .formatted(INDEXED_VALUE.formatted("new.value")),
                      """
                  CREATE TRIGGER memory_search_delete AFTER DELETE ON memory_entries BEGIN
                    INSERT INTO memory_search(memory_search, rowid, key, value, tags)
                      VALUES ('delete', old.id, old.key, %s, old.tags);
                  END"""
                          .formatted(INDEXED_VALUE.formatted("old.value")),
                      """
                  CREATE TRIGGER memory_search_update AFTER UPDATE ON memory_entries BEGIN
                    INSERT INTO memory_search(memory_search, rowid, key, value, tags)
                      VALUES ('delete', old.id, old.key, %s, old.tags);
                    INSERT INTO memory_search(rowid, key, value, tags)
                      VALUES (new.id, new.key, %s, new.tags);
                  END"""
                          .formatted(
                              INDEXED_VALUE.formatted("old.value"),
                              INDEXED_VALUE.formatted("new.value")),
                      "INSERT INTO memory_search(memory_search) VALUES ('rebuild')"))));

  /** The version this code writes. */
  static int latestVersion() {
    return MIGRATIONS.latestVersion();
  }

  private MemorySchema() {}
}
