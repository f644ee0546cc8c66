package dev.cfn.core;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Journal} that forwards each of the interface's own methods (and {@link #stateByPrefix})
 * to an {@link InMemoryJournal}, for tests that override one or two of them to count or break
 * commits. The interface's other default methods stay the interface's. (cfn-core's tests cannot use
 * cfn-testkit's {@code FaultyJournal}: cfn-testkit depends on cfn-core.)
 */
class ForwardingJournal implements Journal {
  final InMemoryJournal inner = new InMemoryJournal();

  @Override
  public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
    return inner.acknowledge(message, effects);
  }

  @Override
  public List<JournalEntry> recover() {
    return inner.recover();
  }

  @Override
  public long highestId() {
    return inner.highestId();
  }

  @Override
  public void append(Envelope message) {
    inner.append(message);
  }

  @Override
  public CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error) {
    return inner.recordFailure(message, attempt, error);
  }

  @Override
  public CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause) {
    return inner.deadLetter(message, attempts, cause);
  }

  @Override
  public Optional<String> state(String namespace, String key) {
    return inner.state(namespace, key);
  }

  @Override
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    return inner.stateByPrefix(namespace, prefix, limit);
  }

  @Override
  public Optional<Envelope> replayDeadLetter(long id) {
    return inner.replayDeadLetter(id);
  }

  @Override
  public boolean isAcknowledged(long id) {
    return inner.isAcknowledged(id);
  }

  @Override
  public void close() {
    inner.close();
  }
}
