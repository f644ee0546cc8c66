package dev.cfn.cluster.pg;

import com.sun.management.OperatingSystemMXBean;
import dev.cfn.cluster.harness.LocalPostgres;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.spi.Effect;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A measurement, not a test (no assertion, not run by Surefire): {@link PgJournal} append +
 * acknowledge (with one state effect, the dedup row and the delete of the pending row) per second,
 * on the test harness's own PostgreSQL 15 ({@code fsync} and {@code synchronous_commit} on), three
 * ways in one run, each on a fresh database:
 *
 * <ol>
 *   <li><b>one by one</b>: one caller, each append and each acknowledgement its own transaction;
 *   <li><b>group commit</b>: 64 concurrent callers doing the same, so the writer batches what they
 *       queue into shared transactions;
 *   <li><b>together by 100</b>: one caller appending 100 messages concurrently and acknowledging
 *       them with one {@code acknowledgeTogether}.
 * </ol>
 *
 * <p>The two batched ways run twice, with and without the writer's pipelined statements ({@code
 * PgJournal.Builder.pipelined}). Prints messages per second, commits per message, and CPU per
 * message of this JVM and of the server's processes. Run: {@code java -cp <test classpath>
 * dev.cfn.cluster.pg.PgJournalLoad [messages]}.
 */
public final class PgJournalLoad {
  private static final AgentId TO = AgentId.of("counter", "1");
  private static final AtomicLong IDS = new AtomicLong();

  private PgJournalLoad() {}

  static Envelope message() {
    long id = IDS.incrementAndGet();
    return new Envelope(
        id,
        "load",
        AgentId.of("client", "1"),
        TO,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        Map.of(),
        "m" + id,
        System.nanoTime());
  }

  static List<Effect> effects(Envelope m) {
    return List.of(new Effect.Put(TO.toString(), "last-" + (m.id() % 1000), Long.toString(m.id())));
  }

  interface Body {
    void run(PgJournal journal, int messages) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    LocalPostgres server = PgServer.shared();
    measure(
        server,
        "one by one",
        messages,
        (j, n) -> {
          for (int i = 0; i < n; i++) {
            Envelope m = message();
            j.append(m);
            j.acknowledge(m, effects(m)).join();
          }
        });
    measure(
        server,
        "group commit, 64 callers",
        messages,
        (j, n) -> {
          try (ExecutorService pool = Executors.newFixedThreadPool(64)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 64; t++) {
              int share = n / 64 + (t < n % 64 ? 1 : 0);
              done.add(
                  pool.submit(
                      () -> {
                        for (int i = 0; i < share; i++) {
                          Envelope m = message();
                          j.append(m);
                          j.acknowledge(m, effects(m)).join();
                        }
                        return null;
                      }));
            }
            for (Future<?> f : done) {
              f.get();
            }
          }
        });
    measure(
        server,
        "together by 100",
        messages,
        (j, n) -> {
          try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int done = 0; done < n; done += 100) {
              List<Envelope> batch = new ArrayList<>();
              List<Effect> effects = new ArrayList<>();
              List<CompletableFuture<Void>> appends = new ArrayList<>();
              for (int i = 0; i < 100; i++) {
                Envelope m = message();
                batch.add(m);
                effects.addAll(effects(m));
                appends.add(CompletableFuture.runAsync(() -> j.append(m), pool));
              }
              CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).join();
              j.acknowledgeTogether(batch, effects).join();
            }
          }
        });
    server.close();
  }

  static void measure(LocalPostgres server, String name, int messages, Body body) throws Exception {
    measure(server, name, messages, body, true);
    if (!name.equals("one by one")) {
      measure(server, name + " (unpipelined)", messages, body, false);
    }
  }

  static void measure(LocalPostgres server, String name, int messages, Body body, boolean pipelined)
      throws Exception {
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (PgJournal journal =
        PgJournal.builder(server.newSchema("load")).pipelined(pipelined).open()) {
      body.run(journal, Math.min(messages, 500)); // warm-up
      long commits0 = journal.commitCount();
      long jvm0 = os.getProcessCpuTime();
      long pg0 = server.cpuNanos();
      long t0 = System.nanoTime();
      body.run(journal, messages);
      long elapsed = System.nanoTime() - t0;
      long jvm = os.getProcessCpuTime() - jvm0;
      long pg = server.cpuNanos() - pg0;
      long commits = journal.commitCount() - commits0;
      System.out.printf(
          Locale.ROOT,
          "%-40s %7d msgs  %8.0f msg/s  %5.2f commits/msg  CPU/msg: JVM %6.1f us, PostgreSQL %6.1f us%n",
          name,
          messages,
          messages / (elapsed / 1e9),
          (double) commits / messages,
          jvm / 1e3 / messages,
          pg / 1e3 / messages);
    }
  }
}
