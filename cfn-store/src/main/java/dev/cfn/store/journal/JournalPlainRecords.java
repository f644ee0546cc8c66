package dev.cfn.store.journal;

import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.PlainRecords;
import dev.cfn.store.crypto.RecordCipher;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal's plain records (see {@link PlainRecords}): payloads of pending and dead-lettered
 * messages, and results in the {@code calls} table, sealed with the same associated data {@code
 * MessageCodec} binds them to. Quarantined rows are left as found: they failed their checksum, and
 * are evidence. Rows are read in pages of {@value #PAGE} by key, so a large journal is not held in
 * memory.
 */
final class JournalPlainRecords implements PlainRecords {
  private static final int PAGE = 1_000;
  private static final List<Table> MESSAGE_TABLES = List.of(Table.MESSAGES, Table.DEAD_LETTERS);

  @Override
  public String store() {
    return "journal";
  }

  @Override
  public long count(Connection connection) throws SQLException {
    long n = 0;
    for (Table t : MESSAGE_TABLES) {
      // a sealed payload starts with 0x01 and is at least OVERHEAD bytes (RecordCipher.isSealed)
      n +=
          scalar(
              connection,
              "SELECT count(*) FROM "
                  + t.sqlName()
                  + " WHERE NOT (length(payload) >= "
                  + RecordCipher.OVERHEAD
                  + " AND substr(payload, 1, 1) = x'01')");
    }
    try (PreparedStatement s =
        connection.prepareStatement("SELECT count(*) FROM calls WHERE substr(result, 1, ?) <> ?")) {
      s.setInt(1, AtRest.TEXT_MARK.length());
      s.setString(2, AtRest.TEXT_MARK);
      try (ResultSet rs = s.executeQuery()) {
        return n + (rs.next() ? rs.getLong(1) : 0);
      }
    }
  }

  @Override
  public long seal(Connection connection, AtRest atRest) throws SQLException {
    return walk(connection, atRest, true);
  }

  @Override
  public long verify(Connection connection, AtRest atRest) throws SQLException {
    return walk(connection, atRest, false);
  }

  private static long walk(Connection connection, AtRest atRest, boolean seal) throws SQLException {
    long n = 0;
    for (Table t : MESSAGE_TABLES) {
      long after = Long.MIN_VALUE;
      String update = "UPDATE " + t.sqlName() + " SET payload = ?, crc = ? WHERE id = ?";
      try (PreparedStatement page =
              connection.prepareStatement(t.select() + " WHERE id > ? ORDER BY id LIMIT " + PAGE);
          PreparedStatement write = connection.prepareStatement(update)) {
        while (true) {
          page.setLong(1, after);
          List<Object[]> rows = new ArrayList<>();
          try (ResultSet rs = page.executeQuery()) {
            while (rs.next()) {
              rows.add(t.read(rs)); // verifies the checksum; a damaged row stops everything
            }
          }
          if (rows.isEmpty()) {
            break;
          }
          for (Object[] row : rows) {
            after = MessageCodec.number(row[Table.Columns.ID]);
            byte[] payload = (byte[]) row[Table.Columns.PAYLOAD];
            byte[] aad = payloadAad(row);
            if (RecordCipher.isSealed(payload)) {
              if (!seal) {
                atRest.open(payload, aad, () -> "the payload of " + t.describe(row));
                n++;
              }
              continue;
            }
            if (!seal) {
              continue;
            }
            row[Table.Columns.PAYLOAD] = atRest.seal(payload, aad);
            write.setBytes(1, (byte[]) row[Table.Columns.PAYLOAD]);
            write.setLong(2, t.checksum(row));
            write.setLong(3, after);
            write.executeUpdate();
            n++;
          }
        }
      }
    }
    return n + walkCalls(connection, atRest, seal);
  }

  private static long walkCalls(Connection connection, AtRest atRest, boolean seal)
      throws SQLException {
    long n = 0;
    String after = "";
    Table t = Table.CALLS;
    try (PreparedStatement page =
            connection.prepareStatement(t.select() + " WHERE key > ? ORDER BY key LIMIT " + PAGE);
        PreparedStatement write =
            connection.prepareStatement("UPDATE calls SET result = ?, crc = ? WHERE key = ?")) {
      while (true) {
        page.setString(1, after);
        List<Object[]> rows = new ArrayList<>();
        try (ResultSet rs = page.executeQuery()) {
          while (rs.next()) {
            rows.add(t.read(rs));
          }
        }
        if (rows.isEmpty()) {
          return n;
        }
        for (Object[] row : rows) {
          String key = (String) row[0];
          after = key;
          String result = (String) row[1];
          byte[] aad = AtRest.aad("call result", key);
          if (result.startsWith(AtRest.TEXT_MARK)) {
            if (!seal) {
              atRest.openText(result, aad, () -> "call record '" + key + "'");
              n++;
            }
            continue;
          }
          if (!seal) {
            continue;
          }
          row[1] = atRest.sealText(result, aad);
          write.setString(1, (String) row[1]);
          write.setLong(2, t.checksum(row));
          write.setString(3, key);
          write.executeUpdate();
          n++;
        }
      }
    }
  }

  /** What {@code MessageCodec} binds a payload to: its message id and payload class. */
  private static byte[] payloadAad(Object[] row) {
    return MessageCodec.payloadAad(
        MessageCodec.number(row[Table.Columns.ID]), (String) row[Table.Columns.PAYLOAD_CLASS]);
  }

  private static long scalar(Connection connection, String sql) throws SQLException {
    try (PreparedStatement s = connection.prepareStatement(sql);
        ResultSet rs = s.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }
}
