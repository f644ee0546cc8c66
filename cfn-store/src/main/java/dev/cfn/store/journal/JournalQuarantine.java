package dev.cfn.store.journal;

import static dev.cfn.store.journal.MessageCodec.number;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The quarantine of a {@link SqliteJournal}: pending records that failed their checksum when the
 * journal recovered, moved aside (logged at WARN and counted in {@code cfn.reliable.quarantined})
 * so that one damaged record does not keep the runtime from starting. List and inspect them, then
 * purge each once dealt with (re-send the message from its source if it still matters); {@code cfn
 * store quarantine} calls these. Obtained from {@link SqliteJournal#quarantine()}; reads also work
 * on a running runtime's journal through {@link SqliteJournal#openReadOnly}.
 */
public final class JournalQuarantine {
  private final SqliteJournal journal;

  JournalQuarantine(SqliteJournal journal) {
    this.journal = journal;
  }

  /** Every quarantined record, by id. */
  public List<QuarantinedRecord> list() {
    return journal.readInTransaction("the quarantine", c -> read(c, null));
  }

  /** Quarantined record {@code id}, if there is one. */
  public Optional<QuarantinedRecord> find(long id) {
    return journal.readInTransaction("quarantined record " + id, c -> read(c, id)).stream()
        .findFirst();
  }

  /**
   * Deletes quarantined record {@code id} for good; false when there was none. Its id is never
   * issued again.
   */
  public boolean purge(long id) {
    return SqliteJournal.await(journal.submit(new Writes.RemoveQuarantined(id)));
  }

  /**
   * The quarantined records on {@code c} (all, or the one with {@code id}); empty for a file from
   * before the quarantine existed (schema version 1 or 2). A quarantined row that fails its own
   * checksum is still listed, its problem saying so.
   */
  static List<QuarantinedRecord> read(Connection c, Long id) throws SQLException {
    try (Statement sql = c.createStatement();
        ResultSet exists =
            sql.executeQuery(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quarantine'")) {
      if (!exists.next()) {
        return List.of();
      }
    }
    Table table = Table.QUARANTINE;
    List<QuarantinedRecord> out = new ArrayList<>();
    try (var query =
        c.prepareStatement(table.select() + (id == null ? "" : " WHERE id = ?") + " ORDER BY id")) {
      if (id != null) {
        query.setLong(1, id);
      }
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          Object[] row = table.values(rows);
          Optional<String> own = table.problem(row, rows.getObject(table.columnCount() + 1));
          Map<String, String> columns = new LinkedHashMap<>();
          for (int i = 0; i <= Table.Columns.STORED_CRC; i++) {
            columns.put(table.columns().get(i), text(row[i]));
          }
          String problem = String.valueOf(row[Table.Columns.PROBLEM]);
          if (own.isPresent()) {
            problem += " (this quarantined copy is itself damaged: " + own.get() + ")";
          }
          out.add(
              new QuarantinedRecord(
                  number(row[Table.Columns.ID]),
                  String.valueOf(row[Table.Columns.SOURCE]),
                  problem,
                  row[Table.Columns.QUARANTINED_AT] instanceof Number n
                      ? Instant.ofEpochMilli(n.longValue())
                      : Instant.EPOCH,
                  columns));
        }
      }
    }
    return out;
  }

  private static String text(Object value) {
    if (value instanceof byte[] bytes) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        return "base64:" + Base64.getEncoder().encodeToString(bytes);
      }
    }
    return value == null ? null : String.valueOf(value);
  }
}
