package dev.cfn.cluster.pg;

import com.zaxxer.hikari.HikariDataSource;
import dev.cfn.core.spi.JournalException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The nodes of a cluster, kept in {@code cfn_nodes} (node id, expiry): each live node heartbeats
 * ({@link #heartbeat}) well within its TTL, and a node whose heartbeat lapsed is no longer {@link
 * #live}. Like the leases, expiries are the database's clock ({@code clock_timestamp()}), so the
 * nodes' clocks need not agree. Membership only says who should own partitions (rendezvous hashing
 * over {@link #live}); what fences a node's writes is its partitions' leases.
 */
public final class PgNodes {
  private final HikariDataSource pool;
  private final String where;

  PgNodes(HikariDataSource pool, String where) {
    this.pool = pool;
    this.where = where;
  }

  /** Marks {@code node} live for {@code ttl} from now (joining when it was not). */
  public void heartbeat(String node, Duration ttl) {
    check(node);
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.toMillis() < 1) {
      throw new IllegalArgumentException(
          "a heartbeat's TTL must be at least 1 ms, was " + ttl + " (fix: use seconds, e.g. 10s)");
    }
    update(
        "heartbeat of node " + node,
        "INSERT INTO cfn_nodes (node, expires_at) VALUES (?, clock_timestamp() + ? * interval '1"
            + " millisecond') ON CONFLICT (node) DO UPDATE SET expires_at = excluded.expires_at",
        node,
        ttl.toMillis());
  }

  /** Takes {@code node} out of the live nodes now (a clean leave); its row is deleted. */
  public void leave(String node) {
    check(node);
    update("leave of node " + node, "DELETE FROM cfn_nodes WHERE node = ?", node);
  }

  /** The nodes whose heartbeat is unexpired now, sorted by id. */
  public List<String> live() {
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT node FROM cfn_nodes WHERE expires_at > clock_timestamp() ORDER BY node");
        ResultSet rows = s.executeQuery()) {
      List<String> nodes = new ArrayList<>();
      while (rows.next()) {
        nodes.add(rows.getString(1));
      }
      return nodes;
    } catch (SQLException e) {
      throw new JournalException(
          "cannot read the live nodes in "
              + where
              + ": "
              + PgErrors.describe(e)
              + PgErrors.FIX_CONNECT,
          e);
    }
  }

  private void update(String what, String sql, Object... args) {
    try (Connection c = pool.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        PgWrites.bind(s, i + 1, args[i]);
      }
      s.executeUpdate();
    } catch (SQLException e) {
      throw new JournalException(
          "cannot write the "
              + what
              + " in "
              + where
              + ": "
              + PgErrors.describe(e)
              + PgErrors.FIX_CONNECT,
          e);
    }
  }

  private static void check(String node) {
    Objects.requireNonNull(node, "node");
    if (node.isBlank()) {
      throw new IllegalArgumentException(
          "a node id must not be blank (fix: give each node, and each start of it, its own id)");
    }
  }
}
