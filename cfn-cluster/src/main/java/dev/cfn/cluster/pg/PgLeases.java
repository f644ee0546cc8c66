package dev.cfn.cluster.pg;

import com.zaxxer.hikari.HikariDataSource;
import dev.cfn.core.spi.JournalException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Leases on partitions, kept in {@code cfn_leases} (partition, owner node, epoch, expiry): who may
 * commit work of a partition, and under which epoch.
 *
 * <ul>
 *   <li>{@link #acquire} takes a partition that is free (never leased, released or expired), with
 *       the epoch one higher than the last: epochs only grow, per partition.
 *   <li>{@link #renew} extends the holder's lease, keeping its epoch; it fails once the lease
 *       expired, even when nobody took it: the holder must acquire again (new epoch) and recover.
 *   <li>{@link #release} gives it up at once, so a survivor need not wait for the TTL.
 *   <li>A write made {@linkplain PgJournal#under under a lease} commits only if the lease row still
 *       names that owner and epoch and is unexpired when the writer's batch runs; the batch holds
 *       the row with {@code FOR SHARE} until it commits, so a takeover waits for it, and a zombie's
 *       write after the takeover fails ({@link LeaseLostException}).
 * </ul>
 *
 * <p>Every expiry is computed and compared by the database's clock ({@code clock_timestamp()}), so
 * the nodes' clocks need not agree; a node should renew well within the TTL (say every TTL / 3) and
 * stop work on a partition as soon as a renewal fails or its own timer passes the expiry. Each call
 * is one statement in its own transaction on a pooled connection. The calls are per partition, so
 * the NATS side runs one lease per partition it owns (rendezvous hashing decides which to try).
 */
public final class PgLeases {
  private static final String COLUMNS = "part, owner, epoch, expires_at";

  private final HikariDataSource pool;
  private final String where;

  PgLeases(HikariDataSource pool, String where) {
    this.pool = pool;
    this.where = where;
  }

  /**
   * Takes {@code partition} for {@code node} for {@code ttl} when nobody holds it (or the lease
   * lapsed), with the next epoch; empty when another lease, or this node's own, is still valid.
   */
  public Optional<Lease> acquire(int partition, String node, Duration ttl) {
    check(partition, node, ttl);
    return one(
        "acquire partition " + partition,
        "INSERT INTO cfn_leases (part, owner, epoch, expires_at)"
            + " VALUES (?, ?, 1, clock_timestamp() + ? * interval '1 millisecond')"
            + " ON CONFLICT (part) DO UPDATE SET owner = excluded.owner,"
            // the expiry is computed again here, after the row lock was granted: the VALUES
            // above are evaluated before the statement waits for a transaction that holds the row
            // (a writer's FOR SHARE), so excluded.expires_at may already be past by then
            + " epoch = cfn_leases.epoch + 1,"
            + " expires_at = clock_timestamp() + ? * interval '1 millisecond'"
            + " WHERE cfn_leases.expires_at <= clock_timestamp() RETURNING "
            + COLUMNS,
        partition,
        node,
        ttl.toMillis(),
        ttl.toMillis());
  }

  /**
   * Extends {@code lease} to {@code ttl} from now, same epoch; empty when it is no longer held
   * (expired, released or taken over): stop work on the partition then.
   */
  public Optional<Lease> renew(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    check(lease.partition(), lease.owner(), ttl);
    return one(
        "renew the lease of partition " + lease.partition(),
        "UPDATE cfn_leases SET expires_at = clock_timestamp() + ? * interval '1 millisecond'"
            + " WHERE part = ? AND owner = ? AND epoch = ? AND expires_at > clock_timestamp()"
            + " RETURNING "
            + COLUMNS,
        ttl.toMillis(),
        lease.partition(),
        lease.owner(),
        lease.epoch());
  }

  /**
   * {@link #acquire} for each of {@code partitions}, in one statement: the leases taken, those
   * whose partitions were free (never leased, released or expired), each with its next epoch.
   */
  public java.util.List<Lease> acquireAll(
      java.util.Collection<Integer> partitions, String node, Duration ttl) {
    Objects.requireNonNull(partitions, "partitions");
    java.util.List<Lease> taken = new java.util.ArrayList<>();
    if (partitions.isEmpty()) {
      return taken;
    }
    for (int p : partitions) {
      check(p, node, ttl);
    }
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO cfn_leases (part, owner, epoch, expires_at)"
                    + " SELECT p, ?, 1, clock_timestamp() + ? * interval '1 millisecond'"
                    + " FROM unnest(?::integer[]) AS p"
                    + " ON CONFLICT (part) DO UPDATE SET owner = excluded.owner,"
                    + " epoch = cfn_leases.epoch + 1, expires_at = excluded.expires_at"
                    + " WHERE cfn_leases.expires_at <= clock_timestamp() RETURNING "
                    + COLUMNS)) {
      s.setString(1, node);
      s.setLong(2, ttl.toMillis());
      // ascending, the order every other statement locks lease rows in
      s.setArray(
          3, c.createArrayOf("integer", partitions.stream().sorted().toArray(Integer[]::new)));
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          taken.add(
              new Lease(
                  rows.getInt(1),
                  rows.getString(2),
                  rows.getLong(3),
                  rows.getTimestamp(4).toInstant()));
        }
      }
      return taken;
    } catch (SQLException e) {
      throw new JournalException(
          "cannot acquire "
              + partitions.size()
              + " leases in "
              + where
              + ": "
              + PgErrors.describe(e)
              + PgErrors.FIX_CONNECT,
          e);
    }
  }

  /**
   * Extends every lease of {@code leases} to {@code ttl} from now, same epochs, in one statement;
   * returns those still held (renewed), the others were lost (expired, released or taken over).
   */
  public java.util.List<Lease> renewAll(java.util.Collection<Lease> leases, Duration ttl) {
    Objects.requireNonNull(leases, "leases");
    java.util.List<Lease> renewed = new java.util.ArrayList<>();
    if (leases.isEmpty()) {
      return renewed;
    }
    Integer[] parts = new Integer[leases.size()];
    String[] owners = new String[parts.length];
    Long[] epochs = new Long[parts.length];
    int i = 0;
    for (Lease lease : leases) {
      check(lease.partition(), lease.owner(), ttl);
      parts[i] = lease.partition();
      owners[i] = lease.owner();
      epochs[i] = lease.epoch();
      i++;
    }
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                // The rows are locked in ascending partition order first, as a writer's batch
                // locks its fences (PgWriter): an UPDATE ... FROM locks in join order, which
                // deadlocked against a batch holding several lease rows FOR SHARE.
                "WITH mine AS (SELECT l.part FROM cfn_leases l JOIN unnest(?::integer[],"
                    + " ?::text[], ?::bigint[]) AS h(part, owner, epoch) ON l.part = h.part AND"
                    + " l.owner = h.owner AND l.epoch = h.epoch WHERE l.expires_at >"
                    + " clock_timestamp() ORDER BY l.part FOR UPDATE OF l)"
                    + " UPDATE cfn_leases l SET expires_at = clock_timestamp() + ? * interval '1"
                    + " millisecond' FROM mine WHERE l.part = mine.part RETURNING l.part,"
                    + " l.owner, l.epoch, l.expires_at")) {
      s.setArray(1, c.createArrayOf("integer", parts));
      s.setArray(2, c.createArrayOf("text", owners));
      s.setArray(3, c.createArrayOf("bigint", epochs));
      s.setLong(4, ttl.toMillis());
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          renewed.add(
              new Lease(
                  rows.getInt(1),
                  rows.getString(2),
                  rows.getLong(3),
                  rows.getTimestamp(4).toInstant()));
        }
      }
      return renewed;
    } catch (SQLException e) {
      throw new JournalException(
          "cannot renew "
              + parts.length
              + " leases in "
              + where
              + ": "
              + PgErrors.describe(e)
              + PgErrors.FIX_CONNECT,
          e);
    }
  }

  /**
   * Gives {@code lease} up now (its row stays, expired, so the next epoch is one higher); false
   * when it was no longer held.
   */
  public boolean release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    return one(
            "release the lease of partition " + lease.partition(),
            "UPDATE cfn_leases SET expires_at = clock_timestamp() WHERE part = ? AND owner = ?"
                + " AND epoch = ? AND expires_at > clock_timestamp() RETURNING "
                + COLUMNS,
            lease.partition(),
            lease.owner(),
            lease.epoch())
        .isPresent();
  }

  /** The lease of {@code partition} now, when one is valid. */
  public Optional<Lease> holder(int partition) {
    if (partition < 0) {
      throw new IllegalArgumentException("a partition is 0 or more, was " + partition);
    }
    return one(
        "read the lease of partition " + partition,
        "SELECT " + COLUMNS + " FROM cfn_leases WHERE part = ? AND expires_at > clock_timestamp()",
        partition);
  }

  private static void check(int partition, String node, Duration ttl) {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(ttl, "ttl");
    if (partition < 0) {
      throw new IllegalArgumentException("a partition is 0 or more, was " + partition);
    }
    if (node.isBlank()) {
      throw new IllegalArgumentException(
          "a node id must not be blank (fix: give each node, and each start of it, its own id)");
    }
    if (ttl.toMillis() < 1) {
      throw new IllegalArgumentException(
          "a lease's TTL must be at least 1 ms, was " + ttl + " (fix: use seconds, e.g. 10s)");
    }
  }

  private Optional<Lease> one(String what, String sql, Object... args) {
    try (Connection c = pool.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        PgWrites.bind(s, i + 1, args[i]);
      }
      try (ResultSet rows = s.executeQuery()) {
        if (!rows.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new Lease(
                rows.getInt(1),
                rows.getString(2),
                rows.getLong(3),
                rows.getTimestamp(4).toInstant()));
      }
    } catch (SQLException e) {
      throw new JournalException(
          "cannot " + what + " in " + where + ": " + PgErrors.describe(e) + PgErrors.FIX_CONNECT,
          e);
    }
  }
}
