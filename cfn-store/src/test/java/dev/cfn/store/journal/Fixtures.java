package dev.cfn.store.journal;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.TopicId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * Envelopes, a settable clock and raw access to store files, for the store's tests (public for the
 * memory and call-log tests beside the journal's).
 */
public final class Fixtures {
  public static final AgentId SENDER = AgentId.of("client", "1");
  public static final AgentId WORKER = AgentId.of("worker", "7");

  private Fixtures() {}

  /** A payload type an application would register. */
  public record Task(String name, int priority, List<String> tags) {}

  /** A point-to-point RELIABLE message to {@link #WORKER}. */
  public static Envelope message(long id, Object payload) {
    return new Envelope(
        id,
        payload.getClass().getName(),
        SENDER,
        WORKER,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        payload,
        System.nanoTime());
  }

  /** A publication with every optional field set. */
  public static Envelope richMessage(long id, Object payload) {
    return new Envelope(
        id,
        "task.created",
        SENDER,
        null,
        TopicId.of("tasks.created", "project-9"),
        4242,
        Priority.HIGH,
        DeliveryMode.RELIABLE,
        Map.of("trace", "abc-123", "tenant", "acme", "empty", ""),
        payload,
        System.nanoTime());
  }

  /** A plain connection to a journal, memory or call-log file, behind its store's back. */
  public static Connection raw(Path file) throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + file);
  }

  /**
   * Records in {@code file} a schema version one above {@code latest}, as a newer cfn would, and
   * returns it.
   */
  public static int stampNewerVersion(Path file, int latest) throws SQLException {
    int newer = latest + 1;
    try (Connection raw = raw(file);
        Statement sql = raw.createStatement()) {
      sql.executeUpdate(
          "INSERT INTO schema_version(version, description, applied_at) VALUES ("
              + newer
              + ", 'from the future', 0)");
    }
    return newer;
  }

  /** A clock the test moves by hand. */
  public static final class SettableClock extends Clock {
    private volatile Instant now;

    public SettableClock(Instant start) {
      this.now = start;
    }

    public void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /** A write that holds the writer until released, so that the test can line up a batch. */
  public static final class Hold extends WriteOp<Void> {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    Void apply(WriteConnection connection, Instant now) {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    }

    @Override
    String notDone() {
      return "hold";
    }
  }

  /** Holds the writer of {@code journal}; returns once it is held. */
  public static Hold hold(SqliteJournal journal) throws InterruptedException {
    Hold hold = new Hold();
    journal.submit(hold);
    hold.entered.await();
    return hold;
  }

  /** Waits until {@code count} writes are queued behind a {@link Hold}. */
  public static void awaitQueued(SqliteJournal journal, int count) throws InterruptedException {
    while (journal.queuedWrites() < count) {
      Thread.sleep(1);
    }
  }

  /** Where {@code needle} first stands in {@code hay}, or -1. */
  public static int indexOf(byte[] hay, byte[] needle) {
    return indexOf(hay, needle, 0);
  }

  /** Where {@code needle} first stands in {@code hay} at or after {@code from}, or -1. */
  public static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * The regular files under {@code dir} whose raw bytes hold any of {@code needles} (as UTF-8), as
   * paths relative to {@code dir}, each once: where a canary written through the stores can be read
   * without a key.
   */
  public static List<String> filesHolding(Path dir, String... needles) throws IOException {
    List<byte[]> raw = Stream.of(needles).map(n -> n.getBytes(StandardCharsets.UTF_8)).toList();
    List<String> hits = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        byte[] bytes = Files.readAllBytes(f);
        if (raw.stream().anyMatch(n -> indexOf(bytes, n) >= 0)) {
          hits.add(dir.relativize(f).toString());
        }
      }
    }
    return hits;
  }
}
