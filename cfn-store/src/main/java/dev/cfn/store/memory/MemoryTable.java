package dev.cfn.store.memory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryException;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.sqlite.ColumnText;
import dev.cfn.store.sqlite.RecordChecksum;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The {@code memory_entries} table's columns in canonical order (the order {@link RecordChecksum}
 * reads them in), and the conversion between a row and a {@link MemoryEntry}: a row is handled as
 * an {@code Object[]} in that order, so one piece of code builds the SQL, computes the checksum on
 * write and verifies it on every read.
 */
final class MemoryTable {
  static final String NAME = "memory_entries";

  static final List<String> COLUMNS =
      List.of(
          "namespace",
          "key",
          "value",
          "metadata",
          "tags",
          "level",
          "owner",
          "swarm",
          "project",
          "created_at",
          "updated_at",
          "expires_at");

  static final int NAMESPACE = 0;
  static final int KEY = 1;
  static final int VALUE = 2;
  static final int METADATA = 3;
  static final int TAGS = 4;
  static final int LEVEL = 5;
  static final int OWNER = 6;
  static final int SWARM = 7;
  static final int PROJECT = 8;
  static final int CREATED_AT = 9;
  static final int UPDATED_AT = 10;
  static final int EXPIRES_AT = 11;

  /** {@code e.namespace, e.key, ..., e.crc}: the checksummed columns then the checksum. */
  static final String SELECT_COLUMNS =
      String.join(", ", COLUMNS.stream().map(c -> "e." + c).toList()) + ", e.crc";

  /** {@code INSERT INTO memory_entries(...) VALUES (?, ...)} with the checksum last. */
  static final String INSERT =
      "INSERT INTO "
          + NAME
          + "("
          + String.join(", ", COLUMNS)
          + ", crc) VALUES ("
          + "?, ".repeat(COLUMNS.size())
          + "?)";

  /** Updates every column but the key of the row with the given {@code id} (the last argument). */
  static final String UPDATE =
      "UPDATE "
          + NAME
          + " SET "
          + String.join(", ", COLUMNS.stream().map(c -> c + " = ?").toList())
          + ", crc = ? WHERE id = ?";

  private static final TypeReference<TreeMap<String, String>> METADATA_TYPE =
      new TypeReference<>() {};
  private static final TypeReference<List<String>> TAGS_TYPE = new TypeReference<>() {};

  private final ObjectMapper json = new ObjectMapper();
  private final Path file;
  private final AtRest atRest;

  MemoryTable(Path file, AtRest atRest) {
    this.file = file;
    this.atRest = atRest;
  }

  /**
   * The value as stored: with a keyring, sealed and bound to the entry's namespace and key, as a
   * BLOB (plain values are TEXT, so the two never mix up, and the full-text index skips BLOBs).
   */
  private Object storedValue(MemoryEntry entry) {
    if (!atRest.sealing()) {
      return entry.value();
    }
    return atRest.seal(
        entry.value().getBytes(StandardCharsets.UTF_8), valueAad(entry.namespace(), entry.key()));
  }

  private String plainValue(Object[] row) {
    if (row[VALUE] instanceof byte[] sealed) {
      String name = row[NAMESPACE] + "/" + row[KEY];
      return new String(
          atRest.openSealed(
              sealed,
              valueAad((String) row[NAMESPACE], (String) row[KEY]),
              () -> "the value of memory entry " + name + " in " + file),
          StandardCharsets.UTF_8);
    }
    return (String) row[VALUE];
  }

  static byte[] valueAad(String namespace, String key) {
    return AtRest.aad("memory value", namespace, key);
  }

  /** The row of a new or rewritten entry, in canonical order. */
  Object[] row(MemoryEntry entry) {
    try {
      return new Object[] {
        entry.namespace(),
        entry.key(),
        storedValue(entry),
        json.writeValueAsString(new TreeMap<>(entry.metadata())),
        json.writeValueAsString(entry.tags()),
        entry.level().name(),
        entry.owner(),
        entry.swarm(),
        entry.project(),
        entry.createdAt().toEpochMilli(),
        entry.updatedAt().toEpochMilli(),
        entry.expiresAt() == null ? null : entry.expiresAt().toEpochMilli()
      };
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode metadata or tags of " + entry.name(), e);
    }
  }

  /** Binds {@code row} and its checksum from parameter 1 on; returns the next parameter index. */
  static int bind(PreparedStatement statement, Object[] row) throws SQLException {
    for (int i = 0; i < row.length; i++) {
      statement.setObject(i + 1, row[i]);
    }
    statement.setLong(row.length + 1, RecordChecksum.of(NAME, row));
    return row.length + 2;
  }

  /** The checksummed columns of the current row of {@code rows} (selected by SELECT_COLUMNS). */
  static Object[] values(ResultSet rows) throws SQLException {
    Object[] row = new Object[COLUMNS.size()];
    for (int i = 0; i < row.length; i++) {
      row[i] = rows.getObject(i + 1);
    }
    return row;
  }

  /** What is wrong with {@code row} given its stored checksum, or empty when it verifies. */
  static Optional<String> problem(Object[] row, Object storedCrc) {
    String name = ColumnText.text(row[NAMESPACE]) + "/" + ColumnText.text(row[KEY]);
    long computed;
    try {
      computed = RecordChecksum.of(NAME, row);
    } catch (IllegalArgumentException e) {
      return Optional.of(NAME + " " + name + ": a column holds a value of the wrong type");
    }
    if (!(storedCrc instanceof Number stored)) {
      return Optional.of(NAME + " " + name + ": the checksum is missing");
    }
    if (stored.longValue() != computed) {
      return Optional.of(
          NAME
              + " "
              + name
              + ": checksum mismatch (stored "
              + stored.longValue()
              + ", computed "
              + computed
              + ")");
    }
    return Optional.empty();
  }

  /**
   * The verified entry of the current row of {@code rows}; throws {@link MemoryException} naming
   * the record when its checksum does not verify.
   */
  MemoryEntry read(ResultSet rows) throws SQLException {
    Object[] row = values(rows);
    Optional<String> problem = problem(row, rows.getObject(COLUMNS.size() + 1));
    if (problem.isPresent()) {
      throw new MemoryException(
          "memory record "
              + problem.get()
              + " in "
              + file
              + ": it was changed outside cfn or the disk is damaged. The operator can delete it"
              + " (cfn memory delete "
              + ColumnText.text(row[KEY])
              + " -n "
              + ColumnText.text(row[NAMESPACE])
              + ") and write it again, or restore a copy of the file; SqliteMemoryStore.check() lists"
              + " every damaged record");
    }
    return entry(row);
  }

  private MemoryEntry entry(Object[] row) {
    try {
      return new MemoryEntry(
          (String) row[NAMESPACE],
          (String) row[KEY],
          plainValue(row),
          json.readValue((String) row[METADATA], METADATA_TYPE),
          json.readValue((String) row[TAGS], TAGS_TYPE),
          MemoryAccessLevel.valueOf((String) row[LEVEL]),
          (String) row[OWNER],
          (String) row[SWARM],
          (String) row[PROJECT],
          Instant.ofEpochMilli(((Number) row[CREATED_AT]).longValue()),
          Instant.ofEpochMilli(((Number) row[UPDATED_AT]).longValue()),
          row[EXPIRES_AT] == null
              ? null
              : Instant.ofEpochMilli(((Number) row[EXPIRES_AT]).longValue()));
    } catch (KeyringException e) {
      throw e; // names the entry and the fix
    } catch (JsonProcessingException | RuntimeException e) {
      // the checksum verified, so cfn wrote this row: a bug, not damage
      throw new MemoryException(
          "memory record "
              + NAME
              + " "
              + ColumnText.text(row[NAMESPACE])
              + "/"
              + ColumnText.text(row[KEY])
              + " cannot be decoded",
          e);
    }
  }
}
