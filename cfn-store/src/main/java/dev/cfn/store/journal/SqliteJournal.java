package dev.cfn.store.journal;

import static dev.cfn.store.journal.MessageCodec.number;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.sqlite.PrivateFiles;
import dev.cfn.store.sqlite.SqliteErrors;
import dev.cfn.store.sqlite.SqliteLibrary;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link Journal}: one SQLite file in WAL mode, written by one thread with group
 * commit.
 *
 * <pre>{@code
 * try (SqliteJournal journal = SqliteJournal.builder(Path.of(".cfn/journal.db"))
 *     .payloadType(TaskCreated.class, TaskDone.class)
 *     .backups(Path.of("/backup/cfn"))      // optional: a verified snapshot every minute
 *     .open()) {
 *   journal.append(envelope);            // returns once durable
 *   journal.acknowledge(envelope, List.of(new Effect.Put("worker/1", "done", "42"))).join();
 * }
 * }</pre>
 *
 * <p><b>Durability.</b> {@link #append} returns, and the futures of {@link #acknowledge}, {@link
 * #recordFailure} and {@link #deadLetter} complete, only after the transaction holding them
 * committed. With {@link Synchronous#FULL} (the default) every commit fsyncs the write-ahead log,
 * so a committed write survives a power loss or an OS crash. With {@link Synchronous#NORMAL} the
 * log is fsynced only at checkpoints: a committed write survives the process crashing or being
 * killed, but the last transactions may be lost on power loss or an OS crash (the file stays
 * consistent; they are simply missing).
 *
 * <p><b>Group commit.</b> Writes go through one queue to one writer thread, which commits
 * everything queued in one transaction (one fsync), each operation in a savepoint of its own so
 * that a bad operation fails alone. Concurrent writers therefore share fsyncs, and the batch grows
 * with the load.
 *
 * <p><b>One owner.</b> Opening takes an exclusive OS lock on {@code <file>.lock}; a second open, in
 * this or another process, fails with {@link JournalException}. The lock is the owner's lease on
 * every message in flight: the OS drops it when the process exits or dies, so after a crash the
 * next process opens the file and {@link #recover()}s what was pending. Keep the file on a local
 * disk: network file systems do not honour these locks reliably.
 *
 * <p><b>Integrity.</b> Every record carries a CRC32C of its canonical bytes, verified whenever the
 * record is read: a damaged record throws {@link JournalException} naming its table and key instead
 * of returning bad data, except that {@link #recover()} moves a damaged pending message to the
 * {@linkplain #quarantine() quarantine} and goes on, so one bad record never keeps a node down.
 * {@link #check()} runs SQLite's integrity check and verifies every record. Opening a file migrates
 * it to the current schema version in one transaction, and refuses a file written by a newer cfn.
 *
 * <p><b>Payloads</b> are stored as JSON (Jackson) with their class name, and rebuilt only as an
 * allowed class: {@link String}, {@code byte[]}, boxed primitives, plain JSON {@link Map} and
 * {@link List}, and the classes registered with {@link Builder#payloadType}. A file never makes
 * this process load a class it names.
 *
 * <p><b>Time.</b> The {@linkplain Builder#clock clock} stamps stored times (acknowledgement,
 * attempts, dead letters) and backups (their names and {@link BackupInfo#takenAt()}), and decides
 * retention; in-process timing (the periodic sweep) uses {@link System#nanoTime()}. Acknowledged
 * ids, and producers' idempotency keys ({@link #appendOnce}), are kept for the {@linkplain
 * Builder#retention retention} period (7 days by default) for deduplication, then swept, on open
 * and periodically.
 *
 * <p><b>Backups and restore.</b> {@link #backupTo} writes an online snapshot while traffic runs,
 * and {@link JournalFiles#backup(Path, Path)} does the same for a journal file another process has
 * open ({@code cfn backup}): a read-only connection copies the database with SQLite's {@code VACUUM
 * INTO} in one read transaction, so a backup is exactly the transactions committed before it began
 * (WAL lets it read while the owner writes, without its lock). Each backup goes to a temporary
 * sibling, is fsynced and verified (integrity check, schema version, every checksum), and only then
 * appears under its name; an existing file is never overwritten. {@link Builder#backups(Path,
 * Duration, int)} takes them on a schedule (every minute by default: the recovery point) and keeps
 * the newest ones; {@link #lastBackup()} tells the last. {@link JournalFiles#restore(Path, Path)}
 * puts a verified backup in place of the journal of a stopped runtime, moving the previous files
 * aside (never deleting them), and {@link JournalFiles#check(Path)} verifies a file that may be in
 * use ({@code cfn store check}).
 *
 * <p>The file operations ({@link JournalFiles}: check, backup, restore) and the dead-letter
 * administration ({@link #deadLetterQueue()}) serve tools such as the {@code cfn} command. Since
 * the file has one owner at a time, the administration works on the journal of a stopped runtime;
 * {@link JournalFiles#check(Path)}, {@link JournalFiles#backup(Path, Path)} and {@link
 * #openReadOnly(Path)} (a {@link JournalReader}: state, dead letters, quarantine) also work on a
 * running one's, without its lock.
 */
public final class SqliteJournal implements Journal {
  private static final Logger log = LoggerFactory.getLogger(SqliteJournal.class);

  /** How hard a commit pushes the data to the disk; see the class comment. */
  public enum Synchronous {
    /** Every commit is fsynced: it survives power loss. The default. */
    FULL,
    /**
     * Commits are fsynced at checkpoints only: they survive a process crash, but the last ones may
     * be lost on power loss or an OS crash. Faster on slow disks.
     */
    NORMAL
  }

  /** The interval of {@link Builder#backups(Path)}: one minute. */
  public static final Duration DEFAULT_BACKUP_INTERVAL = Duration.ofMinutes(1);

  /** The state keys {@link Builder#stateCacheKeys} holds in memory by default: 100,000. */
  public static final int DEFAULT_STATE_CACHE_KEYS = 100_000;

  /** The backups {@link Builder#backups(Path)} keeps: 60, an hour at the default interval. */
  public static final int DEFAULT_BACKUP_KEEP = 60;

  private final Path file;
  private final Duration retention;
  private final MessageCodec codec;
  private final LockFile lock;
  private final JournalWriter writer;
  private final Clock clock;
  private final AtomicReference<BackupInfo> lastBackup = new AtomicReference<>();
  private final BackupSchedule backups; // null without scheduled backups
  private final Object readLock = new Object();
  private final DeadLetterQueue deadLetterQueue = new DeadLetterQueue(this);
  private final JournalQuarantine quarantine = new JournalQuarantine(this);
  private final java.util.concurrent.atomic.AtomicLong quarantined =
      new java.util.concurrent.atomic.AtomicLong();
  private final StateCache stateCache;
  // Appends queued by appendQueued whose commit has not happened yet (removed by the writer right
  // after the commit), and those that failed (removed once an acknowledgement was refused): an
  // acknowledgement of one of these must find its message pending.
  private final ConcurrentHashMap<Long, CompletableFuture<Void>> queuedAppends =
      new ConcurrentHashMap<>();
  private Connection reader; // guarded by readLock; null once closed
  private boolean closed; // guarded by this
  private volatile boolean readable = true; // false once close() began
  private boolean ownsAtRest; // the builder opened the keyring: close() erases its keys

  private SqliteJournal(
      Path file,
      Duration retention,
      MessageCodec codec,
      LockFile lock,
      JournalWriter writer,
      Connection reader,
      Clock clock,
      BackupConfig backupConfig,
      int stateCacheKeys) {
    this.file = file;
    this.stateCache = new StateCache(stateCacheKeys, new StateSource());
    this.retention = retention;
    this.codec = codec;
    this.lock = lock;
    this.writer = writer;
    this.reader = reader;
    this.clock = clock;
    this.backups =
        backupConfig == null
            ? null
            : new BackupSchedule(
                file,
                backupConfig.dir(),
                backupConfig.interval(),
                backupConfig.keep(),
                clock,
                this::recordBackup);
  }

  /** The scheduled backups configured on the builder. */
  private record BackupConfig(Path dir, Duration interval, int keep) {}

  /**
   * Opens the journal in {@code file} read-only, beside the runtime that may own it: no lock is
   * taken and the file is never written (see {@link JournalReader}). For tools that only look:
   * {@code cfn dlq list}, {@code cfn store quarantine list}.
   *
   * @throws JournalException when there is no such file, it is not a cfn journal, it was written by
   *     a newer cfn, or it cannot be opened
   */
  public static JournalReader openReadOnly(Path file) {
    return JournalReader.open(file, null);
  }

  /**
   * Like {@link #openReadOnly(Path)}, with payloads opened through {@code atRest} rather than the
   * keyring beside the file.
   */
  public static JournalReader openReadOnly(Path file, AtRest atRest) {
    return JournalReader.open(file, Objects.requireNonNull(atRest, "atRest"));
  }

  /** Starts configuring the journal stored in {@code file} (created if missing). */
  public static Builder builder(Path file) {
    return new Builder(Objects.requireNonNull(file, "file"));
  }

  /** The journal's database file. */
  public Path file() {
    return file;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Ordered by id. A pending record that fails its checksum is not returned: it is moved to the
   * {@linkplain #quarantine() quarantine} (logged at WARN, counted in {@link #quarantinedCount()}),
   * so that one damaged record does not keep the runtime from starting, and the others are
   * delivered. Throws {@link JournalException} naming the table and id when a sound record cannot
   * be rebuilt (its payload class is not registered, or it was written by another cfn version): a
   * pending message is never skipped silently.
   */
  @Override
  public List<JournalEntry> recover() {
    List<Long> damaged = new ArrayList<>();
    List<JournalEntry> entries =
        read(
            "the pending messages",
            c -> {
              List<JournalEntry> found = new ArrayList<>();
              try (PreparedStatement query =
                      c.prepareStatement(Table.MESSAGES.select() + " ORDER BY id");
                  ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                  Object[] row = Table.MESSAGES.values(rows);
                  if (Table.MESSAGES
                      .problem(row, rows.getObject(Table.MESSAGES.columnCount() + 1))
                      .isPresent()) {
                    damaged.add(number(row[Table.Columns.ID]));
                    continue;
                  }
                  found.add(
                      new JournalEntry(
                          codec.envelope(Table.MESSAGES, row, false),
                          (int) number(row[Table.Columns.ATTEMPTS])));
                }
              }
              return found;
            });
    for (long id : damaged) {
      if (await(writer.submit(new Writes.Quarantine(id)))) {
        quarantined.incrementAndGet();
        log.warn(
            "pending message {} in {} failed its checksum, so it was moved to the quarantine and"
                + " will not be delivered; `cfn store quarantine show {} --journal {}` shows what"
                + " is left of it (re-send it from its source if it matters, then purge it)",
            id,
            file,
            id,
            file);
      }
    }
    return entries;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Records {@link #recover()} moved to the quarantine since this journal opened.
   */
  @Override
  public long quarantinedCount() {
    return quarantined.get();
  }

  /**
   * The administration of this journal's quarantine (list, find, purge) for tools such as {@code
   * cfn store quarantine}. A view: it works while this journal is open.
   */
  public JournalQuarantine quarantine() {
    return quarantine;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The maximum over pending, acknowledged and dead-lettered messages, and over ids removed
   * since (swept or purged): it never goes down. 0 for an empty journal.
   */
  @Override
  public long highestId() {
    return readInTransaction(
        "the highest message id",
        c -> {
          long highest = 0;
          try (Statement sql = c.createStatement();
              ResultSet rows =
                  sql.executeQuery(
                      "SELECT max(m) FROM (SELECT max(id) AS m FROM messages"
                          + " UNION ALL SELECT max(id) FROM acked"
                          + " UNION ALL SELECT max(id) FROM dead_letters"
                          + " UNION ALL SELECT max(id) FROM quarantine)")) {
            if (rows.next()) {
              highest = Math.max(highest, rows.getLong(1));
            }
          }
          for (Object[] row :
              select(c, Table.META, "WHERE key = ?", List.of(Writes.RETIRED_HIGH_ID))) {
            highest = Math.max(highest, number(row[1]));
          }
          return highest;
        });
  }

  /**
   * {@inheritDoc}
   *
   * <p>Throws {@link JournalException} when the payload's class is not allowed (the cause is an
   * {@link IllegalArgumentException} naming it), when the id is already pending, or when the file
   * cannot be written; nothing was stored then.
   */
  @Override
  public void append(Envelope message) {
    Objects.requireNonNull(message, "message");
    Object[] content;
    try {
      content = codec.content(message);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new JournalException(
          "message " + message.id() + " was not stored: " + e.getMessage(), e);
    }
    await(writer.submit(new Writes.Append(content)));
  }

  /**
   * {@inheritDoc}
   *
   * <p>The append joins the group commit like any write. The writer runs a batch's appends before
   * its acknowledgements, so a message acknowledged in the batch that stores it commits with it
   * (one fsync for both); an acknowledgement of a message whose append is still queued, or failed,
   * is checked in its transaction: when the message is not pending it is refused and applies
   * nothing.
   */
  @Override
  public CompletableFuture<Void> appendQueued(Envelope message) {
    Objects.requireNonNull(message, "message");
    if (message.idempotencyKey().isPresent()) {
      throw new IllegalArgumentException(
          "message "
              + message.id()
              + " has an idempotency key; it was not stored (fix: store it with appendOnce)");
    }
    Object[] content;
    try {
      content = codec.content(message);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new JournalException(
          "message " + message.id() + " was not stored: " + e.getMessage(), e);
    }
    long id = message.id();
    CompletableFuture<Void> stored = new CompletableFuture<>();
    queuedAppends.put(id, stored);
    writer
        .submit(new Writes.Append(content, () -> queuedAppends.remove(id)))
        .whenComplete(
            (ok, t) -> {
              if (t == null) {
                stored.complete(null);
              } else {
                stored.completeExceptionally(t);
              }
            });
    return stored;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Keys are kept in the {@code idempotency} table for the {@linkplain Builder#retention
   * retention} period (7 days by default) from their first append, and swept with the old
   * acknowledged ids. A keyed append joins the group commit like any other write.
   */
  @Override
  public long appendOnce(Envelope message) {
    Objects.requireNonNull(message, "message");
    String key = message.idempotencyKey().orElse(null);
    if (key == null) {
      append(message);
      return message.id();
    }
    Object[] content;
    try {
      content = codec.content(message);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new JournalException(
          "message " + message.id() + " was not stored: " + e.getMessage(), e);
    }
    return await(writer.submit(new Writes.KeyedAppend(content, key, retention)));
  }

  /**
   * {@inheritDoc}
   *
   * <p>A key past its retention is not found, swept or not.
   */
  @Override
  public Optional<Long> idempotencyKeyId(String key) {
    Objects.requireNonNull(key, "key");
    return read(
        "idempotency key " + key,
        c ->
            select(c, Table.IDEMPOTENCY, "WHERE key = ?", List.of(key)).stream()
                .filter(row -> number(row[2]) >= clock.instant().minus(retention).toEpochMilli())
                .findFirst()
                .map(row -> number(row[1])));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Removes the message from the pending ones, remembers its id, forgets its attempt history,
   * and applies the effects in order: {@link Effect.Put} and {@link Effect.Delete} change the state
   * table, {@link Effect.Send} journals a new pending message (an outbox). A Send whose payload
   * class is not allowed fails the whole acknowledgement at once.
   */
  @Override
  public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
    Objects.requireNonNull(message, "message");
    return acknowledge(new long[0], message, effects);
  }

  /**
   * {@inheritDoc}
   *
   * <p>The acknowledgement does not make the writer commit on its own while other writes keep it
   * busy: it joins the next transaction the writer runs (an append, another acknowledgement), or
   * commits alone when no other write comes within a few milliseconds. A reply claimed under load
   * so costs no fsync of its own.
   */
  @Override
  public CompletableFuture<Boolean> acknowledgeLazily(Envelope message) {
    Objects.requireNonNull(message, "message");
    if (!queuedAppends.isEmpty() && queuedAppends.containsKey(message.id())) {
      return acknowledge(message, List.of()); // delivered before its append was durable
    }
    return writer.submitLazily(
        new Writes.Acknowledge(new long[0], message.id(), List.of(), null, false));
  }

  /** True: {@link #acknowledgeTogether} commits several acknowledgements as one operation. */
  @Override
  public boolean acknowledgesTogether() {
    return true;
  }

  /**
   * {@inheritDoc}
   *
   * <p>One write operation: it joins the group commit like any acknowledgement, and either every
   * message of {@code messages} is acknowledged with every effect, or none is.
   */
  @Override
  public CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects) {
    Objects.requireNonNull(messages, "messages");
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("no messages to acknowledge");
    }
    long[] together = new long[messages.size() - 1];
    for (int i = 0; i < together.length; i++) {
      together[i] = messages.get(i).id();
    }
    return acknowledge(together, messages.getLast(), effects);
  }

  private CompletableFuture<Boolean> acknowledge(
      long[] together, Envelope message, List<Effect> effects) {
    Objects.requireNonNull(effects, "effects");
    boolean mustBePending = false;
    if (!queuedAppends.isEmpty()) {
      mustBePending = queuedAppends.containsKey(message.id());
      for (long other : together) {
        mustBePending |= queuedAppends.containsKey(other);
      }
    }
    List<Writes.Change> changes = new ArrayList<>(effects.size());
    try {
      for (Effect effect : effects) {
        changes.add(
            switch (effect) {
              case Effect.Put put -> new Writes.Change.Put(put.namespace(), put.key(), put.value());
              case Effect.Delete delete ->
                  new Writes.Change.Delete(delete.namespace(), delete.key());
              case Effect.Send send -> Writes.Change.Send.of(codec.content(send.envelope()));
              case Effect.Increment inc ->
                  new Writes.Change.Increment(inc.namespace(), inc.key(), inc.delta());
              case Effect.CompareAndSet cas ->
                  new Writes.Change.CompareAndSet(
                      cas.namespace(), cas.key(), cas.expected(), cas.value());
              case Effect.RecordCall call ->
                  new Writes.Change.RecordCall(
                      call.key(), codec.sealCallResult(call.key(), call.result()));
            });
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      return CompletableFuture.failedFuture(
          new JournalException(
              "message "
                  + message.id()
                  + " was not acknowledged and stays pending; none of its effects were applied: "
                  + e.getMessage(),
              e));
    }
    CompletableFuture<Boolean> ack =
        writer.submit(
            new Writes.Acknowledge(
                together,
                message.id(),
                List.copyOf(changes),
                changes.isEmpty() ? null : stateCache,
                mustBePending));
    if (mustBePending) {
      ack.whenComplete(
          (applied, t) -> {
            if (t != null) {
              forgetFailedAppend(message.id());
              for (long other : together) {
                forgetFailedAppend(other);
              }
            }
          });
    }
    return ack;
  }

  /** Forgets a queued append that failed once an acknowledgement of its message was refused. */
  private void forgetFailedAppend(long id) {
    CompletableFuture<Void> stored = queuedAppends.get(id);
    if (stored != null && stored.isCompletedExceptionally()) {
      queuedAppends.remove(id);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Sets the message's attempt count to {@code attempt} and adds the error (cut to 8,192
   * characters) to its history. Does nothing when the message is no longer pending.
   */
  @Override
  public CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error) {
    Objects.requireNonNull(message, "message");
    return writer.submit(new Writes.RecordFailure(message.id(), attempt, error));
  }

  /**
   * {@inheritDoc}
   *
   * <p>The stored copy of the message is moved; a message that was never journaled is stored as
   * given. Does nothing when the id is already dead-lettered or was acknowledged.
   */
  @Override
  public CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause) {
    Objects.requireNonNull(message, "message");
    return writer.submit(new Writes.DeadLetter(message, codec, attempts, cause));
  }

  /**
   * True: {@link Effect.RecordCall} is stored in the {@code calls} table by the acknowledgement.
   */
  @Override
  public boolean recordsCalls() {
    return true;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Read from the {@code calls} table, checksum verified; records are kept for the {@linkplain
   * Builder#retention retention} period and swept with the old acknowledged ids.
   */
  @Override
  public Optional<String> findCall(String key) {
    Objects.requireNonNull(key, "key");
    return read(
        "call record " + key,
        c ->
            select(c, Table.CALLS, "WHERE key = ?", List.of(key)).stream()
                .findFirst()
                .map(row -> codec.openCallResult(key, (String) row[1], file)));
  }

  @Override
  public boolean isAcknowledged(long id) {
    return read(
        "acknowledgement of message " + id,
        c -> !select(c, Table.ACKED, "WHERE id = ?", List.of(id)).isEmpty());
  }

  /**
   * Runs SQLite's {@code integrity_check} and verifies the checksum of every record of every table,
   * listing each problem with its table, key and what is wrong. Changes nothing.
   */
  public StoreCheck check() {
    return readInTransaction("the journal for a check", c -> StoreFile.check(c, file));
  }

  /**
   * Writes a verified snapshot of this journal to {@code target} while it runs: an online backup,
   * the source of a {@link JournalFiles#restore restore}.
   *
   * <p><b>Consistency.</b> A separate read-only connection runs SQLite's {@code VACUUM INTO}, which
   * copies the whole database in one read transaction. In WAL mode that transaction sees exactly
   * the transactions committed before it began, so the backup is one committed state of the
   * journal: every write whose {@code append} returned or whose future completed before this call
   * is in it, with all of its effects, and no half of any later transaction is. Writers are not
   * blocked meanwhile (the write-ahead log grows until the copy ends), nor are this journal's
   * reads.
   *
   * <p><b>Safety.</b> The copy is written to a hidden temporary sibling ({@code
   * .<name>.<pid>-<start>-<random>.cfn-partial}, deleted by the next backup into that directory if
   * this process dies meanwhile), fsynced, verified (integrity check, schema version and the
   * checksum of every record, see {@link #check()}), and only then given the target name; the
   * directory is then fsynced. So a crash leaves no half backup under the target name, and a backup
   * that fails verification is deleted and reported. An existing {@code target} is never
   * overwritten.
   *
   * @return the backup's size, counts and time; also kept as {@link #lastBackup()}
   * @throws JournalException when the journal is closed, {@code target} exists, cannot be written,
   *     or the copy fails verification (its message lists the damaged records)
   */
  public BackupInfo backupTo(Path target) {
    Objects.requireNonNull(target, "target");
    synchronized (this) {
      if (closed) {
        throw new JournalException(
            "cannot back up "
                + file
                + ": the journal is closed; use JournalFiles.backup(Path,"
                + " Path) for a closed journal");
      }
    }
    BackupInfo info = Backups.snapshot(file, target, false, clock.instant(), new Backups.Cancel());
    recordBackup(info);
    return info;
  }

  /**
   * The most recent successful backup this journal took, scheduled ({@link Builder#backups}) or
   * through {@link #backupTo}; empty until there is one. Its {@link BackupInfo#takenAt()} is the
   * recovery point: a restore loses what was committed after it.
   */
  public Optional<BackupInfo> lastBackup() {
    return Optional.ofNullable(lastBackup.get());
  }

  /**
   * The administration of this journal's dead letters (list, find, remove, purge, replay), for
   * tools such as {@code cfn dlq}. A view: it works while this journal is open.
   */
  public DeadLetterQueue deadLetterQueue() {
    return deadLetterQueue;
  }

  /** The codec of this journal's envelopes and payloads. */
  MessageCodec codec() {
    return codec;
  }

  /**
   * Moves dead letter {@code id} back to the pending messages with its attempts and history reset,
   * and returns it; empty when there was none. The owner of the journal delivers it after its next
   * {@link #recover()} (a running runtime may deliver the returned envelope itself).
   */
  @Override
  public Optional<Envelope> replayDeadLetter(long id) {
    return await(writer.submit(new Writes.Replay(id, codec)));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Served from memory: the journal keeps the committed state of the namespaces read since it
   * opened (up to {@link Builder#stateCacheKeys} keys), loading a namespace from the file once, on
   * its first read, and updating it as acknowledgements commit; a handler's {@code Effects.get} on
   * a carrier thread therefore reads a map. See {@code StateCache}.
   */
  @Override
  public Optional<String> state(String namespace, String key) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    requireReadable("state " + namespace + " " + key);
    return stateCache.get(namespace, key);
  }

  /** {@inheritDoc} Served from memory like {@link #state(String, String)}. */
  @Override
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(prefix, "prefix");
    Journal.checkPrefixLimit(limit);
    requireReadable("state of " + namespace);
    return stateCache.byPrefix(namespace, prefix, limit);
  }

  private void requireReadable(String what) {
    if (!readable) {
      throw new JournalException(
          "cannot read " + what + ": the journal " + file + " is closed; open it again");
    }
  }

  /** The committed state in the file, read through the reader connection, for the state cache. */
  private final class StateSource implements StateCache.Source {
    @Override
    public SortedMap<String, String> namespace(String namespace) {
      return read(
          "state of " + namespace,
          c -> {
            SortedMap<String, String> keys = new TreeMap<>();
            for (Object[] row : select(c, Table.STATE, "WHERE namespace = ?", List.of(namespace))) {
              keys.put((String) row[1], (String) row[2]);
            }
            return keys;
          });
    }

    @Override
    public Optional<String> key(String namespace, String key) {
      return read(
          "state " + namespace + " " + key,
          c ->
              select(c, Table.STATE, "WHERE namespace = ? AND key = ?", List.of(namespace, key))
                  .stream()
                  .findFirst()
                  .map(row -> (String) row[2]));
    }

    @Override
    public SortedMap<String, String> byPrefix(String namespace, String prefix, int limit) {
      return read("state of " + namespace, c -> selectByPrefix(c, namespace, prefix, limit));
    }
  }

  /**
   * At most {@code limit} verified state rows of {@code namespace} whose keys start with {@code
   * prefix}, from the database on {@code c}.
   */
  static SortedMap<String, String> selectByPrefix(
      Connection c, String namespace, String prefix, int limit) throws SQLException {
    SortedMap<String, String> out = new TreeMap<>();
    try (PreparedStatement query =
        c.prepareStatement(
            Table.STATE.select() + " WHERE namespace = ? AND key >= ? ORDER BY key")) {
      query.setString(1, namespace);
      query.setString(2, prefix);
      try (ResultSet rows = query.executeQuery()) {
        while (out.size() < limit && rows.next()) {
          Object[] row = Table.STATE.read(rows);
          String key = (String) row[1];
          if (!key.startsWith(prefix)) {
            break;
          }
          out.put(key, (String) row[2]);
        }
      }
    }
    return out;
  }

  /** Namespaces the state cache loaded from the file since open (tests). */
  long stateLoads() {
    return stateCache.loads();
  }

  /** The keys of {@code namespace} in the state table, sorted. */
  public List<String> stateKeys(String namespace) {
    Objects.requireNonNull(namespace, "namespace");
    return read(
        "state keys of " + namespace,
        c ->
            select(c, Table.STATE, "WHERE namespace = ? ORDER BY key", List.of(namespace)).stream()
                .map(row -> (String) row[1])
                .toList());
  }

  /**
   * Stops the scheduled backups (interrupting one in progress), writes everything queued, stops the
   * writer, closes the file and releases the lock.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      readable = false;
    }
    try {
      if (backups != null) {
        backups.close();
      }
      writer.close();
    } finally {
      synchronized (readLock) {
        try {
          reader.close();
        } catch (SQLException e) {
          log.warn("closing the journal reader of {} failed: {}", file, e.getMessage());
        }
        reader = null;
      }
      lock.close();
      if (ownsAtRest) {
        codec.atRest().close();
      }
      log.debug("closed journal {}", file);
    }
  }

  /**
   * Transactions the writer has committed since open: with the number of writes, it tells how well
   * group commit is batching (writes per fsync).
   */
  public long commitCount() {
    return writer.commits();
  }

  /**
   * Time the writer's committed transactions took, BEGIN to COMMIT, in nanoseconds, summed since
   * open: over {@link #commitCount()}, the mean time the writer spends per commit, the WAL's fsync
   * included; with the opt-in pipelined fsync ({@code -Dcfn.journal.fsync=cfn}) it runs beside the
   * next transaction instead ({@link #walSyncCount()}, {@link #walSyncNanos()}).
   */
  public long commitNanos() {
    return writer.commitNanos();
  }

  /**
   * Fsyncs of the write-ahead log done beside the writer since open (the opt-in pipelined fsync,
   * {@code -Dcfn.journal.fsync=cfn}: one covers every commit made before it started); 0 where
   * SQLite fsyncs inside each commit (the default).
   */
  public long walSyncCount() {
    return writer.walSyncs();
  }

  /** Time spent in the fsyncs {@link #walSyncCount()} counts, in nanoseconds, since open. */
  public long walSyncNanos() {
    return writer.walSyncNanos();
  }

  /** Write operations committed since open: over {@link #commitCount()}, the mean batch size. */
  public long committedWrites() {
    return writer.committedOps();
  }

  /** Write operations the last committed transaction carried (0 before the first). */
  public int lastBatchSize() {
    return writer.lastBatch();
  }

  // ---- package-private: tests and the writer's plumbing ----

  /** Writes waiting for the writer. */
  int queuedWrites() {
    return writer.queued();
  }

  /** Lazy writes ({@link #acknowledgeLazily}) the writer has taken into batches. */
  long lazyWrites() {
    return writer.lazyOps();
  }

  /** Batches that carried lazy writes alone (no other write came to share them). */
  long lazyAloneBatches() {
    return writer.lazyAlone();
  }

  /** Queues any write operation. */
  <T> CompletableFuture<T> submit(WriteOp<T> op) {
    return writer.submit(op);
  }

  /**
   * Caps the database at {@code pages} pages from the next batch on, as a full disk would (tests);
   * raise it again to give the space back.
   */
  void maxPageCount(long pages) {
    writer.maxPageCount(pages);
  }

  /** Replaces how the WAL is fsynced (tests); false when SQLite fsyncs it inside each commit. */
  boolean walSyncHook(WalSync.Hook hook) {
    return writer.walSyncHook(hook);
  }

  /**
   * Runs one scheduled backup now, as the schedule would (rotation included); empty when it failed
   * (logged) or there is no schedule. Never throws.
   */
  Optional<BackupInfo> runScheduledBackup() {
    return backups == null ? Optional.empty() : backups.runOnce();
  }

  /** True when there is no backup schedule or it has stopped (its thread has ended). */
  boolean backupsStopped() {
    return backups == null || backups.stopped();
  }

  private void recordBackup(BackupInfo info) {
    lastBackup.accumulateAndGet(
        info,
        (previous, next) ->
            previous == null || !next.takenAt().isBefore(previous.takenAt()) ? next : previous);
  }

  /** Sweeps old acknowledged ids now; returns how many were forgotten. */
  int sweep() {
    return await(writer.submit(new Writes.Sweep(retention)));
  }

  /** The verified rows of {@code table} selected by {@code clause} (WHERE / ORDER BY). */
  static List<Object[]> select(Connection c, Table table, String clause, List<?> args)
      throws SQLException {
    try (PreparedStatement query = c.prepareStatement(table.select() + " " + clause)) {
      for (int i = 0; i < args.size(); i++) {
        query.setObject(i + 1, args.get(i));
      }
      List<Object[]> rows = new ArrayList<>();
      try (ResultSet result = query.executeQuery()) {
        while (result.next()) {
          rows.add(table.read(result));
        }
      }
      return rows;
    }
  }

  @FunctionalInterface
  interface Read<T> {
    T apply(Connection connection) throws SQLException;
  }

  private <T> T read(String what, Read<T> body) {
    synchronized (readLock) {
      if (reader == null) {
        throw new JournalException(
            "cannot read " + what + ": the journal " + file + " is closed; open it again");
      }
      try {
        return body.apply(reader);
      } catch (SQLException e) {
        throw SqliteErrors.read(e, file, what);
      }
    }
  }

  /** Like {@link #read}, in one read transaction, so that several queries see one snapshot. */
  <T> T readInTransaction(String what, Read<T> body) {
    return read(
        what,
        c -> {
          try (Statement sql = c.createStatement()) {
            sql.execute("BEGIN");
            try {
              return body.apply(c);
            } finally {
              SqliteLibrary.endRead(sql);
            }
          }
        });
  }

  static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof JournalException cause) {
        // rethrown here so that the stack shows the caller, with the writer's failure as cause
        throw new JournalException(cause.getMessage(), cause);
      }
      throw e;
    }
  }

  /** Configures and opens a {@link SqliteJournal}. */
  public static final class Builder {
    private final Path file;
    private Synchronous synchronous = Synchronous.FULL;
    private Clock clock = Clock.systemUTC();
    private Duration retention = Duration.ofDays(7);
    private final Set<Class<?>> payloadTypes = new LinkedHashSet<>();
    private BackupConfig backups;
    private int stateCacheKeys = DEFAULT_STATE_CACHE_KEYS;
    private AtRest atRest; // null: AtRest.beside(file) at open

    private Builder(Path file) {
      this.file = file;
    }

    /** How commits reach the disk: {@link Synchronous#FULL} (default) or NORMAL. */
    public Builder synchronous(Synchronous synchronous) {
      this.synchronous = Objects.requireNonNull(synchronous, "synchronous");
      return this;
    }

    /** The clock for stored timestamps and retention (default: the system UTC clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long acknowledged ids and producers' idempotency keys are remembered for deduplication
     * (default 7 days).
     */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException(
            "retention must be positive, was " + retention + "; the default is 7 days");
      }
      this.retention = retention;
      return this;
    }

    /**
     * How payloads are kept at rest: sealed with a keyring's data keys ({@link AtRest#sealedWith})
     * or plain ({@link AtRest#plain}). By default, {@link AtRest#beside}: the keyring in the folder
     * {@code keys} beside the file ({@code .cfn/keys}) or from {@code CFN_MASTER_KEY}, plain when
     * there is none.
     */
    public Builder atRest(AtRest atRest) {
      this.atRest = Objects.requireNonNull(atRest, "atRest");
      return this;
    }

    /**
     * Allows payloads of exactly these classes (records, enums or beans Jackson can build), in
     * addition to the built-in ones. Calls add up.
     */
    public Builder payloadType(Class<?>... types) {
      for (Class<?> type : types) {
        PayloadCodec.checkRegistrable(Objects.requireNonNull(type, "payload type"));
        payloadTypes.add(type);
      }
      return this;
    }

    /**
     * How many committed state keys the journal keeps in memory for {@link SqliteJournal#state}
     * reads (default 100,000; 0 reads the file on every call). Whole namespaces (agents) are held:
     * the first read of one loads all its keys; past the bound, namespaces are dropped and loaded
     * again when next read.
     */
    public Builder stateCacheKeys(int keys) {
      if (keys < 0) {
        throw new IllegalArgumentException(
            "stateCacheKeys must be 0 or more, was "
                + keys
                + "; the default is "
                + DEFAULT_STATE_CACHE_KEYS);
      }
      this.stateCacheKeys = keys;
      return this;
    }

    /**
     * Backs the journal up into {@code dir} every minute, keeping the newest 60 backups (an hour);
     * see {@link #backups(Path, Duration, int)}.
     */
    public Builder backups(Path dir) {
      return backups(dir, DEFAULT_BACKUP_INTERVAL, DEFAULT_BACKUP_KEEP);
    }

    /**
     * Backs the journal up into {@code dir} every {@code interval} while it is open, keeping the
     * newest {@code keep} backups: the recovery point objective is the interval.
     *
     * <p>Each backup is a verified, consistent snapshot written like {@link SqliteJournal#backupTo}
     * and named {@code cfn-backup-<UTC timestamp>.db} (e.g. {@code
     * cfn-backup-20250101T120000.000Z.db}, sorting by time); after it the oldest files of that form
     * beyond {@code keep} are deleted, and no other file of {@code dir} is touched. Give each
     * journal a directory of its own, ideally on another disk. The first backup is taken one
     * interval after {@link #open()}; they run on a daemon thread of the journal, at a fixed rate
     * (back to back if one takes longer than the interval, which is logged). A failed backup (disk
     * full, directory missing or unwritable) is logged with its reason and retried at the next
     * interval: it never fails the journal. {@link SqliteJournal#lastBackup()} tells the last
     * success; {@link SqliteJournal#close()} stops the schedule.
     *
     * @param dir the backup directory, created when missing
     * @param interval time between backups, positive (default 1 minute)
     * @param keep how many scheduled backups to keep, at least 1 (default 60)
     */
    public Builder backups(Path dir, Duration interval, int keep) {
      Objects.requireNonNull(dir, "backup directory");
      Objects.requireNonNull(interval, "backup interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException(
            "the backup interval must be positive, was "
                + interval
                + "; it is how much committed work a restore may lose (the default is "
                + DEFAULT_BACKUP_INTERVAL
                + ")");
      }
      if (keep < 1) {
        throw new IllegalArgumentException(
            "keep must be at least 1 backup, was "
                + keep
                + "; the default is "
                + DEFAULT_BACKUP_KEEP
                + " (an hour of backups at the default interval)");
      }
      this.backups = new BackupConfig(dir, interval, keep);
      return this;
    }

    /**
     * Locks the file, creates or migrates it and starts the writer. Throws {@link JournalException}
     * when the file is in use, cannot be opened, or was written by a newer cfn.
     */
    public SqliteJournal open() {
      Path path = file.toAbsolutePath().normalize();
      AtRest keys = atRest != null ? atRest : AtRest.beside(path, "journal");
      try {
        return open(path, keys);
      } catch (RuntimeException e) {
        if (atRest == null) {
          keys.close();
        }
        throw e;
      }
    }

    private SqliteJournal open(Path path, AtRest keys) {
      try {
        PrivateFiles.createDirectories(PrivateFiles.parentOf(path));
        PrivateFiles.createFileIfMissing(path); // 0600 before SQLite creates it 0644
      } catch (IOException e) {
        throw new JournalException(
            "cannot create the journal "
                + path
                + " or its directory ("
                + e
                + "): create the directory, make it writable, or choose another location",
            e);
      }
      LockFile lock = LockFile.acquire(path);
      Backups.removeStale(PrivateFiles.parentOf(path)); // a killed backup's or restore's copy
      WriteConnection write = null;
      Connection read = null;
      try {
        write = JournalWriter.openConnection(path, synchronous);
        List<String> damage = StoreFile.damageOnOpen(write.connection(), path);
        if (!damage.isEmpty()) {
          throw new JournalException(
              path
                  + " is damaged, so it was not opened (a damaged page could make reads miss"
                  + " records that exist): "
                  + StoreFile.summary(new StoreCheck(false, damage))
                  + " (fix: restore the last backup with SqliteJournal.restore or `cfn restore`;"
                  + " nothing was changed)");
        }
        keys.checkFile(write.connection(), path, true);
        Schema.MIGRATIONS.migrate(write.connection(), path, clock);
        read = WriteConnection.connect(path);
        try (Statement sql = read.createStatement()) {
          sql.execute("PRAGMA query_only = ON");
        }
        ObjectMapper mapper = PayloadCodec.newMapper();
        MessageCodec codec = new MessageCodec(mapper, new PayloadCodec(mapper, payloadTypes), keys);
        Duration keep = retention;
        JournalWriter writer =
            new JournalWriter(
                write,
                path,
                synchronous,
                clock,
                sweepInterval(retention),
                () -> new Writes.Sweep(keep));
        SqliteJournal journal =
            new SqliteJournal(
                path, retention, codec, lock, writer, read, clock, backups, stateCacheKeys);
        journal.ownsAtRest = atRest == null;
        writer.start();
        try {
          journal.sweep();
        } catch (JournalException e) {
          log.warn("could not sweep old acknowledged ids on opening {}: {}", path, e.getMessage());
        }
        if (journal.backups != null) {
          journal.backups.start();
        }
        return journal;
      } catch (SQLException e) {
        closeAll(write, read, lock);
        throw new JournalException("cannot open journal: " + SqliteErrors.describe(e, path), e);
      } catch (RuntimeException e) {
        closeAll(write, read, lock);
        throw e;
      }
    }

    /**
     * A tenth of the retention, between a second and an hour. Divided in longs, not with {@link
     * Duration#dividedBy(long)}: that goes through {@code BigDecimal}, whose class initializer
     * alone took about 25 ms of every start (measured in the restarts of {@code cfn chaos crash}).
     */
    static Duration sweepInterval(Duration retention) {
      long seconds = retention.getSeconds();
      Duration tenth =
          Duration.ofSeconds(
              seconds / 10, ((seconds % 10) * 1_000_000_000L + retention.getNano()) / 10);
      Duration hour = Duration.ofHours(1);
      Duration second = Duration.ofSeconds(1);
      return tenth.compareTo(hour) > 0 ? hour : tenth.compareTo(second) < 0 ? second : tenth;
    }

    private static void closeAll(WriteConnection write, Connection read, LockFile lock) {
      try {
        if (read != null) {
          read.close();
        }
        if (write != null) {
          write.close();
        }
      } catch (SQLException e) {
        log.debug("closing after a failed open", e);
      } finally {
        lock.close();
      }
    }
  }
}
