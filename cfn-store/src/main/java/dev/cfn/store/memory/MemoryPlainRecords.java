package dev.cfn.store.memory;

import dev.cfn.core.spi.MemoryException;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.PlainRecords;
import dev.cfn.store.sqlite.RecordChecksum;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The memory file's plain values (TEXT; see {@link PlainRecords}), sealed into BLOBs bound to their
 * namespace and key, as {@link MemoryTable} seals them. The update trigger takes each value's words
 * out of the full-text index; {@link #seal} then rebuilds the index from its source view, so no
 * segment keeps a sealed value's words. Read in pages of {@value #PAGE} by id.
 */
final class MemoryPlainRecords implements PlainRecords {
  private static final int PAGE = 1_000;

  @Override
  public String store() {
    return "memory";
  }

  @Override
  public long count(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM " + MemoryTable.NAME + " WHERE typeof(value) <> 'blob'")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  @Override
  public long seal(Connection connection, AtRest atRest) throws SQLException {
    long n = walk(connection, atRest, true);
    try (Statement s = connection.createStatement()) {
      s.execute("INSERT INTO memory_search(memory_search) VALUES ('rebuild')");
    }
    return n;
  }

  @Override
  public long verify(Connection connection, AtRest atRest) throws SQLException {
    return walk(connection, atRest, false);
  }

  private static long walk(Connection connection, AtRest atRest, boolean seal) throws SQLException {
    long n = 0;
    long after = Long.MIN_VALUE;
    try (PreparedStatement page =
            connection.prepareStatement(
                "SELECT e.id, "
                    + MemoryTable.SELECT_COLUMNS
                    + " FROM "
                    + MemoryTable.NAME
                    + " e WHERE e.id > ? ORDER BY e.id LIMIT "
                    + PAGE);
        PreparedStatement write =
            connection.prepareStatement(
                "UPDATE " + MemoryTable.NAME + " SET value = ?, crc = ? WHERE id = ?")) {
      while (true) {
        page.setLong(1, after);
        List<Object[]> rows = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        try (ResultSet rs = page.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getLong(1));
            Object[] row = new Object[MemoryTable.COLUMNS.size()];
            for (int i = 0; i < row.length; i++) {
              row[i] = rs.getObject(i + 2);
            }
            Optional<String> problem =
                MemoryTable.problem(row, rs.getObject(MemoryTable.COLUMNS.size() + 2));
            if (problem.isPresent()) {
              throw new MemoryException(
                  "memory record "
                      + problem.get()
                      + ": it was changed outside cfn or the disk is damaged, so it is not"
                      + " touched; nothing was changed (fix: delete and rewrite that entry, or"
                      + " restore the memory file from a backup)");
            }
            rows.add(row);
          }
        }
        if (rows.isEmpty()) {
          return n;
        }
        for (int i = 0; i < rows.size(); i++) {
          Object[] row = rows.get(i);
          after = ids.get(i);
          String namespace = (String) row[MemoryTable.NAMESPACE];
          String key = (String) row[MemoryTable.KEY];
          byte[] aad = MemoryTable.valueAad(namespace, key);
          if (row[MemoryTable.VALUE] instanceof byte[] sealed) {
            if (!seal) {
              atRest.openSealed(
                  sealed, aad, () -> "the value of memory entry " + namespace + "/" + key);
              n++;
            }
            continue;
          }
          if (!seal) {
            continue;
          }
          byte[] plain = ((String) row[MemoryTable.VALUE]).getBytes(StandardCharsets.UTF_8);
          row[MemoryTable.VALUE] = atRest.seal(plain, aad);
          write.setBytes(1, (byte[]) row[MemoryTable.VALUE]);
          write.setLong(2, RecordChecksum.of(MemoryTable.NAME, row));
          write.setLong(3, after);
          write.executeUpdate();
          n++;
        }
      }
    }
  }
}
