package dev.cfn.cluster.pg;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.journal.EnvelopeRecords;
import dev.cfn.store.journal.StateCache;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
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
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Journal} of distributed mode: PostgreSQL as the authoritative store, behind the same
 * SPI as the embedded {@code SqliteJournal}, so an agent runs unchanged on either.
 *
 * <pre>{@code
 * try (PgJournal journal = PgJournal.builder("jdbc:postgresql://db.example:5432/cfn")
 *     .user("cfn").password(System.getenv("CFN_PG_PASSWORD"))
 *     .poolSize(20)
 *     .open()) {
 *   AgentRuntime.builder().journal(journal)...;          // one node, no partitions
 *   Lease lease = journal.leases().acquire(7, "node-a", Duration.ofSeconds(10)).orElseThrow();
 *   Journal partition7 = journal.under(lease);           // writes fenced by the lease's epoch
 * }
 * }</pre>
 *
 * <p><b>Durability.</b> {@link #append} returns, and the futures of {@link #acknowledge}, {@link
 * #recordFailure} and {@link #deadLetter} complete, only after the PostgreSQL transaction holding
 * them committed with {@code synchronous_commit = on} (set on every pooled connection): the commit
 * record is flushed to the server's WAL (and to a synchronous standby, when the server has one)
 * before it returns. That rests on the server's {@code fsync = on}, which {@link Builder#open}
 * checks (it warns otherwise).
 *
 * <p><b>Group commit.</b> Writes go through one queue to one writer thread ({@code PgWriter}),
 * which commits everything queued (up to {@link Builder#maxBatch}) in one transaction, one WAL
 * flush per batch, as {@code SqliteJournal}'s writer does; a bad operation fails alone.
 *
 * <p><b>Records.</b> Messages are stored in cfn-store's record format ({@link EnvelopeRecords}: the
 * same columns, payloads sealed under the keyring given to {@link Builder#atRest}), each with a
 * CRC32C verified when read. {@link #recover()} moves a pending record that fails its checksum to
 * {@code cfn_quarantine} and goes on, counting it in {@link #quarantinedCount()}. Call records are
 * checksummed too; agent state relies on PostgreSQL's own page checksums ({@code initdb
 * --data-checksums}, recommended).
 *
 * <p><b>Leases.</b> {@link #leases()} grants leases on partitions with epochs, and {@link
 * #under(Lease)} is this journal seen by the holder of one partition: its writes commit only while
 * the lease is held at that epoch, so a node that lost its partition (paused past its TTL,
 * partitioned away) cannot commit anything after another node took over. Without a lease (this
 * object itself), writes are unfenced and concern the messages of no partition: a single node, as
 * with SQLite, which must then be the only one using the database.
 *
 * <p><b>State reads</b> are served from memory ({@code StateCache}), updated on commit. Stored
 * times and retention use the {@linkplain Builder#clock clock} (as {@code SqliteJournal}); leases
 * use the database's clock, so nodes' clocks need not agree.
 */
public final class PgJournal implements Journal {
  private static final Logger log = LoggerFactory.getLogger(PgJournal.class);

  /** The pool size by default: 10 connections. */
  public static final int DEFAULT_POOL_SIZE = 10;

  /** The smallest pool {@link Builder#poolSize} allows. */
  public static final int MIN_POOL_SIZE = 10;

  /** The largest pool {@link Builder#poolSize} allows. */
  public static final int MAX_POOL_SIZE = 100;

  /** How many message ids {@link #nextIdBlock()} reserves at a time: 1024. */
  public static final int ID_BLOCK = 1024;

  /** The state keys held in memory by default: 100,000. */
  public static final int DEFAULT_STATE_CACHE_KEYS = 100_000;

  /** The default of {@link Builder#idleInTransactionTimeout}. */
  public static final Duration DEFAULT_IDLE_IN_TRANSACTION = Duration.ofSeconds(5);

  private static final String SELECT_PENDING =
      "SELECT " + PgWrites.CONTENT_COLUMNS + ", crc, attempts FROM cfn_messages";

  private final String where; // the database, for messages: host, port and name, no secrets
  private final HikariDataSource pool;
  private final EnvelopeRecords records;
  private final Duration retention;
  private final Clock clock;
  private final PgWriter writer;
  private final StateCache stateCache;
  private final PgLeases leases;
  private final PgNodes nodes;
  private final PgOutbox outbox;
  private final PgAnswers answers;
  private final AtomicLong quarantined = new AtomicLong();
  private final boolean ownsAtRest;
  private PgWakeups.Connector direct; // set once by the builder, before the journal is shared
  private volatile boolean closed;

  private PgJournal(
      String where,
      HikariDataSource pool,
      EnvelopeRecords records,
      Duration retention,
      Clock clock,
      int maxBatch,
      boolean pipelined,
      int stateCacheKeys,
      boolean ownsAtRest) {
    this.where = where;
    this.pool = pool;
    this.records = records;
    this.retention = retention;
    this.clock = clock;
    this.ownsAtRest = ownsAtRest;
    this.stateCache = new StateCache(stateCacheKeys, new StateSource());
    this.leases = new PgLeases(pool, where);
    this.nodes = new PgNodes(pool, where);
    this.outbox = new PgOutbox(this);
    this.answers = new PgAnswers(this);
    this.writer =
        new PgWriter(
            pool,
            clock,
            maxBatch,
            pipelined,
            sweepInterval(retention),
            () -> new PgWrites.Sweep(retention));
  }

  /**
   * Listens for wake-up hints on a connection of its own, outside the pool: {@code onWake} runs
   * when a journal on this schema opened with {@link Builder#notifyPending} stored pending
   * messages, and after every (re)connection. A hint only (see {@link PgWakeups}): keep polling,
   * less often. Close the returned listener when done.
   */
  public PgWakeups listen(Runnable onWake) {
    return new PgWakeups(direct, where, onWake).start();
  }

  /** Starts configuring the journal in the PostgreSQL database at {@code jdbcUrl}. */
  public static Builder builder(String jdbcUrl) {
    return new Builder(jdbcUrl);
  }

  /** The leases on partitions, in this journal's database. */
  public PgLeases leases() {
    return leases;
  }

  /** The cluster's nodes and their heartbeats, in this journal's database. */
  public PgNodes nodes() {
    return nodes;
  }

  /** The pending messages as the cluster transport's outbox. */
  public PgOutbox outbox() {
    return outbox;
  }

  /** The answers to requests from outside the cluster, in this journal's database. */
  public PgAnswers answers() {
    return answers;
  }

  /**
   * Reserves {@link #ID_BLOCK} message ids for this node and returns the first: the ids {@code
   * first} to {@code first + ID_BLOCK - 1} are this caller's, never handed to another node sharing
   * the database (one PostgreSQL sequence, {@code cfn_message_ids}, started above every id stored
   * when the schema was created or upgraded). Nodes of a cluster take their message ids so.
   */
  public long nextIdBlock() {
    return read(
        "a block of message ids",
        c -> {
          try (Statement sql = c.createStatement();
              ResultSet rows = sql.executeQuery("SELECT nextval('cfn_message_ids')")) {
            rows.next();
            return rows.getLong(1);
          }
        });
  }

  long clockMillis() {
    return clock.millis();
  }

  String where() {
    return where;
  }

  Envelope decode(Object[] row) {
    return records.decode(row, false);
  }

  /**
   * This journal as seen by the holder of {@code lease}: every write it makes (append, keyed
   * append, acknowledge, record failure, dead letter, replay) commits only if the database still
   * holds this lease (owner and epoch, unexpired) at commit time, and otherwise fails with {@link
   * LeaseLostException}, storing nothing. Its messages are the partition's: appends and outgoing
   * messages are stamped with the partition, and {@link Journal#recover()} returns the partition's
   * pending messages. Reads are shared with this journal. Taking a view clears the state cache,
   * since the partition's state may have been written by its previous owner.
   */
  public Journal under(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    stateCache.clear();
    return new FencedJournal(this, Fence.of(lease));
  }

  // ---- the SPI, unfenced: the messages of no partition ----

  @Override
  public List<JournalEntry> recover() {
    return recover(null);
  }

  @Override
  public long highestId() {
    return read(
        "the highest message id",
        c -> {
          try (Statement sql = c.createStatement();
              ResultSet rows =
                  sql.executeQuery(
                      "SELECT greatest((SELECT max(id) FROM cfn_messages),"
                          + " (SELECT max(id) FROM cfn_acked), (SELECT max(id) FROM"
                          + " cfn_dead_letters), (SELECT max(id) FROM cfn_quarantine),"
                          + " (SELECT value FROM cfn_meta WHERE key = '"
                          + PgWrites.RETIRED_HIGH_ID
                          + "'))")) {
            rows.next();
            return rows.getLong(1); // null (empty journal) reads as 0
          }
        });
  }

  @Override
  public void append(Envelope message) {
    append(message, null);
  }

  @Override
  public long appendOnce(Envelope message) {
    return appendOnce(message, null);
  }

  @Override
  public Optional<Long> idempotencyKeyId(String key) {
    Objects.requireNonNull(key, "key");
    long cutoff = clock.millis() - retention.toMillis();
    return read(
        "idempotency key " + key,
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT message_id FROM cfn_idempotency WHERE key = ? AND created_at >= ?")) {
            s.setString(1, key);
            s.setLong(2, cutoff);
            try (ResultSet rows = s.executeQuery()) {
              return rows.next() ? Optional.of(rows.getLong(1)) : Optional.<Long>empty();
            }
          }
        });
  }

  @Override
  public CompletableFuture<Boolean> acknowledge(Envelope message, List<Effect> effects) {
    Objects.requireNonNull(message, "message");
    return acknowledge(new long[0], message, effects, null);
  }

  /** True: several acknowledgements commit as one operation. */
  @Override
  public boolean acknowledgesTogether() {
    return true;
  }

  @Override
  public CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects) {
    return acknowledgeTogether(messages, effects, null);
  }

  @Override
  public boolean recordsCalls() {
    return true;
  }

  /**
   * How many attempts of pending message {@code id} failed and were recorded ({@link
   * #recordFailure}, by any node): the highest attempt number recorded, 0 when none was or the
   * message is not pending. What a new owner of the message's partition continues counting from.
   */
  public int failedAttempts(long id) {
    return read(
        "the attempts of message " + id,
        c -> {
          try (PreparedStatement s =
              c.prepareStatement("SELECT attempts FROM cfn_messages WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rows = s.executeQuery()) {
              return rows.next() ? rows.getInt(1) : 0;
            }
          }
        });
  }

  @Override
  public Optional<String> findCall(String key) {
    Objects.requireNonNull(key, "key");
    return read(
        "call record " + key,
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT key, result, recorded_at, crc FROM cfn_calls WHERE key = ?")) {
            s.setString(1, key);
            try (ResultSet rows = s.executeQuery()) {
              if (!rows.next()) {
                return Optional.<String>empty();
              }
              Object[] row = {rows.getString(1), rows.getString(2), rows.getLong(3)};
              Optional<String> problem =
                  EnvelopeRecords.problem(PgSchema.CALL_CHECKSUM, row, rows.getObject(4));
              if (problem.isPresent()) {
                throw damaged("cfn_calls key '" + key + "'", problem.get());
              }
              return Optional.of(records.openCallResult(key, (String) row[1], where));
            }
          }
        });
  }

  @Override
  public CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error) {
    return recordFailure(message, attempt, error, null);
  }

  @Override
  public CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause) {
    return deadLetter(message, attempts, cause, null);
  }

  @Override
  public Optional<String> state(String namespace, String key) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    requireOpen("state " + namespace + " " + key);
    return stateCache.get(namespace, key);
  }

  @Override
  public SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(prefix, "prefix");
    Journal.checkPrefixLimit(limit);
    requireOpen("state of " + namespace);
    return stateCache.byPrefix(namespace, prefix, limit);
  }

  @Override
  public long quarantinedCount() {
    return quarantined.get();
  }

  @Override
  public Optional<Envelope> replayDeadLetter(long id) {
    return replayDeadLetter(id, null);
  }

  @Override
  public boolean isAcknowledged(long id) {
    return read(
        "acknowledgement of message " + id,
        c -> {
          try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM cfn_acked WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rows = s.executeQuery()) {
              return rows.next();
            }
          }
        });
  }

  /** Writes everything queued, stops the writer and closes the pool. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      writer.close();
    } finally {
      pool.close();
      if (ownsAtRest) {
        records.atRest().close();
      }
      log.debug("closed journal {}", where);
    }
  }

  /** Transactions the writer committed since open. */
  public long commitCount() {
    return writer.commits();
  }

  /** Write operations committed since open: over {@link #commitCount()}, the mean batch size. */
  public long committedWrites() {
    return writer.committedOps();
  }

  /** Pooled connections in use over the pool's size, 0 to 1. */
  public double poolUtilization() {
    var bean = pool.getHikariPoolMXBean();
    int size = pool.getMaximumPoolSize();
    return bean == null || size == 0 ? 0 : (double) bean.getActiveConnections() / size;
  }

  // ---- the operations, fenced (fence non-null) or not ----

  List<JournalEntry> recover(Fence fence) {
    List<Long> damaged = new ArrayList<>();
    List<JournalEntry> entries =
        read(
            "the pending messages",
            c -> {
              List<JournalEntry> found = new ArrayList<>();
              try (PreparedStatement s =
                  c.prepareStatement(
                      SELECT_PENDING
                          + (fence == null ? " WHERE part IS NULL" : " WHERE part = ?")
                          + " ORDER BY id")) {
                if (fence != null) {
                  s.setInt(1, fence.partition());
                }
                try (ResultSet rows = s.executeQuery()) {
                  while (rows.next()) {
                    Object[] row = content(rows);
                    if (EnvelopeRecords.problem(
                            PgSchema.MESSAGE_CHECKSUM, row, rows.getObject(PgWrites.CONTENT + 1))
                        .isPresent()) {
                      damaged.add(rows.getLong(1));
                      continue;
                    }
                    found.add(
                        new JournalEntry(
                            records.decode(row, false), rows.getInt(PgWrites.CONTENT + 2)));
                  }
                }
              }
              return found;
            });
    for (long id : damaged) {
      if (await(writer.submit(new PgWrites.Quarantine(id)))) {
        quarantined.incrementAndGet();
        log.warn(
            "pending message {} in {} failed its checksum, so it was moved to cfn_quarantine and"
                + " will not be delivered (re-send it from its source if it matters)",
            id,
            where);
      }
    }
    return entries;
  }

  void append(Envelope message, Fence fence) {
    Objects.requireNonNull(message, "message");
    await(writer.submit(new PgWrites.Append(row(message, fence), fence)));
  }

  long appendOnce(Envelope message, Fence fence) {
    Objects.requireNonNull(message, "message");
    String key = message.idempotencyKey().orElse(null);
    if (key == null) {
      append(message, fence);
      return message.id();
    }
    return await(
        writer.submit(new PgWrites.KeyedAppend(row(message, fence), key, retention, fence)));
  }

  CompletableFuture<Boolean> acknowledgeTogether(
      List<Envelope> messages, List<Effect> effects, Fence fence) {
    Objects.requireNonNull(messages, "messages");
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("no messages to acknowledge");
    }
    long[] together = new long[messages.size() - 1];
    for (int i = 0; i < together.length; i++) {
      together[i] = messages.get(i).id();
    }
    return acknowledge(together, messages.getLast(), effects, fence);
  }

  CompletableFuture<Boolean> acknowledge(
      long[] together, Envelope message, List<Effect> effects, Fence fence) {
    Objects.requireNonNull(effects, "effects");
    List<PgWrites.Change> changes = new ArrayList<>(effects.size());
    try {
      for (Effect effect : effects) {
        changes.add(
            switch (effect) {
              case Effect.Put p -> new PgWrites.Change.Put(p.namespace(), p.key(), p.value());
              case Effect.Delete d -> new PgWrites.Change.Delete(d.namespace(), d.key());
              case Effect.Send s ->
                  PgAnswers.isAnswer(s.envelope())
                      ? new PgWrites.Change.Answer(row(s.envelope(), fence))
                      : new PgWrites.Change.Send(row(s.envelope(), fence));
              case Effect.Increment i ->
                  new PgWrites.Change.Increment(i.namespace(), i.key(), i.delta());
              case Effect.CompareAndSet cas ->
                  new PgWrites.Change.CompareAndSet(
                      cas.namespace(), cas.key(), cas.expected(), cas.value());
              case Effect.RecordCall call ->
                  new PgWrites.Change.RecordCall(
                      call.key(), records.sealCallResult(call.key(), call.result()));
            });
      }
    } catch (IllegalArgumentException | IllegalStateException | JournalException e) {
      return CompletableFuture.failedFuture(
          new JournalException(
              "message "
                  + message.id()
                  + " was not acknowledged and stays pending; none of its effects were applied: "
                  + e.getMessage(),
              e));
    }
    return writer.submit(
        new PgWrites.Acknowledge(
            together,
            message.id(),
            List.copyOf(changes),
            changes.isEmpty() ? null : stateCache,
            fence));
  }

  CompletableFuture<Void> recordFailure(Envelope message, int attempt, String error, Fence fence) {
    Objects.requireNonNull(message, "message");
    return writer.submit(new PgWrites.RecordFailure(message.id(), attempt, error, fence));
  }

  CompletableFuture<Void> deadLetter(Envelope message, int attempts, String cause, Fence fence) {
    Objects.requireNonNull(message, "message");
    PgWrites.Row given;
    try {
      given = row(message, fence);
    } catch (JournalException e) {
      return CompletableFuture.failedFuture(e);
    }
    return writer.submit(new PgWrites.DeadLetter(given, attempts, cause, fence));
  }

  Optional<Envelope> replayDeadLetter(long id, Fence fence) {
    return await(writer.submit(new PgWrites.Replay(id, fence)))
        .map(row -> records.decode(row, true));
  }

  private PgWrites.Row row(Envelope message, Fence fence) {
    try {
      return PgWrites.Row.of(records, message, fence == null ? null : fence.partition());
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new JournalException(
          "message " + message.id() + " was not stored: " + e.getMessage(), e);
    }
  }

  /** The message record's content columns of the current row, first in the select list. */
  static Object[] content(ResultSet rows) throws SQLException {
    Object[] row = new Object[PgWrites.CONTENT];
    for (int i = 0; i < row.length; i++) {
      row[i] = rows.getObject(i + 1);
    }
    return row;
  }

  private static JournalException damaged(String record, String problem) {
    return new JournalException(
        record
            + ": "
            + problem
            + ": the record was changed outside cfn or damaged, so it is not used (fix: restore"
            + " the database from a backup, or delete the record if it does not matter)");
  }

  private void requireOpen(String what) {
    if (closed) {
      throw new JournalException(
          "cannot read " + what + ": the journal " + where + " is closed; open it again");
    }
  }

  @FunctionalInterface
  interface Read<T> {
    T apply(Connection connection) throws SQLException;
  }

  <T> T read(String what, Read<T> body) {
    requireOpen(what);
    try (Connection c = pool.getConnection()) {
      return body.apply(c);
    } catch (SQLException e) {
      throw new JournalException(
          "cannot read " + what + " from " + where + ": " + PgErrors.describe(e), e);
    }
  }

  static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof LeaseLostException lost) {
        throw lost;
      }
      if (e.getCause() instanceof JournalException cause) {
        throw new JournalException(cause.getMessage(), cause);
      }
      throw e;
    }
  }

  /** The committed state in the database, for the state cache. */
  private final class StateSource implements StateCache.Source {
    @Override
    public SortedMap<String, String> namespace(String namespace) {
      return byPrefix(namespace, "", Integer.MAX_VALUE);
    }

    @Override
    public Optional<String> key(String namespace, String key) {
      return read(
          "state " + namespace + " " + key,
          c -> {
            try (PreparedStatement s =
                c.prepareStatement("SELECT value FROM cfn_state WHERE namespace = ? AND key = ?")) {
              s.setString(1, namespace);
              s.setString(2, key);
              try (ResultSet rows = s.executeQuery()) {
                return rows.next() ? Optional.of(rows.getString(1)) : Optional.<String>empty();
              }
            }
          });
    }

    @Override
    public SortedMap<String, String> byPrefix(String namespace, String prefix, int limit) {
      return read(
          "state of " + namespace,
          c -> {
            SortedMap<String, String> out = new TreeMap<>();
            try (PreparedStatement s =
                c.prepareStatement(
                    "SELECT key, value FROM cfn_state WHERE namespace = ? AND key >= ?"
                        + " ORDER BY key")) {
              s.setString(1, namespace);
              s.setString(2, prefix);
              try (ResultSet rows = s.executeQuery()) {
                while (out.size() < limit && rows.next()) {
                  String key = rows.getString(1);
                  if (!key.startsWith(prefix)) {
                    break;
                  }
                  out.put(key, rows.getString(2));
                }
              }
            }
            return out;
          });
    }
  }

  /** A tenth of the retention, between a second and an hour (as SqliteJournal's sweep). */
  static Duration sweepInterval(Duration retention) {
    Duration tenth = Duration.ofMillis(Math.max(1, retention.toMillis() / 10));
    Duration hour = Duration.ofHours(1);
    Duration second = Duration.ofSeconds(1);
    return tenth.compareTo(hour) > 0 ? hour : tenth.compareTo(second) < 0 ? second : tenth;
  }

  /** Configures and opens a {@link PgJournal}. */
  public static final class Builder {
    private final String jdbcUrl;
    private String user;
    private String password;
    private int poolSize = DEFAULT_POOL_SIZE;
    private MeterRegistry registry;
    private AtRest atRest;
    private final Set<Class<?>> payloadTypes = new LinkedHashSet<>();
    private Duration retention = Duration.ofDays(7);
    private Clock clock = Clock.systemUTC();
    private int stateCacheKeys = DEFAULT_STATE_CACHE_KEYS;
    private int maxBatch = 512;
    private boolean pipelined = true;
    private Duration idleInTransaction = DEFAULT_IDLE_IN_TRANSACTION;
    private boolean notifyPending;

    private Builder(String jdbcUrl) {
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException(
            "the journal's database must be a PostgreSQL JDBC URL, was '"
                + redacted(jdbcUrl)
                + "' (fix: write jdbc:postgresql://HOST:PORT/DATABASE)");
      }
      this.jdbcUrl = jdbcUrl;
    }

    /** The database user (default: the URL's {@code user} parameter, or the driver's default). */
    public Builder user(String user) {
      this.user = Objects.requireNonNull(user, "user");
      return this;
    }

    /** The database password; never logged. */
    public Builder password(String password) {
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * Connections in the pool, {@value #MIN_POOL_SIZE} to {@value #MAX_POOL_SIZE} (default {@value
     * #DEFAULT_POOL_SIZE}); the writer holds one, reads and leases share the rest.
     */
    public Builder poolSize(int size) {
      if (size < MIN_POOL_SIZE || size > MAX_POOL_SIZE) {
        throw new IllegalArgumentException(
            "the pool size must be "
                + MIN_POOL_SIZE
                + " to "
                + MAX_POOL_SIZE
                + " connections, was "
                + size
                + " (fix: leave the default, "
                + DEFAULT_POOL_SIZE
                + ", or choose a size in range)");
      }
      this.poolSize = size;
      return this;
    }

    /**
     * Exports the pool's utilization (connections in use over its size) as the gauge {@code
     * cfn.pool.utilization.ratio{pool="jdbc"}} ({@code cfn_pool_utilization_ratio} in Prometheus).
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** How payloads and call results are kept at rest; plain by default. */
    public Builder atRest(AtRest atRest) {
      this.atRest = Objects.requireNonNull(atRest, "atRest");
      return this;
    }

    /** Allows payloads of exactly these classes, as {@code SqliteJournal.Builder.payloadType}. */
    public Builder payloadType(Class<?>... types) {
      for (Class<?> type : types) {
        payloadTypes.add(Objects.requireNonNull(type, "payload type"));
      }
      return this;
    }

    /** How long acknowledged ids, idempotency keys and call records are kept (default 7 days). */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException(
            "retention must be positive, was " + retention + " (fix: leave the default, 7 days)");
      }
      this.retention = retention;
      return this;
    }

    /** The clock for stored times and retention (default: the system UTC clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** State keys held in memory (default 100,000; 0 reads PostgreSQL on every call). */
    public Builder stateCacheKeys(int keys) {
      if (keys < 0) {
        throw new IllegalArgumentException(
            "stateCacheKeys must be 0 or more, was " + keys + " (fix: leave the default)");
      }
      this.stateCacheKeys = keys;
      return this;
    }

    /** The most writes one transaction of the group commit carries (default 512). */
    public Builder maxBatch(int writes) {
      if (writes < 1 || writes > 10_000) {
        throw new IllegalArgumentException(
            "maxBatch must be 1 to 10000, was " + writes + " (fix: leave the default, 512)");
      }
      this.maxBatch = writes;
      return this;
    }

    /**
     * How long the server lets one of this node's transactions wait for its next statement before
     * ending the session ({@code idle_in_transaction_session_timeout}, default 5 s; zero for
     * never). A writer's transaction holds its lease rows ({@code FOR SHARE}) until it commits: if
     * the node is cut off from the database in the middle of one, a survivor's takeover of those
     * partitions waits for this timeout (not for TCP to give up, which takes minutes), and the cut
     * off transaction is rolled back, so it can never commit after the takeover. Keep it well below
     * the lease TTL; the writer never leaves a transaction idle on purpose.
     */
    public Builder idleInTransactionTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || (!timeout.isZero() && timeout.toMillis() < 100)) {
        throw new IllegalArgumentException(
            "idleInTransactionTimeout must be 0 (never) or at least 100 ms, was "
                + timeout
                + " (fix: leave the default, 5 s)");
      }
      this.idleInTransaction = timeout;
      return this;
    }

    /**
     * Makes every write transaction that stores pending messages (appends, replays, outbox sends)
     * also {@code NOTIFY} {@link PgWakeups#CHANNEL}, delivered at commit, so listeners ({@link
     * #listen}) wake without polling. Off by default: a notifying commit takes PostgreSQL's global
     * notify lock, which serializes such commits across all writers of the database.
     */
    public Builder notifyPending() {
      this.notifyPending = true;
      return this;
    }

    /**
     * Whether runs of plain appends and acknowledgements in a batch share pipelined statements
     * (default true); false runs each write's own statements, for measuring the difference.
     */
    Builder pipelined(boolean pipelined) {
      this.pipelined = pipelined;
      return this;
    }

    /**
     * Connects, migrates the schema and starts the writer. Throws {@link JournalException} when the
     * database cannot be reached or was written by a newer cfn.
     */
    public PgJournal open() {
      String where = redacted(jdbcUrl);
      AtRest keys = atRest != null ? atRest : AtRest.plain("journal");
      EnvelopeRecords records = EnvelopeRecords.create(keys, payloadTypes);
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(jdbcUrl);
      if (user != null) {
        config.setUsername(user);
      }
      if (password != null) {
        config.setPassword(password);
      }
      config.setMaximumPoolSize(poolSize);
      config.setMinimumIdle(Math.min(2, poolSize));
      config.setPoolName("cfn-jdbc");
      config.setConnectionInitSql(
          "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = "
              + idleInTransaction.toMillis());
      config.setInitializationFailTimeout(-1); // connect below, with cfn's message
      HikariDataSource pool = new HikariDataSource(config);
      try {
        try (Connection c = pool.getConnection()) {
          PgSchema.migrate(c, where);
          try (Statement sql = c.createStatement();
              ResultSet rows = sql.executeQuery("SHOW fsync")) {
            if (rows.next() && !"on".equals(rows.getString(1))) {
              log.warn(
                  "PostgreSQL at {} runs with fsync off: committed messages can be lost on a"
                      + " crash of its machine (fix: set fsync = on in postgresql.conf)",
                  where);
            }
          }
        }
        PgJournal journal =
            new PgJournal(
                where,
                pool,
                records,
                retention,
                clock,
                maxBatch,
                pipelined,
                stateCacheKeys,
                atRest == null);
        String url = jdbcUrl;
        String u = user;
        String pw = password;
        journal.direct =
            () -> {
              java.util.Properties props = new java.util.Properties();
              if (u != null) {
                props.setProperty("user", u);
              }
              if (pw != null) {
                props.setProperty("password", pw);
              }
              return java.sql.DriverManager.getConnection(url, props);
            };
        if (notifyPending) {
          journal.writer.notifyOn(PgWakeups.CHANNEL);
        }
        if (registry != null) {
          Gauge.builder("cfn.pool.utilization.ratio", journal, PgJournal::poolUtilization)
              .tag("pool", "jdbc")
              .description("connections of the PostgreSQL pool in use, over its size")
              .register(registry);
        }
        journal.writer.start();
        try {
          await(journal.writer.submit(new PgWrites.Sweep(retention)));
        } catch (JournalException e) {
          log.warn("could not sweep old acknowledged ids on opening {}: {}", where, e.getMessage());
        }
        return journal;
      } catch (SQLException e) {
        pool.close();
        throw new JournalException(
            "cannot open the journal in "
                + where
                + ": "
                + PgErrors.describe(e)
                + PgErrors.FIX_CONNECT,
            e);
      } catch (RuntimeException e) {
        pool.close();
        throw e;
      }
    }

    /**
     * The URL without its query (which may hold a password) and without line breaks, as it appears
     * in messages and logs.
     */
    static String redacted(String url) {
      int query = url.indexOf('?');
      return (query < 0 ? url : url.substring(0, query)).replaceAll("[\\r\\n]", "_");
    }
  }
}
