package dev.cfn.store.calls;

import dev.cfn.core.spi.CallLogException;
import dev.cfn.core.spi.CallLogStore;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.sqlite.RecordChecksum;
import dev.cfn.store.sqlite.StoreConnection;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable log of call results by idempotency key, so that work which must not happen twice (a
 * paid model call, a tool that writes or sends) is done once even when the message that asked for
 * it is handled again after a crash: the handler {@linkplain #record records} each result under a
 * key derived from the message before it uses the result, and on redelivery {@linkplain #find
 * finds} it instead of calling again. The AI agents of cfn-ai use it through their {@code CallLog}
 * interface ({@code CallLog.durable(store)}).
 *
 * <pre>{@code
 * try (SqliteCallLogStore calls = SqliteCallLogStore.open(SqliteCallLogStore.DEFAULT_FILE)) {
 *   String result = calls.find(key).orElseGet(() -> {
 *     String fresh = callTheModel();
 *     calls.record(key, fresh);          // committed and fsynced before it is used
 *     return fresh;
 *   });
 * }
 * }</pre>
 *
 * <p><b>Durability and integrity.</b> The file ({@link #DEFAULT_FILE} by default) is in WAL mode
 * with {@code synchronous=FULL}: {@link #record} returns once the record is committed and fsynced,
 * so a result that was used survives a crash of the process or of the machine. Records are
 * <em>group-committed</em>, as the journal's messages are: one writer thread takes every record
 * queued while the previous commit ran and commits them in one transaction, one fsync for the
 * batch, and each caller returns once the batch holding its record is durable. So concurrent
 * callers share fsyncs (N agents recording at once cost about one fsync, not N), and a lone caller
 * pays one fsync with no added delay. Every record carries a CRC32C of its key, result and time,
 * verified on every read; a record changed behind the store's back fails with a {@link
 * CallLogException} naming its key, and {@link #check()} lists every damaged record. The schema is
 * versioned ({@code schema_version}, {@code PRAGMA application_id} "cfnc"): opening migrates an
 * older file and refuses a newer one or a file that is not a call log (a journal or a memory file,
 * say).
 *
 * <p><b>Failures.</b> When the file cannot be written (disk full, I/O error, read-only), the batch
 * is rolled back and every caller waiting on it gets a {@link CallLogException} saying what
 * happened and that its call was not recorded; the writer goes on, and later records succeed once
 * the disk does. A record or lookup on a closed store fails with a {@link CallLogException} saying
 * so; {@link #close()} first writes what was already submitted.
 *
 * <p><b>Retention.</b> A key's first record wins: a second {@link #record} of the same key keeps
 * the first result (it describes what happened). Records are kept for the retention period ({@link
 * #DEFAULT_RETENTION}, as long as the journal remembers acknowledged messages): {@link #sweep()}
 * deletes older ones; it runs when the store opens and then every {@link
 * Builder#sweepEvery(Duration) sweep interval} (hourly by default) on a daemon thread. A message
 * redelivered after its records were swept runs its calls again.
 *
 * <p><b>Concurrency.</b> Thread-safe. Lookups ({@link #find}) read on a small pool of read
 * connections of their own and never wait for the writer: in WAL mode a read sees the last commit
 * while the next is written, and a record is visible to lookups once its {@link #record} returned.
 * The writer, the retention sweep, {@link #count()} and {@link #check()} share one connection and
 * take turns. Several stores, in this process or others, may open the same file; SQLite serializes
 * their writes, waiting up to five seconds for another writer.
 */
public final class SqliteCallLogStore implements CallLogStore, AutoCloseable {
  /** Where embedded runtimes keep the call log by default. */
  public static final Path DEFAULT_FILE = Path.of(".cfn", "calls.db");

  /** How long records are kept by default: seven days. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  /** How often the retention sweep runs by default: hourly. */
  public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofHours(1);

  /** The longest key, in characters. */
  public static final int MAX_KEY_LENGTH = 1024;

  private static final Logger log = LoggerFactory.getLogger(SqliteCallLogStore.class);

  /** Read connections for lookups: two per core, at least four. */
  static final int READ_CONNECTIONS = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

  private final Path file;
  private final Clock clock;
  private final Duration retention;
  private final StoreConnection connection;
  private final CallLogWriter writer;
  private final CallLogReaders readers;

  private final AtRest atRest;
  private final boolean ownsAtRest;

  private SqliteCallLogStore(
      StoreConnection connection,
      Clock clock,
      Duration retention,
      Duration sweepInterval,
      AtRest atRest,
      boolean ownsAtRest) {
    this.atRest = atRest;
    this.ownsAtRest = ownsAtRest;
    this.file = connection.file();
    this.clock = clock;
    this.retention = retention;
    this.connection = connection;
    this.writer = new CallLogWriter(connection);
    this.readers = new CallLogReaders(connection, READ_CONNECTIONS);
    writer.start();
    if (!sweepInterval.isZero()) {
      connection.sweepEvery(sweepInterval, "cfn-calls-sweep", this::scheduledSweep);
    }
  }

  /**
   * The results of a file of this kind that are still plain, for {@code cfn keys seal-existing}
   * (see {@link dev.cfn.store.crypto.PlainRecords}).
   */
  public static dev.cfn.store.crypto.PlainRecords plainRecords() {
    return new CallLogPlainRecords();
  }

  /** A builder for the call-log file {@code file} (created with its directory when missing). */
  public static Builder builder(Path file) {
    return new Builder(Objects.requireNonNull(file, "file"));
  }

  /** Opens {@code file} with the defaults; see {@link Builder#open()}. */
  public static SqliteCallLogStore open(Path file) {
    return builder(file).open();
  }

  /** The call-log file, as an absolute path. */
  public Path file() {
    return file;
  }

  /** How long records are kept before {@link #sweep()} deletes them. */
  public Duration retention() {
    return retention;
  }

  /**
   * The result recorded under {@code key}, if there is one (records older than the retention period
   * are returned until a sweep deletes them).
   *
   * @throws IllegalArgumentException for an empty or too long key
   * @throws CallLogException when the record fails its checksum or the file cannot be read
   */
  @Override
  public Optional<String> find(String key) {
    requireKey(key);
    return readers
        .find(key, "read the call record '" + key + "'")
        .map(
            row -> {
              long computed = checksum(key, row.result(), row.recordedAt());
              if (computed != row.crc()) {
                throw new CallLogException(
                    "the call record '"
                        + key
                        + "' in "
                        + file
                        + " fails its checksum (stored "
                        + row.crc()
                        + ", computed "
                        + computed
                        + "): the file was changed behind the store's back or is damaged."
                        + " SqliteCallLogStore.check() lists every damaged record; delete the record (or"
                        + " move the file aside) to let the call run again");
              }
              return atRest.openText(
                  row.result(), resultAad(key), () -> "the call record '" + key + "' in " + file);
            });
  }

  /**
   * Records {@code resultJson} under {@code key} and returns once it is fsynced. A key that already
   * has a record keeps it: the first result wins.
   *
   * @return true when this call stored the record, false when the key already had one
   * @throws IllegalArgumentException for an empty or too long key
   * @throws CallLogException when the file cannot be written (nothing was stored then)
   */
  @Override
  public boolean record(String key, String resultJson) {
    requireKey(key);
    Objects.requireNonNull(resultJson, "resultJson");
    if (resultJson.startsWith(AtRest.TEXT_MARK)) {
      throw new IllegalArgumentException(
          "a call result must be JSON, which never starts with the control character U+0001 (that"
              + " is how a sealed result is marked): record the result as JSON");
    }
    long now = clock.millis();
    String kept = atRest.sealText(resultJson, resultAad(key)); // on the caller's thread
    CompletableFuture<Boolean> stored =
        writer.submit(
            new CallLogWriter.Pending(
                key, kept, now, checksum(key, kept, now), new CompletableFuture<>()));
    try {
      return stored.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof CallLogException failure) {
        // the writer's exception, with this caller's stack for where it was waited on
        throw new CallLogException(failure.getMessage(), failure);
      }
      throw new CallLogException(
          "cannot record the call '" + key + "' in " + file + ": " + e.getCause(), e.getCause());
    }
  }

  /**
   * Deletes the records older than the retention period and returns how many; the store also does
   * this when it opens and on its sweep schedule.
   *
   * @throws CallLogException when the file cannot be written
   */
  public int sweep() {
    return connection.with(
        "sweep old call records",
        c -> {
          long cutoff = clock.millis() - retention.toMillis();
          try (PreparedStatement delete =
              c.prepareStatement("DELETE FROM calls WHERE recorded_at < ?")) {
            delete.setLong(1, cutoff);
            int deleted = delete.executeUpdate();
            if (deleted > 0) {
              log.debug("swept {} call records older than {} from {}", deleted, retention, file);
            }
            return deleted;
          }
        });
  }

  /** The number of records in the file. */
  public long count() {
    return connection.with(
        "count call records",
        c -> {
          try (Statement sql = c.createStatement();
              ResultSet rows = sql.executeQuery("SELECT count(*) FROM calls")) {
            return rows.next() ? rows.getLong(1) : 0L;
          }
        });
  }

  /**
   * Verifies the file in one read transaction: SQLite's {@code integrity_check} and the checksum of
   * every record. Problems are listed, never thrown.
   */
  public StoreCheck check() {
    return connection.check(
        "check the call log",
        (sql, problems) -> {
          try (ResultSet rows =
              sql.executeQuery("SELECT key, result, recorded_at, crc FROM calls ORDER BY key")) {
            while (rows.next()) {
              String key = rows.getString(1);
              long computed = checksum(key, rows.getString(2), rows.getLong(3));
              long stored = rows.getLong(4);
              if (computed != stored) {
                problems.add(
                    "calls: record '"
                        + key
                        + "' fails its checksum (stored "
                        + stored
                        + ", computed "
                        + computed
                        + ")");
              }
            }
          }
        });
  }

  /**
   * Writes the records already submitted (their callers return as usual), then stops the scheduled
   * sweep and closes the file. Later operations fail with a {@link CallLogException} saying the
   * store is closed; closing twice is fine.
   */
  @Override
  public void close() {
    writer.close();
    readers.close();
    connection.close();
    if (ownsAtRest) {
      atRest.close();
    }
  }

  /** A result is sealed bound to its key, so it does not open under another. */
  static byte[] resultAad(String key) {
    return AtRest.aad("call result", key);
  }

  /** Transactions the writer committed so far (tests: records share commits under load). */
  long commits() {
    return writer.commits();
  }

  /** Records the writer has taken off its queue so far (tests). */
  long taken() {
    return writer.taken();
  }

  /** Records waiting for the writer (tests). */
  int queued() {
    return writer.queued();
  }

  /** Runs {@code body} on the writer's connection under its lock, so the writer waits (tests). */
  <T> T onWriterConnection(StoreConnection.Work<T> body) {
    return connection.with("run a test hook on the writer's connection", body);
  }

  /** Caps the file at {@code pages} pages on the writer's connection (tests: a full disk). */
  void maxPageCount(long pages) {
    connection.with(
        "set max_page_count",
        c -> {
          try (Statement sql = c.createStatement()) {
            sql.execute("PRAGMA max_page_count = " + pages);
          }
          return null;
        });
  }

  @Override
  public String toString() {
    return "SqliteCallLogStore[" + file + ", retention " + retention + "]";
  }

  private void scheduledSweep() {
    try {
      sweep();
    } catch (RuntimeException e) {
      log.warn("the scheduled sweep of call log {} failed: {}", file, e.getMessage());
    }
  }

  private static long checksum(String key, String result, long recordedAt) {
    return RecordChecksum.of(CallLogSchema.TABLE, new Object[] {key, result, recordedAt});
  }

  private static void requireKey(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("a call-log key must not be empty");
    }
    if (key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "a call-log key has at most "
              + MAX_KEY_LENGTH
              + " characters; this one has "
              + key.length()
              + ": derive a shorter key (a hash of the long part, say)");
    }
  }

  /** Configures and opens a {@link SqliteCallLogStore}. */
  public static final class Builder {
    private final Path file;
    private Clock clock = Clock.systemUTC();
    private Duration retention = DEFAULT_RETENTION;
    private Duration sweepInterval = DEFAULT_SWEEP_INTERVAL;
    private AtRest atRest; // null: AtRest.beside(file) at open

    private Builder(Path file) {
      this.file = file;
    }

    /** The clock records are stamped with and the sweep reads (default: the system clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long records are kept ({@link #DEFAULT_RETENTION} by default). Keep it at least as long
     * as messages may be redelivered: the journal's retention of acknowledged ids.
     */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.toMillis() < 1) {
        throw new IllegalArgumentException(
            "the call-log retention must be at least a millisecond, not " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * How often the retention sweep runs on a daemon thread ({@link #DEFAULT_SWEEP_INTERVAL} by
     * default); {@link Duration#ZERO} turns the scheduled sweep off (call {@link
     * SqliteCallLogStore#sweep()} yourself).
     */
    public Builder sweepEvery(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative() || (!interval.isZero() && interval.toMillis() < 1)) {
        throw new IllegalArgumentException(
            "the call-log sweep interval must be zero (off) or at least a millisecond, not "
                + interval);
      }
      this.sweepInterval = interval;
      return this;
    }

    /**
     * How results are kept at rest: sealed with a keyring's data keys ({@link AtRest#sealedWith})
     * or plain ({@link AtRest#plain}). By default, {@link AtRest#beside}: the keyring in the folder
     * {@code keys} beside the file ({@code .cfn/keys}) or from {@code CFN_MASTER_KEY}, plain when
     * there is none. A sealed result is stored as text ({@link AtRest#TEXT_MARK} and base64), bound
     * to its key.
     */
    public Builder atRest(AtRest atRest) {
      this.atRest = Objects.requireNonNull(atRest, "atRest");
      return this;
    }

    /**
     * Opens the file (creating it and its directory when missing) in WAL mode with {@code
     * synchronous=FULL}, creates or migrates its schema and sweeps records older than the retention
     * period. Throws {@link CallLogException} when the file cannot be opened, is not a call log, or
     * was written by a newer cfn; nothing is changed then.
     */
    public SqliteCallLogStore open() {
      Path path = file.toAbsolutePath().normalize();
      AtRest keys = atRest != null ? atRest : AtRest.beside(path, "calls");
      StoreConnection connection;
      try {
        connection =
            StoreConnection.open(
                path,
                clock,
                CallLogSchema.MIGRATIONS,
                "SqliteCallLogStore.check() lists what is damaged; move the file aside (the calls"
                    + " it recorded may then run again)",
                c -> {
                  keys.checkFile(c, path, true);
                  return null;
                });
      } catch (RuntimeException e) {
        if (atRest == null) {
          keys.close();
        }
        throw e;
      }
      SqliteCallLogStore store =
          new SqliteCallLogStore(connection, clock, retention, sweepInterval, keys, atRest == null);
      try {
        store.sweep();
      } catch (RuntimeException e) {
        store.close();
        throw e;
      }
      return store;
    }
  }
}
