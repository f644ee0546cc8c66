package dev.cfn.testkit.journal;

import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import dev.cfn.core.InMemoryJournal;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A {@link Journal} that forwards every call to a real one and breaks its commits on purpose, for
 * tests that must see what happens when the store fails, or lies:
 *
 * <ul>
 *   <li>{@link #failNext}: the next N commits a selection picks fail, as on a full disk: the future
 *       completes exceptionally with a {@link JournalException}, the real journal is not called,
 *       nothing is applied and the messages stay pending. {@link #failNextWithEffects} selects by
 *       the commit's effects too (say the commit that writes a given state key).
 *   <li>{@link #loseEvery}: every K-th commit a selection picks is acknowledged with its effects
 *       dropped, as by a store that loses commits: the runtime is told it succeeded; only an audit
 *       of the effects can see the loss.
 *   <li>{@link #onCommit}, {@link #onFailed} and {@link #onApplied}: the test's listeners, told of
 *       each commit before it is attempted (failed or not), when it is failed on purpose, and after
 *       the real journal applied it (its future yielded true), e.g. to count batches, to look at
 *       the system at the moment of a failure, or to kill the process at a known point.
 * </ul>
 *
 * <p>A <em>commit</em> is one {@link #acknowledge} (a list of its one message) or one {@link
 * #acknowledgeTogether} (its messages). Every other method, the interface's default methods
 * included, is the real journal's, so the wrapper behaves as the real journal does until a fault
 * picks a commit; {@link #close} closes the real journal. Safe for concurrent use, as journals are;
 * the faults may be set or changed while the journal is in use.
 *
 * <pre>{@code
 * FaultyJournal journal = FaultyJournal.inMemory()
 *     .failNext(3, messages -> messages.size() > 1); // the first three batched commits fail
 * try (AgentRuntime rt = AgentRuntime.builder().journal(journal).build()) {
 *   ...
 * }
 * assertThat(journal.failed()).isEqualTo(3);
 * }</pre>
 *
 * <p>Needs cfn-core on the class path, as every user of a {@link Journal} has it.
 */
public final class FaultyJournal implements Journal {
  private final Journal real;
  private final AtomicInteger failLeft = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicLong loseSeen = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final List<Consumer<? super List<Envelope>>> beforeCommit = new CopyOnWriteArrayList<>();
  private final List<Consumer<? super List<Envelope>>> whenFailed = new CopyOnWriteArrayList<>();
  private final List<Consumer<? super List<Envelope>>> afterApplied = new CopyOnWriteArrayList<>();
  private volatile BiPredicate<? super List<Envelope>, ? super List<Effect>> failWhich =
      (messages, effects) -> false;
  private volatile Predicate<? super List<Envelope>> loseWhich = messages -> false;
  private volatile int loseEvery;

  private FaultyJournal(Journal real) {
    this.real = Objects.requireNonNull(real, "real");
  }

  /** Wraps {@code real}; no fault until one is set. */
  public static FaultyJournal wrapping(Journal real) {
    return new FaultyJournal(real);
  }

  /** Wraps a new {@link InMemoryJournal}; no fault until one is set. */
  public static FaultyJournal inMemory() {
    return new FaultyJournal(new InMemoryJournal());
  }

  /**
   * Fails the next {@code times} commits that {@code which} picks (it is asked once per commit);
   * {@code times} 0 ends the fault. Replaces the previous {@code failNext}.
   *
   * @throws IllegalArgumentException when {@code times} is negative
   */
  public FaultyJournal failNext(int times, Predicate<? super List<Envelope>> which) {
    Objects.requireNonNull(which, "which");
    return failNextWithEffects(times, (messages, effects) -> which.test(messages));
  }

  /**
   * Fails the next {@code times} commits that {@code which} picks by their messages and effects (it
   * is asked once per commit, with the effects the runtime gave); {@code times} 0 ends the fault.
   * Replaces the previous {@code failNext}.
   *
   * @throws IllegalArgumentException when {@code times} is negative
   */
  public FaultyJournal failNextWithEffects(
      int times, BiPredicate<? super List<Envelope>, ? super List<Effect>> which) {
    if (times < 0) {
      throw new IllegalArgumentException("times must be 0 or more, was " + times);
    }
    failWhich = Objects.requireNonNull(which, "which");
    failLeft.set(times);
    return this;
  }

  /**
   * Drops the effects of every {@code every}-th commit that {@code which} picks (it is asked once
   * per commit that did not fail), acknowledging its messages all the same. Replaces the previous
   * {@code loseEvery}.
   *
   * @throws IllegalArgumentException when {@code every} is below 1
   */
  public FaultyJournal loseEvery(int every, Predicate<? super List<Envelope>> which) {
    if (every < 1) {
      throw new IllegalArgumentException("every must be 1 or more, was " + every);
    }
    loseWhich = Objects.requireNonNull(which, "which");
    loseEvery = every;
    return this;
  }

  /** Tells {@code listener} of each commit's messages before it is attempted, on its thread. */
  public FaultyJournal onCommit(Consumer<? super List<Envelope>> listener) {
    beforeCommit.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Tells {@code listener} of each commit's messages when it is failed on purpose, on its thread,
   * before the caller's future fails.
   */
  public FaultyJournal onFailed(Consumer<? super List<Envelope>> listener) {
    whenFailed.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Tells {@code listener} of each commit's messages once the real journal applied it (its future
   * yielded true), before the caller's future completes.
   */
  public FaultyJournal onApplied(Consumer<? super List<Envelope>> listener) {
    afterApplied.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /** The commits failed on purpose so far. */
  public int failed() {
    return failed.get();
  }

  /** The commits whose effects were dropped on purpose so far. */
  public long lost() {
    return lost.get();
  }

  /** The journal this one forwards to. */
  public Journal real() {
    return real;
  }

  @Override
  public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
    return commit(List.of(message), effects, kept -> real.acknowledge(message, kept));
  }

  @Override
  public CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects) {
    return commit(messages, effects, kept -> real.acknowledgeTogether(messages, kept));
  }

  private CompletableFuture<Boolean> commit(
      List<Envelope> messages,
      List<Effect> effects,
      Function<List<Effect>, CompletableFuture<Boolean>> apply) {
    for (Consumer<? super List<Envelope>> l : beforeCommit) {
      l.accept(messages);
    }
    if (failWhich.test(messages, effects) && failLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      failed.incrementAndGet();
      for (Consumer<? super List<Envelope>> l : whenFailed) {
        l.accept(messages);
      }
      return CompletableFuture.failedFuture(
          new JournalException(
              "the commit of "
                  + messages.size()
                  + " message(s) failed on purpose (FaultyJournal, as on a full disk)"));
    }
    List<Effect> kept = effects;
    int every = loseEvery;
    if (every > 0 && loseWhich.test(messages) && loseSeen.incrementAndGet() % every == 0) {
      lost.incrementAndGet();
      kept = List.of();
    }
    CompletableFuture<Boolean> f = apply.apply(kept);
    if (afterApplied.isEmpty()) {
      return f;
    }
    return f.thenApply(
        applied -> {
          if (applied) {
            for (Consumer<? super List<Envelope>> l : afterApplied) {
              l.accept(messages);
            }
          }
          return applied;
        });
  }

  @Override
  public boolean acknowledgesTogether() {
    return real.acknowledgesTogether();
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
  public CompletableFuture<Void> appendQueued(Envelope message) {
    return real.appendQueued(message);
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
  public boolean recordsCalls() {
    return real.recordsCalls();
  }

  @Override
  public Optional<String> findCall(String key) {
    return real.findCall(key);
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
  public Optional<String> state(AgentId agent, String key) {
    return real.state(agent, key);
  }

  @Override
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    return real.stateByPrefix(namespace, prefix, limit);
  }

  @Override
  public SortedMap<String, String> stateByPrefix(AgentId agent, String prefix, int limit) {
    return real.stateByPrefix(agent, prefix, limit);
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
