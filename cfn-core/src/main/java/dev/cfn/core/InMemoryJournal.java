package dev.cfn.core;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Journal} kept in memory: the same contract as a durable journal except durability, so
 * nothing survives the process. It lets the RELIABLE stages (journal, acknowledge, retry, dead
 * letters, effects, outbox) run and be tested without a database, and lets examples show RELIABLE
 * delivery without a file. Use cfn-store's {@code SqliteJournal} for messages that must survive a
 * crash.
 *
 * <p>One instance may back several runtimes one after the other (close one, build the next with the
 * same journal): the next runtime recovers what the previous one left unacknowledged, as after a
 * restart. Every method is thread-safe (one monitor); futures complete before they are returned.
 *
 * <p>Idempotency keys ({@link #appendOnce}) are remembered for the key retention period, 7 days by
 * default ({@link #InMemoryJournal(Duration, InstantSource)} sets another); expired keys are
 * dropped on the next keyed append.
 */
public final class InMemoryJournal implements Journal {
  private final Map<Long, Envelope> pending = new LinkedHashMap<>();
  private final Map<Long, Integer> attempts = new HashMap<>();
  private final Map<Long, Envelope> dead = new LinkedHashMap<>();
  private final Set<Long> acknowledged = new HashSet<>();
  // Idempotency key -> the message stored under it, oldest first (keys are added in time order).
  private final LinkedHashMap<String, StoredKey> keys = new LinkedHashMap<>();
  private final Duration keyRetention;
  private final InstantSource clock;
  private final Map<String, TreeMap<String, String>> state = new HashMap<>(); // namespace -> keys
  private long highest;

  private record StoredKey(long id, Instant at) {}

  /** The default retention of idempotency keys: 7 days, as SqliteJournal's. */
  public static final Duration DEFAULT_KEY_RETENTION = Duration.ofDays(7);

  /** An empty journal that keeps idempotency keys for {@link #DEFAULT_KEY_RETENTION}. */
  public InMemoryJournal() {
    this(DEFAULT_KEY_RETENTION, InstantSource.system());
  }

  /**
   * An empty journal that keeps idempotency keys for {@code keyRetention}, timed by {@code clock}.
   *
   * @throws IllegalArgumentException when the retention is not positive
   */
  public InMemoryJournal(Duration keyRetention, InstantSource clock) {
    Objects.requireNonNull(keyRetention, "keyRetention");
    if (keyRetention.isNegative() || keyRetention.isZero()) {
      throw new IllegalArgumentException(
          "the key retention must be positive, was "
              + keyRetention
              + "; the default is "
              + DEFAULT_KEY_RETENTION);
    }
    this.keyRetention = keyRetention;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized List<JournalEntry> recover() {
    List<JournalEntry> out = new ArrayList<>(pending.size());
    for (Envelope e : pending.values()) {
      out.add(new JournalEntry(e, attempts.getOrDefault(e.id(), 0)));
    }
    return out;
  }

  @Override
  public synchronized long highestId() {
    return highest;
  }

  @Override
  public synchronized void append(Envelope message) {
    store(message);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Keys expire {@code keyRetention} after their first append.
   */
  @Override
  public synchronized long appendOnce(Envelope message) {
    String key = message.idempotencyKey().orElse(null);
    if (key == null) {
      store(message);
      return message.id();
    }
    Instant now = clock.instant();
    Instant cutoff = now.minus(keyRetention);
    for (Iterator<StoredKey> it = keys.values().iterator(); it.hasNext(); ) {
      if (it.next().at().isBefore(cutoff)) {
        it.remove();
      } else {
        break;
      }
    }
    StoredKey first = keys.get(key);
    if (first != null) {
      return first.id();
    }
    keys.put(key, new StoredKey(message.id(), now));
    store(message);
    return message.id();
  }

  @Override
  public synchronized Optional<Long> idempotencyKeyId(String key) {
    StoredKey k = keys.get(Objects.requireNonNull(key, "key"));
    return k == null || k.at().isBefore(clock.instant().minus(keyRetention))
        ? Optional.empty()
        : Optional.of(k.id());
  }

  /** Idempotency keys remembered now (expired ones are dropped on the next keyed append). */
  public synchronized int idempotencyKeyCount() {
    return keys.size();
  }

  private void store(Envelope message) {
    pending.put(message.id(), message);
    highest = Math.max(highest, message.id());
  }

  @Override
  public synchronized CompletableFuture<Boolean> acknowledge(
      Envelope message, List<Effect> effects) {
    if (acknowledged.contains(message.id())) {
      return CompletableFuture.completedFuture(false);
    }
    return apply(List.of(message), message, effects);
  }

  @Override
  public boolean acknowledgesTogether() {
    return true;
  }

  @Override
  public synchronized CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("no messages to acknowledge");
    }
    for (Envelope m : messages) {
      if (acknowledged.contains(m.id())) {
        return CompletableFuture.failedFuture(
            new JournalException(
                "message "
                    + m.id()
                    + " was acknowledged before, so none of the "
                    + messages.size()
                    + " messages acknowledged together was; acknowledge them one at a time"));
      }
    }
    return apply(messages, messages.getLast(), effects);
  }

  /** Acknowledges {@code messages} with {@code effects}, all or nothing ({@code last} names it). */
  private CompletableFuture<Boolean> apply(
      List<Envelope> messages, Envelope message, List<Effect> effects) {
    // Evaluate every state change first, so a refused increment or compare-and-set applies nothing.
    Map<List<String>, String> staged = new LinkedHashMap<>(); // (namespace, key) -> value or null
    for (Effect effect : effects) {
      try {
        switch (effect) {
          case Effect.Put p -> staged.put(List.of(p.namespace(), p.key()), p.value());
          case Effect.Delete d -> staged.put(List.of(d.namespace(), d.key()), null);
          case Effect.Increment i -> {
            String current = staged(staged, i.namespace(), i.key());
            staged.put(
                List.of(i.namespace(), i.key()),
                Long.toString(
                    Math.addExact(current == null ? 0 : Long.parseLong(current), i.delta())));
          }
          case Effect.CompareAndSet c -> {
            String current = staged(staged, c.namespace(), c.key());
            if (!Objects.equals(current, c.expected())) {
              throw new JournalException(
                  "compare-and-set of state key '"
                      + c.key()
                      + "' of "
                      + c.namespace()
                      + " found another value than expected");
            }
            staged.put(List.of(c.namespace(), c.key()), c.value());
          }
          case Effect.Send s -> {}
          case Effect.RecordCall r -> {} // never given one: recordsCalls() is false
        }
      } catch (JournalException | ArithmeticException | NumberFormatException e) {
        return CompletableFuture.failedFuture(
            e instanceof JournalException j
                ? refused(message, j.getMessage(), j)
                : refused(message, e.toString(), e));
      }
    }
    for (Envelope m : messages) {
      pending.remove(m.id());
      attempts.remove(m.id());
      acknowledged.add(m.id());
    }
    staged.forEach(
        (k, v) -> {
          if (v == null) {
            TreeMap<String, String> keys = state.get(k.get(0));
            if (keys != null) {
              keys.remove(k.get(1));
            }
          } else {
            state.computeIfAbsent(k.get(0), n -> new TreeMap<>()).put(k.get(1), v);
          }
        });
    for (Effect effect : effects) {
      if (effect instanceof Effect.Send s) {
        store(s.envelope());
      }
    }
    return CompletableFuture.completedFuture(true);
  }

  private String staged(Map<List<String>, String> staged, String namespace, String key) {
    List<String> k = List.of(namespace, key);
    if (staged.containsKey(k)) {
      return staged.get(k);
    }
    TreeMap<String, String> keys = state.get(namespace);
    return keys == null ? null : keys.get(key);
  }

  private static JournalException refused(Envelope message, String why, Throwable cause) {
    return new JournalException(
        "message "
            + message.id()
            + " was not acknowledged and stays pending; none of its effects were applied: "
            + why,
        cause);
  }

  @Override
  public synchronized CompletableFuture<Void> recordFailure(
      Envelope message, int attempt, String error) {
    attempts.put(message.id(), attempt);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized CompletableFuture<Void> deadLetter(
      Envelope message, int attempts, String cause) {
    pending.remove(message.id());
    this.attempts.remove(message.id());
    dead.put(message.id(), message);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized Optional<String> state(String namespace, String key) {
    TreeMap<String, String> keys = state.get(namespace);
    return Optional.ofNullable(keys == null ? null : keys.get(key));
  }

  @Override
  public synchronized SortedMap<String, String> stateByPrefix(
      String namespace, String prefix, int limit) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(prefix, "prefix");
    Journal.checkPrefixLimit(limit);
    TreeMap<String, String> out = new TreeMap<>();
    TreeMap<String, String> keys = state.get(namespace);
    if (keys != null) {
      for (Map.Entry<String, String> e : keys.tailMap(prefix, true).entrySet()) {
        if (!e.getKey().startsWith(prefix) || out.size() == limit) {
          break;
        }
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  @Override
  public synchronized Optional<Envelope> replayDeadLetter(long id) {
    Envelope e = dead.remove(id);
    if (e != null) {
      pending.put(id, e);
    }
    return Optional.ofNullable(e);
  }

  @Override
  public synchronized boolean isAcknowledged(long id) {
    return acknowledged.contains(id);
  }

  /** Messages appended and neither acknowledged nor dead-lettered. */
  public synchronized int pendingCount() {
    return pending.size();
  }

  /** Nothing to flush; the contents stay for the next runtime built on this journal. */
  @Override
  public void close() {}
}
