package dev.cfn.cluster.pg;

/**
 * The lease a write is made under: the write commits only if {@code owner} still holds {@code
 * partition} at {@code epoch}, unexpired by the database's clock, when its transaction commits.
 *
 * @param partition the partition
 * @param owner the node holding it
 * @param epoch the lease's epoch
 */
record Fence(int partition, String owner, long epoch) {
  static Fence of(Lease lease) {
    return new Fence(lease.partition(), lease.owner(), lease.epoch());
  }
}
