package dev.cfn.bench;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * {@code cfn bench reliable}: RELIABLE messages through a real runtime on a real SQLite journal
 * ({@code synchronous=FULL}, WAL, group commit) in a fresh directory. A send returns only once its
 * message is fsynced, so send throughput is acknowledged-durable throughput; the handler then
 * acknowledges each message (a second journal write) in the background.
 *
 * <p>With {@code encrypted}, every scenario runs twice in the same process, plain then with
 * encryption at rest (payloads sealed with AES-256-GCM under a keyring made in the bench folder, as
 * {@code cfn keys init} makes one), and the encrypted row says its cost against the plain one.
 */
final class ReliableBench {

  /** A paced message: its intended send time. */
  record Stamp(long intended, boolean measured) {}

  private final Path dir;
  private final Duration warmup;
  private final Duration measure;
  private final PrintStream out;
  private final boolean encrypted;
  private Keyring keyring; // with encrypted: made on first use in dir/keys

  ReliableBench(Path dir, Duration warmup, Duration measure, PrintStream out) {
    this(dir, warmup, measure, out, false);
  }

  ReliableBench(Path dir, Duration warmup, Duration measure, PrintStream out, boolean encrypted) {
    this.dir = dir;
    this.warmup = warmup;
    this.measure = measure;
    this.out = out;
    this.encrypted = encrypted;
  }

  private SqliteJournal journal;
  private boolean sealing; // the scenario running: encrypted or plain

  private AtRest atRest() {
    if (!sealing) {
      return AtRest.plain("journal"); // even with CFN_MASTER_KEY set: the plain row is plain
    }
    if (keyring == null) {
      Path keys = dir.resolve("keys");
      keyring =
          Keyring.configured(keys, Map.of())
              ? Keyring.open(keys, Map.of())
              : Keyring.init(keys, Map.of());
    }
    return AtRest.sealedWith(keyring.cipher("journal"));
  }

  private AgentRuntime runtime(Path db, LongAdder handled, Recorder latency) {
    journal = SqliteJournal.builder(db).payloadType(Stamp.class).atRest(atRest()).open();
    return AgentRuntime.builder()
        .journal(journal)
        .jvmMetrics(false)
        .register(
            AgentType.builder(
                    "sink",
                    id ->
                        (m, ctx) -> {
                          Stamp s = (Stamp) m.payload();
                          if (s.measured() && latency != null) {
                            latency.recordValue(Math.max(0, System.nanoTime() - s.intended()));
                          }
                          handled.increment();
                        })
                .mailboxCapacity(1 << 16)
                .build())
        .build();
  }

  static Envelope.Builder reliable(AgentId to, Object payload) {
    return Envelope.to(to).delivery(DeliveryMode.RELIABLE).payload(payload);
  }

  /** Throughput of durable sends with {@code senders} concurrent sending threads. */
  Map<String, Object> throughput(int senders) throws Exception {
    Path db = Files.createTempDirectory(dir, "tp-" + senders).resolve("bench.db");
    LongAdder sent = new LongAdder();
    LongAdder handled = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    Map<String, Object> r = new LinkedHashMap<>();
    try (AgentRuntime rt = runtime(db, handled, null)) {
      for (int i = 0; i < senders; i++) {
        AgentId to = AgentId.of("sink", Integer.toString(i % 16));
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      while (!stop.get()) {
                        rt.send(reliable(to, new Stamp(0, false)));
                        sent.increment();
                      }
                    }));
      }
      Thread.sleep(warmup.toMillis());
      Cpu cpu = new Cpu();
      long s0 = sent.sum();
      long c0 = journal.commitCount();
      long t0 = System.nanoTime();
      Thread.sleep(measure.toMillis());
      long s1 = sent.sum();
      long c1 = journal.commitCount();
      long t1 = System.nanoTime();
      cpu.stop();
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
      double seconds = (t1 - t0) / 1e9;
      r.put("senders", senders);
      r.put("durableSends", s1 - s0);
      r.put("seconds", seconds);
      r.put("messagesPerSecond", Math.round((s1 - s0) / seconds));
      r.put("commitsPerSecond", Math.round((c1 - c0) / seconds));
      r.put("sendsPerCommit", c1 == c0 ? 0 : Math.round((s1 - s0) * 10.0 / (c1 - c0)) / 10.0);
      r.put("processCpuCores", cpu.processCores());
      r.put(
          "cpuMicrosPerSend",
          s1 == s0 ? 0 : Math.round(cpu.processCores() * seconds * 1e7 / (s1 - s0)) / 10.0);
      CfnScenarios.awaitCount(handled, sent.sum());
      r.put("allHandled", handled.sum() == sent.sum());
    }
    return r;
  }

  /**
   * Paced end-to-end latency: each message is sent on its own virtual thread at its intended time
   * (so a slow fsync delays only the messages it holds, as with independent clients), and the
   * latency is from the intended time to the handler, through the durable append.
   */
  Map<String, Object> pacedLatency(int rate) throws Exception {
    Path db = Files.createTempDirectory(dir, "lat-" + rate).resolve("bench.db");
    LongAdder handled = new LongAdder();
    Recorder recorder = new Recorder(60_000_000_000L, 3);
    Map<String, Object> r = new LinkedHashMap<>();
    try (AgentRuntime rt = runtime(db, handled, recorder)) {
      AgentId to = AgentId.of("sink", "1");
      Pacer.Run run =
          Pacer.run(
              rate,
              warmup,
              measure,
              recorder::reset,
              (intended, measured) ->
                  Thread.startVirtualThread(
                      () -> rt.send(reliable(to, new Stamp(intended, measured)))));
      CfnScenarios.awaitCount(handled, run.total());
      var h = recorder.getIntervalHistogram();
      r.put("rate", rate);
      r.put("count", h.getTotalCount());
      r.put("p50Ms", ms(h.getValueAtPercentile(50)));
      r.put("p99Ms", ms(h.getValueAtPercentile(99)));
      r.put("p999Ms", ms(h.getValueAtPercentile(99.9)));
      r.put("maxMs", ms(h.getMaxValue()));
    }
    return r;
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1000.0) / 1000.0;
  }

  Map<String, Object> run() throws Exception {
    return run(new int[] {1, 16, 256}, new int[] {1_000, 10_000});
  }

  /**
   * Runs the throughput scenarios for {@code senderCounts} and the latency ones for {@code rates}.
   */
  Map<String, Object> run(int[] senderCounts, int[] rates) throws Exception {
    try {
      return runAll(senderCounts, rates);
    } finally {
      if (keyring != null) {
        keyring.close(); // erases the master key held in memory
      }
    }
  }

  private Map<String, Object> runAll(int[] senderCounts, int[] rates) throws Exception {
    for (int n : senderCounts) {
      if (n < 1) {
        throw new IllegalArgumentException("--senders takes counts >= 1, got " + n);
      }
    }
    Machine machine = Machine.current();
    out.println("cfn bench reliable — " + machine.describe());
    out.println("journal: SQLite WAL, synchronous=FULL, group commit, in " + dir);
    // first, so that the JIT has compiled the sealing before the first encrypted row
    Map<String, Object> sealFigures = encrypted ? sealCost() : null;
    List<Map<String, Object>> tps = new ArrayList<>();
    for (int senders : senderCounts) {
      Map<String, Object> plain = null;
      for (boolean sealed : variants()) {
        sealing = sealed;
        out.print(
            "  durable send throughput, "
                + senders
                + " sender(s)"
                + (encrypted ? (sealed ? ", encrypted" : ", plain") : "")
                + " ... ");
        out.flush();
        Map<String, Object> r = throughput(senders);
        r.put("encrypted", sealed);
        out.printf(
            Locale.ROOT,
            "%,d msg/s (%,d commits/s, %.1f sends per commit, %.2f cores, %.1f us CPU per"
                + " send)%s%n",
            (long) r.get("messagesPerSecond"),
            (long) r.get("commitsPerSecond"),
            (double) r.get("sendsPerCommit"),
            (double) r.get("processCpuCores"),
            (double) r.get("cpuMicrosPerSend"),
            sealed && plain != null ? cost(plain, r, "messagesPerSecond", "throughput") : "");
        if (!sealed) {
          plain = r;
        }
        tps.add(r);
      }
    }
    sealing = false;
    List<Map<String, Object>> lats = new ArrayList<>();
    for (int rate : rates) {
      if (rate <= 0) {
        continue;
      }
      Map<String, Object> plain = null;
      for (boolean sealed : variants()) {
        sealing = sealed;
        out.print(
            "  paced end-to-end latency at "
                + rate
                + " msg/s"
                + (encrypted ? (sealed ? ", encrypted" : ", plain") : "")
                + " ... ");
        out.flush();
        Map<String, Object> r = pacedLatency(rate);
        r.put("encrypted", sealed);
        out.printf(
            Locale.ROOT,
            "p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms%s%n",
            r.get("p50Ms"),
            r.get("p99Ms"),
            r.get("p999Ms"),
            r.get("maxMs"),
            sealed && plain != null ? cost(plain, r, "p99Ms", "p99") : "");
        if (!sealed) {
          plain = r;
        }
        lats.add(r);
      }
      sealing = false;
    }
    List<Map<String, Object>> targets = new ArrayList<>();
    for (Map<String, Object> t : tps) {
      if ((int) t.get("senders") == 256 && !(boolean) t.get("encrypted")) {
        long tp256 = (long) t.get("messagesPerSecond");
        targets.add(target("throughput, 256 senders", ">= 100000 msg/s", tp256, tp256 >= 100_000));
      }
    }
    for (Map<String, Object> l : lats) {
      if ((int) l.get("rate") == 10_000 && !(boolean) l.get("encrypted")) {
        double p99at10k = (double) l.get("p99Ms");
        targets.add(target("p99 at 10k msg/s", "<= 10 ms", p99at10k, p99at10k <= 10));
      }
    }
    if (!targets.isEmpty()) {
      List<Results.Target> rows = new ArrayList<>();
      for (Map<String, Object> t : targets) {
        String name = (String) t.get("name");
        rows.add(
            new Results.Target(
                name,
                (String) t.get("target"),
                ((Number) t.get("measured")).doubleValue(),
                name.startsWith("throughput") ? "msg/s" : "ms",
                (boolean) t.get("met")));
      }
      out.println("Targets");
      BusBench.printTargets(out, rows);
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("benchmark", "cfn bench reliable");
    json.put("finished", Instant.now().toString());
    json.put("machine", machine.asMap());
    json.put("warmupSeconds", warmup.toMillis() / 1000.0);
    json.put("measureSeconds", measure.toMillis() / 1000.0);
    json.put("encryptedRows", encrypted);
    if (sealFigures != null) {
      json.put("payloadSealing", sealFigures);
    }
    json.put("throughput", tps);
    json.put("latency", lats);
    json.put("targets", targets);
    return json;
  }

  /**
   * The cost of encryption alone, without the disk: one thread seals and opens this benchmark's
   * payload (its JSON, as the journal stores it) for the measure window, after the warm-up.
   */
  private Map<String, Object> sealCost() throws Exception {
    sealing = true;
    byte[] json =
        PayloadJson.MAPPER.writeValueAsBytes(new Stamp(System.nanoTime(), true)); // ~40 bytes
    byte[] aad = AtRest.aad("journal payload", "123456789", Stamp.class.getName());
    out.print("  payload sealing alone (" + json.length + " bytes, one thread) ... ");
    out.flush();
    try (AtRest keys = atRest()) {
      long seals = 0;
      long end = System.nanoTime() + warmup.toNanos();
      while (System.nanoTime() < end) {
        keys.open(keys.seal(json, aad), aad, () -> "bench");
      }
      long t0 = System.nanoTime();
      long sealNanos = 0;
      long openNanos = 0;
      end = t0 + measure.toNanos();
      while (System.nanoTime() < end) {
        long a = System.nanoTime();
        byte[] sealed = keys.seal(json, aad);
        long b = System.nanoTime();
        keys.open(sealed, aad, () -> "bench");
        openNanos += System.nanoTime() - b;
        sealNanos += b - a;
        seals++;
      }
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("payloadBytes", json.length);
      r.put("seals", seals);
      r.put("sealMicros", Math.round(sealNanos / 100.0 / seals) / 10.0);
      r.put("openMicros", Math.round(openNanos / 100.0 / seals) / 10.0);
      out.printf(
          Locale.ROOT,
          "seal %.1f us, open %.1f us per payload (%,d of each)%n",
          r.get("sealMicros"),
          r.get("openMicros"),
          seals);
      return r;
    } finally {
      sealing = false;
    }
  }

  /** The JSON mapper for the sealing figure (the journal's own is internal). */
  private static final class PayloadJson {
    static final com.fasterxml.jackson.databind.ObjectMapper MAPPER =
        new com.fasterxml.jackson.databind.ObjectMapper();
  }

  private boolean[] variants() {
    return encrypted ? new boolean[] {false, true} : new boolean[] {false};
  }

  /** The encrypted row against the plain one: " [throughput -4.2% vs plain]". */
  private static String cost(
      Map<String, Object> plain, Map<String, Object> sealed, String key, String what) {
    double p = ((Number) plain.get(key)).doubleValue();
    double e = ((Number) sealed.get(key)).doubleValue();
    if (p == 0) {
      return "";
    }
    return String.format(Locale.ROOT, " [%s %+.1f%% vs plain]", what, (e - p) * 100 / p);
  }

  private static Map<String, Object> target(String name, String target, double v, boolean met) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("target", target);
    m.put("measured", v);
    m.put("met", met);
    return m;
  }
}
