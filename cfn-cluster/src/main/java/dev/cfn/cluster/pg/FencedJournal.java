package dev.cfn.cluster.pg;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link PgJournal} as seen by the holder of one partition's lease ({@link PgJournal#under}):
 * writes carry the lease's {@link Fence}, the pending messages are the partition's, reads are the
 * journal's. Closing the view closes nothing (the journal is shared by the node's partitions).
 */
final class FencedJournal implements Journal {
  private final PgJournal journal;
  private final Fence fence;

  FencedJournal(PgJournal journal, Fence fence) {
    this.journal = journal;
    this.fence = fence;
  }

  @Override
  public List<JournalEntry> recover() {
    return journal.recover(fence);
  }

  @Override
  public long highestId() {
    return journal.highestId();
  }

  @Override
  public void append(Envelope message) {
    journal.append(message, fence);
  }

  @Override
  public long appendOnce(Envelope message) {
    return journal.appendOnce(message, fence);
  }

  @Override
  public Optional<Long> idempotencyKeyId(String key) {
    return journal.idempotencyKeyId(key);
  }

  @Override
  public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
    Objects.requireNonNull(message, "message");
    return journal.acknowledge(new long[0], message, effects, fence);
  }

  @Override
  public boolean acknowledgesTogether() {
    return true;
  }

  @Override
  public CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects) {
    return journal.acknowledgeTogether(messages, effects, fence);
  }

  @Override
  public boolean recordsCalls() {
    return true;
  }

  @Override
  public Optional<String> findCall(String key) {
    return journal.findCall(key);
  }

  @Override
  public CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error) {
    return journal.recordFailure(message, attempt, error, fence);
  }

  @Override
  public CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause) {
    return journal.deadLetter(message, attempts, cause, fence);
  }

  @Override
  public Optional<String> state(String namespace, String key) {
    return journal.state(namespace, key);
  }

  @Override
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    return journal.stateByPrefix(namespace, prefix, limit);
  }

  @Override
  public long quarantinedCount() {
    return journal.quarantinedCount();
  }

  @Override
  public Optional<Envelope> replayDeadLetter(long id) {
    return journal.replayDeadLetter(id, fence);
  }

  @Override
  public boolean isAcknowledged(long id) {
    return journal.isAcknowledged(id);
  }

  /** Closes nothing: the journal stays open for the node's other partitions. */
  @Override
  public void close() {}

  @Override
  public String toString() {
    return "PgJournal under lease of partition "
        + fence.partition()
        + " (node "
        + fence.owner()
        + ", epoch "
        + fence.epoch()
        + ")";
  }
}
