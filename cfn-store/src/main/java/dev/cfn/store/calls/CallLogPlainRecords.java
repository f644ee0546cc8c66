package dev.cfn.store.calls;

import dev.cfn.core.spi.CallLogException;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.PlainRecords;
import dev.cfn.store.sqlite.RecordChecksum;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The call log's plain results (see {@link PlainRecords}), sealed as text bound to their key, as
 * {@link SqliteCallLogStore} seals them. Read in pages of {@value #PAGE} by key.
 */
final class CallLogPlainRecords implements PlainRecords {
  private static final int PAGE = 1_000;

  private record Row(String key, String result, long recordedAt) {}

  @Override
  public String store() {
    return "calls";
  }

  @Override
  public long count(Connection connection) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement("SELECT count(*) FROM calls WHERE substr(result, 1, ?) <> ?")) {
      s.setInt(1, AtRest.TEXT_MARK.length());
      s.setString(2, AtRest.TEXT_MARK);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
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
    String after = "";
    try (PreparedStatement page =
            connection.prepareStatement(
                "SELECT key, result, recorded_at, crc FROM calls WHERE key > ? ORDER BY key LIMIT "
                    + PAGE);
        PreparedStatement write =
            connection.prepareStatement("UPDATE calls SET result = ?, crc = ? WHERE key = ?")) {
      while (true) {
        page.setString(1, after);
        List<Row> rows = new ArrayList<>();
        try (ResultSet rs = page.executeQuery()) {
          while (rs.next()) {
            Row r = new Row(rs.getString(1), rs.getString(2), rs.getLong(3));
            if (checksum(r.key(), r.result(), r.recordedAt()) != rs.getLong(4)) {
              throw new CallLogException(
                  "call record '"
                      + r.key()
                      + "' fails its checksum: it was changed outside cfn or the disk is damaged,"
                      + " so it is not touched; nothing was changed (fix: restore the call log"
                      + " from a backup, or delete the file: it is a cache of answers)");
            }
            rows.add(r);
          }
        }
        if (rows.isEmpty()) {
          return n;
        }
        for (Row r : rows) {
          after = r.key();
          byte[] aad = SqliteCallLogStore.resultAad(r.key());
          if (r.result().startsWith(AtRest.TEXT_MARK)) {
            if (!seal) {
              atRest.openText(r.result(), aad, () -> "call record '" + r.key() + "'");
              n++;
            }
            continue;
          }
          if (!seal) {
            continue;
          }
          String sealed = atRest.sealText(r.result(), aad);
          write.setString(1, sealed);
          write.setLong(2, checksum(r.key(), sealed, r.recordedAt()));
          write.setString(3, r.key());
          write.executeUpdate();
          n++;
        }
      }
    }
  }

  private static long checksum(String key, String result, long recordedAt) {
    return RecordChecksum.of(CallLogSchema.TABLE, new Object[] {key, result, recordedAt});
  }
}
