package dev.cfn.certify;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A broken store, for the honesty tests only ({@code --lose-every}): a journal that acknowledges
 * every message but drops the effects of every K-th consumer acknowledgement, as a store that loses
 * commits would. The reliability check must see the loss.
 */
final class LosingJournal implements Journal {
  private final Journal real;
  private final int every;
  private final AtomicLong acks = new AtomicLong();

  LosingJournal(Journal real, int every) {
    this.real = real;
    this.every = every;
  }

  @Override
  public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
    if (message.payload() instanceof CrashNode.Item && acks.incrementAndGet() % every == 0) {
      return real.acknowledge(message, List.of());
    }
    return real.acknowledge(message, effects);
  }

  @Override
  public List<JournalEntry> recover() {
    return real.recover();
  }

  @Override
  public long highestId() {
    return real.highestId();
  }

  @Override
  public void append(Envelope message) {
    real.append(message);
  }

  @Override
  public long appendOnce(Envelope message) {
    return real.appendOnce(message);
  }

  @Override
  public Optional<Long> idempotencyKeyId(String key) {
    return real.idempotencyKeyId(key);
  }

  @Override
  public CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error) {
    return real.recordFailure(message, attempt, error);
  }

  @Override
  public CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause) {
    return real.deadLetter(message, attempts, cause);
  }

  @Override
  public Optional<String> state(String namespace, String key) {
    return real.state(namespace, key);
  }

  @Override
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    return real.stateByPrefix(namespace, prefix, limit);
  }

  @Override
  public long quarantinedCount() {
    return real.quarantinedCount();
  }

  @Override
  public Optional<Envelope> replayDeadLetter(long id) {
    return real.replayDeadLetter(id);
  }

  @Override
  public boolean isAcknowledged(long id) {
    return real.isAcknowledged(id);
  }

  @Override
  public void close() {
    real.close();
  }
}
