package dev.cfn.cluster.pg;

import java.time.Instant;
import java.util.Objects;

/**
 * A node's lease on a partition, as {@link PgLeases} granted it: valid until {@code expiresAt} (the
 * database's clock) unless renewed, and fenced by {@code epoch}, which grows by one each time the
 * partition changes hands. Writes made {@linkplain PgJournal#under under} a lease commit only while
 * the database still holds this exact lease.
 *
 * @param partition the partition, 0 or more
 * @param owner the node id that holds it
 * @param epoch the lease's epoch, 1 for the first owner ever
 * @param expiresAt when it lapses unless renewed, by the database's clock
 */
public record Lease(int partition, String owner, long epoch, Instant expiresAt) {
  /** Validates the parts. */
  public Lease {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (partition < 0) {
      throw new IllegalArgumentException("a partition is 0 or more, was " + partition);
    }
  }
}
