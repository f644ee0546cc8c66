package dev.cfn.cluster.pg;

import dev.cfn.core.spi.JournalException;

/**
 * A write made under a {@link Lease} was refused because the lease is no longer held at its epoch
 * (it expired, was released, or another node took the partition over): nothing of it was stored.
 * The node must stop working on the partition; it may {@linkplain PgLeases#acquire acquire} it
 * again, under a new epoch, and then recover its messages before going on.
 */
public final class LeaseLostException extends JournalException {
  private static final long serialVersionUID = 1L;

  private final int partition;
  private final String owner;
  private final long epoch;

  LeaseLostException(Fence fence, String what) {
    super(
        what
            + ": node "
            + fence.owner()
            + " no longer holds partition "
            + fence.partition()
            + " at epoch "
            + fence.epoch()
            + " (its lease expired or another node took the partition over); nothing was stored"
            + " (fix: stop handling the partition, acquire it again and recover its messages)");
    this.partition = fence.partition();
    this.owner = fence.owner();
    this.epoch = fence.epoch();
  }

  /** The partition of the lease the refused write was made under. */
  public int partition() {
    return partition;
  }

  /** The node that made the refused write. */
  public String owner() {
    return owner;
  }

  /** The epoch the refused write was made under. */
  public long epoch() {
    return epoch;
  }
}
