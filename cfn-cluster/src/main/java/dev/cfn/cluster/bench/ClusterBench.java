package dev.cfn.cluster.bench;

import dev.cfn.cluster.harness.LocalNats;
import dev.cfn.cluster.harness.LocalPostgres;
import dev.cfn.cluster.pg.Lease;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.core.AgentId;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * {@code cfn bench cluster}: three cfn nodes on a 3-server JetStream cluster (R3, file storage) and
 * PostgreSQL ({@code fsync} and {@code synchronous_commit} on), all started by the bench on this
 * machine's loopback ({@link LocalNats}, {@link LocalPostgres}), the nodes as child JVMs ({@link
 * BenchNode}).
 *
 * <ol>
 *   <li><b>Reliable throughput</b>: each node sends {@code saturationPerNode} RELIABLE messages
 *       from {@code concurrency} threads as fast as they go to agents spread over every partition
 *       (so about two in three cross nodes); each message is stored in PostgreSQL, published to the
 *       stream, consumed by its partition's owner, read from PostgreSQL and handled (an increment
 *       of its agent's counter), and acknowledged in a fenced transaction: it counts when that
 *       commit returned. Messages per second from the first send to the last commit; latency from
 *       when a sending thread took the message to its commit (service time under saturation).
 *   <li><b>Reliable latency at a fixed rate</b> ({@code pacedRate} in all): each message has an
 *       intended send time fixed in advance and its latency runs from it, so a stall counts against
 *       every message it delays (corrected for coordinated omission).
 *   <li><b>Request-reply</b>: best-effort requests over core NATS from one node to {@code echo}
 *       agents whose partitions the other nodes hold, at {@code rrRate}, timed from their intended
 *       send time, after a warm-up.
 *   <li><b>Failover</b>: {@code kills} times, one node is SIGKILLed (by its PID) while another
 *       sends at {@code failoverRate}; the time from its death to every partition it held being
 *       leased by a survivor. It is then restarted (a new node id) and the partitions rebalance.
 * </ol>
 *
 * <p>Every message is counted on arrival (its commit on the handling node): lost (sent, never
 * committed) and duplicated (committed twice) are reported, and at the end every message a node
 * sent is checked acknowledged in PostgreSQL and the agents' counters must sum to the messages
 * sent.
 */
public final class ClusterBench {
  private static final long MAX_LATENCY_NANOS = BenchNode.MAX_LATENCY_NANOS;

  /** How much to run. */
  public record Settings(
      int partitions,
      Duration ttl,
      int kills,
      int concurrency,
      int keys,
      int warmupPerNode,
      int saturationPerNode,
      int pacedRate,
      Duration pacedFor,
      int rrRate,
      int rrWarmup,
      int rrCount,
      int failoverRate) {

    /** About two minutes on a quiet 2-core machine. */
    public static Settings quick() {
      return new Settings(
          32,
          Duration.ofSeconds(10),
          1,
          64,
          256,
          500,
          2_000,
          600,
          Duration.ofSeconds(5),
          1000,
          1000,
          3000,
          100);
    }

    /** About six minutes on a quiet 2-core machine. */
    public static Settings full() {
      return new Settings(
          32,
          Duration.ofSeconds(10),
          5,
          64,
          256,
          2_000,
          20_000,
          1_000,
          Duration.ofSeconds(20),
          2000,
          4000,
          20_000,
          200);
    }

    /** These settings with {@code n} kills. */
    public Settings withKills(int n) {
      return new Settings(
          partitions,
          ttl,
          n,
          concurrency,
          keys,
          warmupPerNode,
          saturationPerNode,
          pacedRate,
          pacedFor,
          rrRate,
          rrWarmup,
          rrCount,
          failoverRate);
    }

    /** These settings with {@code count} messages per node in the throughput run. */
    public Settings withMessages(int count) {
      return new Settings(
          partitions,
          ttl,
          kills,
          concurrency,
          keys,
          warmupPerNode,
          count,
          pacedRate,
          pacedFor,
          rrRate,
          rrWarmup,
          rrCount,
          failoverRate);
    }

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("nodes", NODES);
      m.put("natsServers", NODES);
      m.put("streamReplicas", 3);
      m.put("partitions", partitions);
      m.put("ttlMs", ttl.toMillis());
      m.put("kills", kills);
      m.put("sendersPerNode", concurrency);
      m.put("agents", keys);
      m.put("warmupPerNode", warmupPerNode);
      m.put("messagesPerNode", saturationPerNode);
      m.put("pacedRate", pacedRate);
      m.put("pacedSeconds", pacedFor.toSeconds());
      m.put("requestRate", rrRate);
      m.put("requestWarmup", rrWarmup);
      m.put("requests", rrCount);
      m.put("failoverRate", failoverRate);
      return m;
    }
  }

  static final int NODES = 3;

  private final Settings settings;
  private final PrintWriter out;
  private final Path work;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final List<Long> pids = new ArrayList<>();
  private final long startMillis = System.currentTimeMillis();
  private int starts;
  private long sentTotal;
  private LocalNats nats;
  private LocalPostgres pg;
  private String url;

  private ClusterBench(Settings settings, PrintWriter out, Path work) {
    this.settings = settings;
    this.out = out;
    this.work = work;
  }

  /**
   * Runs the bench, printing progress and results to {@code out}, and returns every figure (the
   * {@code --json} document). The servers and nodes are stopped and their files deleted when it
   * returns or fails.
   */
  public static Map<String, Object> run(Settings settings, PrintWriter out) throws Exception {
    Path work = Files.createTempDirectory("cfn-bench-cluster");
    ClusterBench bench = new ClusterBench(settings, out, work);
    try {
      return bench.run();
    } finally {
      bench.stop();
      try (var paths = Files.walk(work)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        // a temporary folder left behind
      }
    }
  }

  private Map<String, Object> run() throws Exception {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("command", "cfn bench cluster");
    Map<String, Object> machine = machine();
    result.put("machine", machine);
    result.put("settings", settings.asMap());
    out.printf(
        Locale.ROOT,
        "cfn bench cluster: %s cores (%s), %s, JDK %s; load average %s%n",
        machine.get("cores"),
        machine.get("cpuModel"),
        machine.get("os"),
        machine.get("jdk"),
        machine.get("loadAverageBefore"));
    out.println("starting PostgreSQL 15 and a 3-server JetStream cluster of the bench's own...");
    out.flush();
    pg = LocalPostgres.start();
    nats = LocalNats.start(NODES);
    url = pg.newSchema("bench");
    pids.add(pg.pid());
    pids.addAll(nats.pids());
    result.put("processes", pids);
    try (PgJournal db = PgJournal.builder(url).stateCacheKeys(0).open()) {
      out.printf(
          Locale.ROOT,
          "PostgreSQL on 127.0.0.1:%d, NATS %s; starting %d nodes%n",
          pg.port(),
          String.join(",", nats.urls()),
          NODES);
      out.flush();
      for (int i = 0; i < NODES; i++) {
        nodes.add(startNode(i));
      }
      awaitBalanced(db, 180);

      messages("warmup", settings.warmupPerNode(), 0, 300);
      result.put("reliable", saturation());
      result.put("reliablePaced", paced());
      result.put("requestReply", requestReply());
      long[] beforeKills = verifyNodes(120); // the nodes to be killed keep their sends' ids
      result.put("failover", failover(db));
      result.put("accounting", accounting(db, beforeKills));
    }
    machine.put("loadAverageAfter", loadAverage());
    result.put("finished", Instant.now().toString());
    result.put(
        "note",
        "measured on this machine with the nodes, NATS, PostgreSQL and the driver sharing its"
            + " cores; with other work running the figures are under load (see loadAverage)");
    result.put("targets", targets(result));
    printTargets(result);
    return result;
  }

  private NodeProcess startNode(int sender) throws Exception {
    String id = "bench-" + (char) ('a' + sender) + "-" + startMillis + "-" + (starts++);
    NodeProcess node =
        NodeProcess.start(
            id,
            sender,
            List.of(
                url,
                String.join(",", nats.urls()),
                "bench",
                Integer.toString(settings.partitions()),
                Long.toString(settings.ttl().toMillis())),
            work);
    pids.add(node.pid());
    node.await("ready", 180);
    return node;
  }

  /** Waits until every node holds some partitions and all are held. */
  private void awaitBalanced(PgJournal db, long seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      int total = 0;
      boolean each = true;
      for (NodeProcess n : nodes) {
        int held = Integer.parseInt(n.ask("held", "held ", 60).split(" ")[1]);
        total += held;
        each &= held > 0;
      }
      if (each && total == settings.partitions()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the partitions did not spread over the "
                + NODES
                + " nodes within "
                + seconds
                + " s ("
                + total
                + " of "
                + settings.partitions()
                + " held)");
      }
      Thread.sleep(200);
    }
  }

  /** The merged arrivals of one run. */
  private record Arrivals(
      long sent, long committed, long lost, long duplicated, long lastCommit, Histogram latency) {}

  /**
   * Every node sends {@code perNode} messages of run {@code run} at {@code ratePerNode} (0: as fast
   * as they go); waits until each is sent and committed (or {@code seconds} passed) and merges the
   * arrivals.
   */
  private Arrivals messages(String run, int perNode, int ratePerNode, long seconds)
      throws Exception {
    for (NodeProcess n : nodes) {
      n.send(
          "send "
              + run
              + " "
              + perNode
              + " "
              + ratePerNode
              + " "
              + settings.concurrency()
              + " "
              + settings.keys());
    }
    long sent = 0;
    for (NodeProcess n : nodes) {
      String[] w = n.await("sent " + run + " ", seconds).split(" ");
      sent += Long.parseLong(w[2]);
    }
    sentTotal += sent;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      Arrivals a = arrivals(run, sent);
      if (a.committed() >= sent || System.nanoTime() > deadline) {
        return a;
      }
      Thread.sleep(100);
    }
  }

  private Arrivals arrivals(String run, long sent) throws Exception {
    Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
    long committed = 0;
    long duplicated = 0;
    long last = 0;
    Map<Integer, BitSet> union = new HashMap<>();
    for (NodeProcess n : nodes) {
      String[] w = n.ask("stats " + run, "stats " + run + " ", 60).split(" ");
      committed += Long.parseLong(w[2]);
      duplicated += Long.parseLong(w[3]);
      last = Math.max(last, Long.parseLong(w[4]));
      latency.add(decode(w[5]));
      if (!"-".equals(w[6])) {
        for (String part : w[6].split(",")) {
          int colon = part.indexOf(':');
          BitSet bits = BitSet.valueOf(Base64.getDecoder().decode(part.substring(colon + 1)));
          BitSet all =
              union.computeIfAbsent(Integer.parseInt(part.substring(0, colon)), k -> new BitSet());
          BitSet both = (BitSet) all.clone();
          both.and(bits);
          duplicated += both.cardinality(); // committed on two nodes
          all.or(bits);
        }
      }
    }
    long distinct = union.values().stream().mapToLong(BitSet::cardinality).sum();
    return new Arrivals(sent, committed, Math.max(0, sent - distinct), duplicated, last, latency);
  }

  private static Histogram decode(String base64) throws DataFormatException {
    return Histogram.decodeFromCompressedByteBuffer(
        ByteBuffer.wrap(Base64.getDecoder().decode(base64)), MAX_LATENCY_NANOS);
  }

  private Map<String, Object> saturation() throws Exception {
    out.printf(
        Locale.ROOT,
        "reliable throughput: %d messages from each of %d nodes, %d senders each...%n",
        settings.saturationPerNode(),
        NODES,
        settings.concurrency());
    out.flush();
    long[] pgBefore = pgStats();
    long cpuBefore = nodesCpu();
    long natsBefore = natsCpu();
    long pgCpuBefore = pg.cpuNanos();
    long start = System.nanoTime();
    Arrivals a = messages("saturation", settings.saturationPerNode(), 0, 600);
    long end = a.lastCommit() > start ? a.lastCommit() : System.nanoTime();
    long nodesCpu = nodesCpu() - cpuBefore;
    long natsCpu = natsCpu() - natsBefore;
    long pgCpu = pg.cpuNanos() - pgCpuBefore;
    Thread.sleep(1_500); // PostgreSQL 15 flushes its statistics at most once a second
    long[] pgAfter = pgStats();
    double seconds = (end - start) / 1e9;
    Map<String, Object> m = latency(a.latency());
    m.put("messages", a.committed());
    m.put("sent", a.sent());
    m.put("seconds", round(seconds, 3));
    m.put("messagesPerSecond", round(a.committed() / seconds, 1));
    m.put("latencyMeasuredFrom", "when a sending thread took the message (service time)");
    m.put("lost", a.lost());
    m.put("duplicated", a.duplicated());
    m.put("postgresCommitsPerMessage", round((pgAfter[0] - pgBefore[0]) / (double) a.sent(), 3));
    m.put("walFsyncsPerMessage", round((pgAfter[1] - pgBefore[1]) / (double) a.sent(), 3));
    m.put("nodesCpuUsPerMessage", round(nodesCpu / 1e3 / a.sent(), 1));
    m.put("postgresCpuUsPerMessage", round(pgCpu / 1e3 / a.sent(), 1));
    m.put("natsCpuUsPerMessage", round(natsCpu / 1e3 / a.sent(), 1));
    out.printf(
        Locale.ROOT,
        "  %,d messages in %.2f s: %,.0f msg/s; P50 %.0f µs, P99 %.0f µs, max %.0f µs; lost %d,"
            + " duplicated %d%n"
            + "  per message: %.2f PostgreSQL commits, %.2f WAL fsyncs; CPU µs: nodes %.0f,"
            + " PostgreSQL %.0f, NATS %.0f%n",
        a.committed(),
        seconds,
        a.committed() / seconds,
        m.get("p50Us"),
        m.get("p99Us"),
        m.get("maxUs"),
        a.lost(),
        a.duplicated(),
        m.get("postgresCommitsPerMessage"),
        m.get("walFsyncsPerMessage"),
        m.get("nodesCpuUsPerMessage"),
        m.get("postgresCpuUsPerMessage"),
        m.get("natsCpuUsPerMessage"));
    out.flush();
    return m;
  }

  private Map<String, Object> paced() throws Exception {
    int perNode = Math.max(1, settings.pacedRate() / NODES);
    int count = (int) (perNode * settings.pacedFor().toSeconds());
    out.printf(
        Locale.ROOT,
        "reliable latency at %d msg/s for %d s (from each message's intended send time)...%n",
        perNode * NODES,
        settings.pacedFor().toSeconds());
    out.flush();
    Arrivals a = messages("paced", count, perNode, 600);
    Map<String, Object> m = latency(a.latency());
    m.put("rate", perNode * NODES);
    m.put("messages", a.committed());
    m.put("sent", a.sent());
    m.put("latencyMeasuredFrom", "each message's intended send time (coordinated omission)");
    m.put("lost", a.lost());
    m.put("duplicated", a.duplicated());
    out.printf(
        Locale.ROOT,
        "  P50 %.0f µs, P99 %.0f µs, P99.9 %.0f µs, max %.0f µs; lost %d, duplicated %d%n",
        m.get("p50Us"),
        m.get("p99Us"),
        m.get("p999Us"),
        m.get("maxUs"),
        a.lost(),
        a.duplicated());
    out.flush();
    return m;
  }

  private Map<String, Object> requestReply() throws Exception {
    out.printf(
        Locale.ROOT,
        "best-effort request-reply across nodes: %d requests at %d/s after %d of warm-up...%n",
        settings.rrCount(),
        settings.rrRate(),
        settings.rrWarmup());
    out.flush();
    NodeProcess from = nodes.getFirst();
    from.ask("rr " + settings.rrWarmup() + " " + settings.rrRate(), "rr ", 300);
    String[] w =
        from.ask("rr " + settings.rrCount() + " " + settings.rrRate(), "rr ", 300).split(" ");
    Histogram h = decode(w[3]);
    Map<String, Object> m = latency(h);
    m.put("rate", settings.rrRate());
    m.put("requests", settings.rrCount());
    m.put("replies", Long.parseLong(w[1]));
    m.put("errors", Long.parseLong(w[2]));
    m.put("latencyMeasuredFrom", "each request's intended send time (coordinated omission)");
    out.printf(
        Locale.ROOT,
        "  P50 %.0f µs, P99 %.0f µs, P99.9 %.0f µs; %d replies, %d errors%n",
        m.get("p50Us"),
        m.get("p99Us"),
        m.get("p999Us"),
        Long.parseLong(w[1]),
        Long.parseLong(w[2]));
    out.flush();
    return m;
  }

  private Map<String, Object> failover(PgJournal db) throws Exception {
    List<Long> samples = new ArrayList<>();
    for (int k = 0; k < settings.kills(); k++) {
      int index = 1 + k % (NODES - 1);
      NodeProcess victim = nodes.get(index);
      NodeProcess sender = nodes.getFirst();
      Set<Integer> victims = new HashSet<>();
      for (int p = 0; p < settings.partitions(); p++) {
        Optional<Lease> holder = db.leases().holder(p);
        if (holder.isPresent() && holder.get().owner().equals(victim.id)) {
          victims.add(p);
        }
      }
      String run = "failover" + k;
      int count = (int) (settings.failoverRate() * (settings.ttl().toSeconds() + 5));
      sender.send(
          "send " + run + " " + count + " " + settings.failoverRate() + " 8 " + settings.keys());
      Thread.sleep(1_000);
      victim.kill();
      long died = System.nanoTime();
      long deadline = died + settings.ttl().toNanos() + TimeUnit.SECONDS.toNanos(120);
      Set<Integer> left = new HashSet<>(victims);
      while (!left.isEmpty()) {
        left.removeIf(
            p -> db.leases().holder(p).map(l -> !l.owner().equals(victim.id)).orElse(false));
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              left.size() + " partitions of the killed node were not taken over in time");
        }
        if (!left.isEmpty()) {
          Thread.sleep(10);
        }
      }
      long ms = (System.nanoTime() - died) / 1_000_000;
      samples.add(ms);
      out.printf(
          Locale.ROOT,
          "failover %d/%d: node %s (pid %d, %d partitions) SIGKILLed; its partitions leased by the"
              + " survivors after %d ms%n",
          k + 1,
          settings.kills(),
          victim.id,
          victim.pid(),
          victims.size(),
          ms);
      out.flush();
      String[] w = sender.await("sent " + run + " ", 600).split(" ");
      sentTotal += Long.parseLong(w[2]);
      nodes.set(index, startNode(index));
      awaitBalanced(db, 180);
    }
    List<Long> sorted = samples.stream().sorted().toList();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kills", samples.size());
    m.put("ttlMs", settings.ttl().toMillis());
    m.put("samplesMs", samples);
    m.put("p50Ms", rank(sorted, 50));
    m.put("p99Ms", rank(sorted, 99));
    long max = sorted.isEmpty() ? 0 : sorted.getLast();
    m.put("maxMs", max);
    m.put(
        "measuredAs",
        "from the SIGKILLed JVM's exit to every partition it held being leased by a survivor (the"
            + " survivors start the partitions' consumers right after)");
    return m;
  }

  /**
   * Asks every node to check its sent messages acknowledged, until none is missing or {@code
   * seconds} passed; returns the messages checked and those still unacknowledged.
   */
  private long[] verifyNodes(long seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long checked = 0;
    while (true) {
      long missing = 0;
      for (NodeProcess n : nodes) {
        String[] w = n.ask("verify", "verified ", 600).split(" ");
        checked += Long.parseLong(w[1]) - Long.parseLong(w[2]); // the missing are checked again
        missing += Long.parseLong(w[2]);
      }
      if (missing == 0 || System.nanoTime() > deadline) {
        return new long[] {checked + missing, missing};
      }
      Thread.sleep(500);
    }
  }

  /** Every message sent is acknowledged in PostgreSQL, and the counters sum to the messages. */
  private Map<String, Object> accounting(PgJournal db, long[] beforeKills) throws Exception {
    long[] end = verifyNodes(300);
    long checked = beforeKills[0] - beforeKills[1] + end[0]; // the missing are checked again
    long missing = end[1];
    long applied = 0;
    for (int k = 0; k < settings.keys(); k++) {
      applied += db.state(AgentId.of(BenchNode.SINK, "k" + k), "n").map(Long::parseLong).orElse(0L);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("sent", sentTotal);
    m.put("checked", checked);
    m.put("unacknowledged", missing);
    m.put("unacknowledgedBeforeKills", beforeKills[1]);
    m.put("pendingAtEnd", count("cfn_messages"));
    m.put("deadLettered", count("cfn_dead_letters"));
    m.put("effectsApplied", applied);
    m.put("effectsDuplicated", Math.max(0, applied - sentTotal));
    m.put(
        "checkedAs",
        "every message id the surviving nodes sent checked acknowledged in PostgreSQL (the"
            + " killed nodes' own sends were checked before the kills); the agents' counters,"
            + " one increment per message committed with its acknowledgement, summed");
    out.printf(
        Locale.ROOT,
        "accounting: %,d sent, %,d checked in PostgreSQL, %d unacknowledged (%d pending, %d dead"
            + " letters), %,d effects applied%n",
        sentTotal,
        checked,
        missing,
        m.get("pendingAtEnd"),
        m.get("deadLettered"),
        applied);
    out.flush();
    return m;
  }

  /**
   * Whether a run's accounting holds: every section lost and duplicated nothing, every message sent
   * is acknowledged and the effects sum to the messages sent.
   */
  public static boolean accountingHolds(Map<String, Object> result) {
    for (String name : List.of("reliable", "reliablePaced")) {
      Map<String, Object> s = section(result, name);
      if (((Number) s.get("lost")).longValue() != 0
          || ((Number) s.get("duplicated")).longValue() != 0) {
        return false;
      }
    }
    Map<String, Object> a = section(result, "accounting");
    return ((Number) a.get("unacknowledged")).longValue() == 0
        && ((Number) a.get("unacknowledgedBeforeKills")).longValue() == 0
        && ((Number) a.get("effectsApplied")).longValue() == ((Number) a.get("sent")).longValue();
  }

  private List<Map<String, Object>> targets(Map<String, Object> result) {
    List<Map<String, Object>> targets = new ArrayList<>();
    double rate = (Double) section(result, "reliable").get("messagesPerSecond");
    targets.add(
        target("reliable messages/s across 3 nodes", ">= 10000", rate, "msg/s", rate >= 10_000));
    double rr = (Double) section(result, "requestReply").get("p50Us");
    targets.add(target("best-effort cross-node request-reply P50", "<= 150", rr, "µs", rr <= 150));
    Map<String, Object> f = section(result, "failover");
    if ((Integer) f.get("kills") > 0) {
      double p99 = ((Number) f.get("p99Ms")).doubleValue();
      long limit = settings.ttl().toMillis() + 2_000;
      targets.add(
          target("failover after SIGKILL P99", "<= TTL + 2 s = " + limit, p99, "ms", p99 <= limit));
    }
    return targets;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> section(Map<String, Object> result, String name) {
    return (Map<String, Object>) result.get(name);
  }

  private static Map<String, Object> target(
      String name, String target, double measured, String unit, boolean met) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("target", target);
    m.put("measured", measured);
    m.put("unit", unit);
    m.put("met", met);
    return m;
  }

  @SuppressWarnings("unchecked")
  private void printTargets(Map<String, Object> result) {
    out.println("targets (issue 15):");
    for (Map<String, Object> t : (List<Map<String, Object>>) result.get("targets")) {
      out.printf(
          Locale.ROOT,
          "  %-45s %-22s measured %,.1f %s: %s%n",
          t.get("name"),
          t.get("target"),
          t.get("measured"),
          t.get("unit"),
          (Boolean) t.get("met") ? "met" : "NOT met");
    }
    out.printf(
        Locale.ROOT,
        "load average before %s, after %s (figures under load when it exceeds the cores)%n",
        section(result, "machine").get("loadAverageBefore"),
        section(result, "machine").get("loadAverageAfter"));
    out.flush();
  }

  private static Map<String, Object> latency(Histogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", h.getTotalCount());
    m.put("p50Us", us(h.getValueAtPercentile(50)));
    m.put("p99Us", us(h.getValueAtPercentile(99)));
    m.put("p999Us", us(h.getValueAtPercentile(99.9)));
    m.put("maxUs", us(h.getMaxValue()));
    return m;
  }

  private static double us(long nanos) {
    return Math.round(nanos / 10.0) / 100.0;
  }

  private static double round(double value, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  private static long rank(List<Long> sorted, int percentile) {
    if (sorted.isEmpty()) {
      return 0;
    }
    int index = (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private long nodesCpu() {
    return nodes.stream().mapToLong(NodeProcess::cpuNanos).sum();
  }

  private long natsCpu() {
    long total = 0;
    for (long pid : nats.pids()) {
      total +=
          ProcessHandle.of(pid)
              .flatMap(h -> h.info().totalCpuDuration())
              .map(Duration::toNanos)
              .orElse(0L);
    }
    return total;
  }

  /** The rows of {@code table} (a constant) in the bench's schema. */
  private long count(String table) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
      r.next();
      return r.getLong(1);
    }
  }

  /** PostgreSQL's commits in database {@code cfn} and WAL fsyncs so far. */
  private long[] pgStats() throws SQLException {
    try (Connection c = DriverManager.getConnection(pg.url("cfn"));
        Statement s = c.createStatement()) {
      long commits;
      try (ResultSet r =
          s.executeQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = 'cfn'")) {
        r.next();
        commits = r.getLong(1);
      }
      try (ResultSet r = s.executeQuery("SELECT wal_sync FROM pg_stat_wal")) {
        r.next();
        return new long[] {commits, r.getLong(1)};
      }
    }
  }

  private static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpuModel", cpuModel());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    m.put("jdk", Runtime.version().toString());
    m.put("jdkVendor", System.getProperty("java.vendor"));
    m.put("vm", System.getProperty("java.vm.name"));
    m.put("jvmArgs", ManagementFactory.getRuntimeMXBean().getInputArguments());
    m.put("loadAverageBefore", loadAverage());
    return m;
  }

  /** The 1, 5 and 15 minute load averages from {@code /proc/loadavg}, or the JVM's 1 minute. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return String.format(
          Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return System.getProperty("os.arch");
  }

  private void stop() {
    for (NodeProcess n : nodes) {
      n.close();
    }
    if (nats != null) {
      nats.close();
    }
    if (pg != null) {
      pg.close();
    }
  }
}
