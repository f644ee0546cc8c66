package dev.cfn.cli;

import dev.cfn.cluster.harness.LocalNats;
import dev.cfn.cluster.harness.LocalPostgres;
import dev.cfn.cluster.harness.Netns;
import dev.cfn.cluster.harness.TcpProxy;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.node.OutboxRelay;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn chaos cluster}: the crash test's accounting (every acknowledged send takes effect
 * exactly once) across cfn cluster nodes, under node kills, NATS stream-leader kills and network
 * partitions. It starts its own servers ({@link LocalPostgres}, a 3-server {@link LocalNats}) and
 * {@code --nodes} node JVMs ({@link ClusterChaosWorker}); this JVM sends numbered messages at
 * {@code --rate} (each acknowledged once its outbox row committed in PostgreSQL), injects {@code
 * --kills} faults one after the other, waits for every acknowledged send to take effect, then
 * counts each send's effects in PostgreSQL.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a cfn cluster on servers of its own (3 NATS JetStream servers, a PostgreSQL, N node"
          + " JVMs) under load, injects N faults and checks that every acknowledged send took"
          + " effect exactly once.",
      "Faults, taken in turn from --faults: node (SIGKILL of a node JVM, restarted once its"
          + " partitions were taken over), leader (SIGKILL of the NATS server leading the stream,"
          + " restarted once a new leader was elected) and partition (the node in a network"
          + " namespace cut off for --partition-ms with ip netns; needs root or sudo -n). Each"
          + " send goes to a counter agent, directly or through a forwarder's outbox; the counter"
          + " increments the send's own key. Exits 1 if anything acknowledged was lost or"
          + " duplicated.",
      "Without --dir the work folder (the nodes' logs) is temporary: removed after a pass, kept"
          + " (and named) after a failure."
    })
final class ChaosClusterCommand implements Callable<Integer> {
  /** The kinds of fault. */
  enum Fault {
    NODE,
    LEADER,
    PARTITION;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final String NAMESPACE = "chaos";
  private static final Duration WAIT = Duration.ofSeconds(120);

  @Spec CommandSpec spec;

  @Mixin KillOptions kill = new KillOptions(3, 2000, 4000);

  @Option(
      names = "--faults",
      paramLabel = "KINDS",
      split = ",",
      description =
          "Kinds of fault, taken in turn: node, leader, partition (default node,leader, and"
              + " partition when network namespaces can be made here).")
  List<String> faults;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      description = "cfn node JVMs, 2 to 8 (default ${DEFAULT-VALUE}).")
  int nodes = 3;

  @Option(
      names = "--rate",
      paramLabel = "N",
      description = "Messages sent per second while faults happen (default ${DEFAULT-VALUE}).")
  int rate = 200;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      description = "The cluster's partitions, 1 to 4096 (default ${DEFAULT-VALUE}).")
  int partitions = 16;

  @Option(
      names = "--ttl-ms",
      paramLabel = "MS",
      description = "Heartbeat and lease TTL, ms, at least 500 (default ${DEFAULT-VALUE}).")
  int ttlMs = 10_000;

  @Option(
      names = "--partition-ms",
      paramLabel = "MS",
      description =
          "How long a partition lasts, ms, at least 1000 (default ${DEFAULT-VALUE}); at least"
              + " until the node's partitions were taken over.")
  int partitionMs = 15_000;

  @Override
  public Integer call() throws Exception {
    List<Fault> kinds = kinds();
    ValueConverters.atLeast("--nodes", nodes, 2);
    if (nodes > 8) {
      throw CommandFailure.usage("--nodes " + nodes + " is more than 8", "give 2 to 8");
    }
    ValueConverters.atLeast("--rate", rate, 1);
    if (rate > 100_000) {
      throw CommandFailure.usage("--rate " + rate + " is more than 100000", "give at most 100000");
    }
    ValueConverters.atLeast("--partitions", partitions, 1);
    if (partitions > 4096) {
      throw CommandFailure.usage(
          "--partitions " + partitions + " is more than 4096", "give at most 4096");
    }
    ValueConverters.atLeast("--ttl-ms", ttlMs, 500);
    ValueConverters.atLeast("--partition-ms", partitionMs, 1000);
    kill.check();
    if (kinds.contains(Fault.PARTITION)) {
      Optional<String> why = Netns.unavailable();
      if (why.isPresent()) {
        if (faults != null) {
          throw CommandFailure.failed(
              "network namespaces cannot be made here: " + why.get(),
              "run as root (or with sudo -n) on a kernel that allows them, or leave partition out"
                  + " of --faults");
        }
        kinds.remove(Fault.PARTITION);
        spec.commandLine()
            .getErr()
            .println(
                "cfn chaos cluster: no partitions (network namespaces unavailable: "
                    + why.get()
                    + ")");
      }
    }
    return ChaosCommand.inWorkFolder(spec, "cluster", kill, work -> run(work, kinds));
  }

  private List<Fault> kinds() {
    if (faults == null) {
      return new ArrayList<>(List.of(Fault.NODE, Fault.LEADER, Fault.PARTITION));
    }
    List<Fault> kinds = new ArrayList<>();
    for (String f : faults) {
      String name = f.strip().toUpperCase(Locale.ROOT);
      Fault kind;
      try {
        kind = Fault.valueOf(name);
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage(
            "--faults has '" + f + "', not a kind of fault",
            "give a comma-separated list of node, leader, partition");
      }
      if (!kinds.contains(kind)) {
        kinds.add(kind);
      }
    }
    if (kinds.isEmpty()) {
      throw CommandFailure.usage(
          "--faults is empty", "give a comma-separated list of node, leader, partition");
    }
    return kinds;
  }

  /** One fault injected, for the report. */
  record Injected(Fault kind, String target, double atS, long takeoverMs, long resumedMs) {}

  private int run(Path work, List<Fault> kinds) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    long seed = kill.seed != null ? kill.seed : System.nanoTime();
    Random random = new Random(seed);
    boolean partitionsToo = kinds.contains(Fault.PARTITION);
    out.printf(
        Locale.ROOT,
        "cfn chaos cluster: %d faults (%s), %d nodes, %d msg/s, %d partitions, TTL %d ms, work"
            + " folder %s, seed %d%n",
        kill.kills,
        String.join(",", kinds.stream().map(Fault::label).toList()),
        nodes,
        rate,
        partitions,
        ttlMs,
        work,
        seed);
    out.println("starting PostgreSQL and 3 NATS servers of its own");
    out.flush();
    List<Injected> injected = new ArrayList<>();
    try (LocalPostgres pg = LocalPostgres.start();
        LocalNats nats = LocalNats.start(3);
        Cluster cluster = new Cluster(work, pg, nats, partitionsToo)) {
      cluster.startNodes();
      String url = cluster.url;
      try (PgJournal journal = PgJournal.builder(url).stateCacheKeys(0).open();
          io.nats.client.Connection connection = nats.connect();
          Connection db = DriverManager.getConnection(url)) {
        ReliableStream stream =
            ReliableStream.ensure(
                connection, Subjects.of(NAMESPACE), 3, ReliableStream.DEFAULT_DUPLICATE_WINDOW, -1);
        OutboxRelay relay =
            new OutboxRelay(
                journal.outbox(),
                new ReliablePublisher(connection, stream, new Partitioner(partitions)),
                connection,
                stream);
        awaitAllHeld(db, "every partition held before the load");
        awaitSpread(db, cluster, out);
        Producer producer = new Producer(journal, relay);
        long startedNs = System.nanoTime();
        producer.start();
        try {
          for (int k = 0; k < kill.kills; k++) {
            Thread.sleep(kill.minMs + random.nextInt(kill.maxMs - kill.minMs + 1));
            Fault kind = kinds.get(k % kinds.size());
            double at = (System.nanoTime() - startedNs) / 1e9;
            Injected i =
                switch (kind) {
                  case NODE -> killNode(cluster, db, random, at);
                  case LEADER -> killLeader(nats, connection, stream.name(), db, at);
                  case PARTITION -> partition(cluster, db, at);
                };
            injected.add(i);
            out.printf(
                Locale.ROOT,
                "  fault %d/%d: %s %s, taken over in %d ms%s%n",
                k + 1,
                kill.kills,
                kind.label(),
                i.target(),
                i.takeoverMs(),
                i.resumedMs() >= 0 ? ", progress again after " + i.resumedMs() + " ms" : "");
            out.flush();
            awaitAllHeld(db, "every partition held again after the " + kind.label() + " fault");
          }
          Thread.sleep(kill.minMs);
        } finally {
          producer.stop();
        }
        double loadS = (System.nanoTime() - startedNs) / 1e9;
        out.printf(
            Locale.ROOT,
            "sent %d, acknowledged %d; waiting for every acknowledged send to take effect%n",
            producer.sent.get(),
            producer.acknowledged());
        out.flush();
        Verdict v = drain(db, producer);
        if (v.pending > 0) {
          describePending(work.resolve("pending.txt"), db, connection, stream.name());
        }
        return report(out, seed, kinds, injected, producer, v, loadS, cluster);
      }
    }
  }

  private int report(
      PrintWriter out,
      long seed,
      List<Fault> kinds,
      List<Injected> injected,
      Producer producer,
      Verdict v,
      double loadS,
      Cluster cluster)
      throws IOException {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("command", "cfn chaos cluster");
    result.put("finished", Instant.now().toString());
    result.put("machine", ChaosCommand.Crash.machine());
    result.put("seed", seed);
    result.put("kills", kill.kills);
    result.put("faultKinds", kinds.stream().map(Fault::label).toList());
    result.put("nodes", nodes);
    result.put("natsServers", 3);
    result.put("partitions", partitions);
    result.put("ttlMs", ttlMs);
    result.put("partitionMs", partitionMs);
    result.put("rate", rate);
    result.put("loadSeconds", Math.round(loadS * 10) / 10.0);
    result.put("sent", producer.sent.get());
    result.put("acknowledged", v.acknowledged);
    result.put("sendsFailed", producer.failed.get());
    result.put("deliveredOnce", v.once);
    result.put("lost", v.lost);
    result.put("duplicated", v.duplicated);
    result.put("unacknowledgedWithEffect", v.unacknowledgedWithEffect);
    result.put("deadLettered", v.deadLettered);
    result.put("pendingAtEnd", v.pending);
    result.put("nodeRestarts", cluster.restarts);
    Map<String, Object> counts = new LinkedHashMap<>();
    Map<String, Object> takeovers = new LinkedHashMap<>();
    Map<String, Object> resumed = new LinkedHashMap<>();
    for (Fault f : Fault.values()) {
      List<Injected> of = injected.stream().filter(i -> i.kind() == f).toList();
      counts.put(f.label(), of.size());
      takeovers.put(
          f.label(),
          ChaosCommand.Crash.percentiles(of.stream().map(i -> (double) i.takeoverMs()).toList()));
      if (f == Fault.LEADER) {
        resumed.put(
            f.label(),
            ChaosCommand.Crash.percentiles(
                of.stream()
                    .filter(i -> i.resumedMs() >= 0)
                    .map(i -> (double) i.resumedMs())
                    .toList()));
      }
    }
    result.put("faultCounts", counts);
    result.put("takeoverMs", takeovers);
    result.put("leaderKillProgressMs", resumed);
    List<Map<String, Object>> list = new ArrayList<>();
    for (Injected i : injected) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kind", i.kind().label());
      m.put("target", i.target());
      m.put("atSeconds", Math.round(i.atS() * 10) / 10.0);
      m.put("takeoverMs", i.takeoverMs());
      if (i.resumedMs() >= 0) {
        m.put("progressMs", i.resumedMs());
      }
      list.add(m);
    }
    result.put("faults", list);
    result.put(
        "takeoverMeasuredAs",
        "node and partition: from the SIGKILL (or the cut) until every partition the node held is"
            + " held by another node, read from PostgreSQL's leases every 20 ms; leader: from the"
            + " SIGKILL until JetStream names another stream leader. progressMs (leader): until the"
            + " next acknowledgement committed after the new leader was elected");
    result.put(
        "accountingMeasuredAs",
        "a send is acknowledged when its outbox row committed in PostgreSQL; each send n ends at"
            + " a counter that increments its state key c-n in the acknowledging transaction: lost"
            + " is an acknowledged send whose key is missing after the drain, duplicated the sum of"
            + " counts above 1");
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"fault", "count", "takeover ms (p50 / max)"});
    for (Fault f : Fault.values()) {
      List<Double> ms =
          injected.stream().filter(i -> i.kind() == f).map(i -> (double) i.takeoverMs()).toList();
      Map<String, Object> p = ChaosCommand.Crash.percentiles(ms);
      rows.add(
          new String[] {
            f.label(),
            Integer.toString(ms.size()),
            ms.isEmpty() ? "-" : fmt(p.get("p50")) + " / " + fmt(p.get("max"))
          });
    }
    Table.print(out, rows);
    out.printf(
        Locale.ROOT,
        "faults %d, sent %d, acknowledged %d, delivered once %d, lost %d, duplicated %d, dead"
            + " letters %d, pending at end %d, node restarts %d%n",
        injected.size(),
        producer.sent.get(),
        v.acknowledged,
        v.once,
        v.lost,
        v.duplicated,
        v.deadLettered,
        v.pending,
        cluster.restarts);
    kill.writeFigures(result, out);
    boolean ok = v.lost == 0 && v.duplicated == 0 && v.acknowledged > 0 && v.pending == 0;
    out.println(ok ? "PASS: nothing lost, nothing duplicated" : "FAIL");
    out.flush();
    return ok ? ExitCode.OK : ExitCode.FAILED;
  }

  private static String fmt(Object ms) {
    return String.format(Locale.ROOT, "%.0f", ((Number) ms).doubleValue());
  }

  // ---- faults ----

  private Injected killNode(Cluster cluster, Connection db, Random random, double at)
      throws Exception {
    // a node that holds partitions now, so that there is something to take over
    List<Integer> holding = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      if (!heldBy(db, cluster.node(i).id).isEmpty()) {
        holding.add(i);
      }
    }
    int index =
        holding.isEmpty() ? random.nextInt(nodes) : holding.get(random.nextInt(holding.size()));
    NodeProcess victim = cluster.node(index);
    Set<Integer> held = heldBy(db, victim.id);
    victim.kill();
    long t0 = System.nanoTime();
    long takeover = awaitTakenOver(db, victim.id, held, t0);
    cluster.restart(index);
    return new Injected(
        Fault.NODE, victim.id + " (" + held.size() + " partitions)", at, takeover, -1);
  }

  private Injected killLeader(
      LocalNats nats, io.nats.client.Connection connection, String stream, Connection db, double at)
      throws Exception {
    int leader = nats.streamLeader(connection, stream, -1);
    long acked = count(db, "SELECT count(*) FROM cfn_acked");
    nats.kill(leader);
    long t0 = System.nanoTime();
    nats.streamLeader(connection, stream, leader);
    long elected = (System.nanoTime() - t0) / 1_000_000;
    long resumed = -1;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      long now = count(db, "SELECT count(*) FROM cfn_acked");
      if (now > acked) {
        resumed = (System.nanoTime() - t0) / 1_000_000;
        break;
      }
      Thread.sleep(20);
    }
    nats.restart(leader);
    return new Injected(Fault.LEADER, "nats " + nats.name(leader), at, elected, resumed);
  }

  private Injected partition(Cluster cluster, Connection db, double at) throws Exception {
    NodeProcess victim = cluster.node(0);
    // cut the node off only once it holds partitions: cutting one that holds none tests nothing
    Set<Integer> held = heldBy(db, victim.id);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (held.isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "node "
                + victim.id
                + " held no partition for "
                + WAIT.toSeconds()
                + " s; a partition fault would test nothing (see its log in the work folder)");
      }
      Thread.sleep(20);
      held = heldBy(db, victim.id);
    }
    cluster.netns.cut();
    long t0 = System.nanoTime();
    long takeover;
    try {
      takeover = awaitTakenOver(db, victim.id, held, t0);
      long left = partitionMs - (System.nanoTime() - t0) / 1_000_000;
      if (left > 0) {
        Thread.sleep(left);
      }
    } finally {
      cluster.netns.heal();
    }
    if (!victim.alive()) {
      cluster.restart(0);
    }
    return new Injected(
        Fault.PARTITION, victim.id + " (" + held.size() + " partitions)", at, takeover, -1);
  }

  private static Set<Integer> heldBy(Connection db, String node) throws SQLException {
    Set<Integer> held = new HashSet<>();
    for (Map.Entry<Integer, String> e : holders(db).entrySet()) {
      if (e.getValue().equals(node)) {
        held.add(e.getKey());
      }
    }
    return held;
  }

  /** Waits until each of {@code held} is held by a node other than {@code node}; returns ms. */
  private static long awaitTakenOver(Connection db, String node, Set<Integer> held, long t0)
      throws Exception {
    long deadline = t0 + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Map<Integer, String> now = holders(db);
      boolean all = true;
      for (int p : held) {
        String owner = now.get(p);
        if (owner == null || owner.equals(node)) {
          all = false;
          break;
        }
      }
      if (all) {
        return (System.nanoTime() - t0) / 1_000_000;
      }
      Thread.sleep(20);
    }
    throw CommandFailure.failed(
        "the partitions of " + node + " were not taken over within " + WAIT.toSeconds() + " s",
        "see the nodes' logs in the work folder");
  }

  private void awaitAllHeld(Connection db, String what) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (holders(db).size() < partitions) {
      if (System.nanoTime() > deadline) {
        throw CommandFailure.failed(
            what + ": not within " + WAIT.toSeconds() + " s",
            "see the nodes' logs in the work folder");
      }
      Thread.sleep(50);
    }
  }

  /**
   * Waits (up to 2 minutes) until every node holds a partition, so that each fault has something to
   * move; says so and goes on when that does not happen.
   */
  private void awaitSpread(Connection db, Cluster cluster, PrintWriter out) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Set<String> owners = new HashSet<>(holders(db).values());
      boolean all = owners.size() >= Math.min(nodes, partitions);
      for (int i = 0; i < nodes && all; i++) {
        all = partitions < nodes || owners.contains(cluster.node(i).id);
      }
      if (all) {
        return;
      }
      Thread.sleep(100);
    }
    out.println("  (not every node holds a partition after 2 minutes; going on)");
    out.flush();
  }

  /** The valid leases now: partition to owner. */
  private static Map<Integer, String> holders(Connection db) throws SQLException {
    Map<Integer, String> out = new HashMap<>();
    try (PreparedStatement s =
            db.prepareStatement(
                "SELECT part, owner FROM cfn_leases WHERE expires_at > clock_timestamp()");
        ResultSet rows = s.executeQuery()) {
      while (rows.next()) {
        out.put(rows.getInt(1), rows.getString(2));
      }
    }
    return out;
  }

  private static long count(Connection db, String sql) throws SQLException {
    try (PreparedStatement s = db.prepareStatement(sql);
        ResultSet rows = s.executeQuery()) {
      rows.next();
      return rows.getLong(1);
    }
  }

  // ---- accounting ----

  record Verdict(
      long acknowledged,
      long once,
      long lost,
      long duplicated,
      long unacknowledgedWithEffect,
      long deadLettered,
      long pending) {}

  /**
   * Waits until every acknowledged send has an effect (or nothing changed for {@link #WAIT}), then
   * counts.
   */
  private Verdict drain(Connection db, Producer producer) throws Exception {
    BitSet acked = producer.acknowledgedSet();
    long lastSeen = -1;
    long lastChange = System.nanoTime();
    while (true) {
      Map<Long, Long> effects = effects(db);
      long missing = 0;
      for (int n = acked.nextSetBit(0); n >= 0; n = acked.nextSetBit(n + 1)) {
        if (!effects.containsKey((long) n)) {
          missing++;
        }
      }
      long pending = count(db, "SELECT count(*) FROM cfn_messages");
      if ((missing == 0 && pending == 0) || System.nanoTime() - lastChange > WAIT.toNanos()) {
        long once = 0;
        long duplicated = 0;
        long unacked = 0;
        for (Map.Entry<Long, Long> e : effects.entrySet()) {
          if (e.getValue() > 1) {
            duplicated += e.getValue() - 1;
          }
          if (acked.get(e.getKey().intValue())) {
            if (e.getValue() == 1) {
              once++;
            }
          } else {
            unacked++;
          }
        }
        return new Verdict(
            acked.cardinality(),
            once,
            missing,
            duplicated,
            unacked,
            count(db, "SELECT count(*) FROM cfn_dead_letters"),
            pending);
      }
      long seen = effects.size() * 1_000_000L + pending;
      if (seen != lastSeen) {
        lastSeen = seen;
        lastChange = System.nanoTime();
      }
      Thread.sleep(500);
    }
  }

  /**
   * Writes what is known of the messages still pending after the drain to {@code file}: each row's
   * partition, publication and stream sequence, what the stream holds at that sequence, and the
   * stream's and its consumers' state, so a stuck row can be told from a lost one.
   */
  private static String leaderOf(io.nats.client.api.ConsumerInfo c) {
    io.nats.client.api.ClusterInfo info = c.getClusterInfo();
    return info == null ? "?" : String.valueOf(info.getLeader());
  }

  private static void describePending(
      Path file, Connection db, io.nats.client.Connection nats, String stream) {
    StringBuilder b = new StringBuilder();
    try {
      io.nats.client.JetStreamManagement jsm = nats.jetStreamManagement();
      io.nats.client.api.StreamState state = jsm.getStreamInfo(stream).getStreamState();
      b.append(
          String.format(
              Locale.ROOT,
              "stream %s: %d messages, first %d, last %d%n",
              stream,
              state.getMsgCount(),
              state.getFirstSequence(),
              state.getLastSequence()));
      for (io.nats.client.api.ConsumerInfo c : jsm.getConsumers(stream)) {
        b.append(
            String.format(
                Locale.ROOT,
                "consumer %s: delivered stream seq %d, ack floor stream seq %d, pending %d,"
                    + " ack pending %d, redelivered %d, waiting %d, leader %s%n",
                c.getName(),
                c.getDelivered().getStreamSequence(),
                c.getAckFloor().getStreamSequence(),
                c.getNumPending(),
                c.getNumAckPending(),
                c.getRedelivered(),
                c.getNumWaiting(),
                leaderOf(c)));
      }
      try (PreparedStatement s =
              db.prepareStatement(
                  "SELECT id, part, recipient, created_at, published_at,"
                      + " stream_seq FROM cfn_messages ORDER BY id");
          ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          long seq = rows.getLong(6);
          String at;
          try {
            io.nats.client.api.MessageInfo m = jsm.getMessage(stream, seq);
            byte[] data = m.getData();
            at =
                m.getSubject()
                    + " body "
                    + (data == null ? "(none)" : new String(data, StandardCharsets.US_ASCII));
          } catch (io.nats.client.JetStreamApiException e) {
            at = "none (" + e.getErrorCode() + "/" + e.getApiErrorCode() + ")";
          }
          b.append(
              String.format(
                  Locale.ROOT,
                  "pending %d part %s to %s created %d published %s seq %d; stream at seq: %s%n",
                  rows.getLong(1),
                  rows.getObject(2),
                  rows.getString(3),
                  rows.getLong(4),
                  rows.getObject(5),
                  seq,
                  at));
        }
      }
    } catch (Exception e) {
      b.append("could not describe the pending messages: ").append(e).append('\n');
    }
    try {
      Files.writeString(file, b);
    } catch (IOException e) {
      // a diagnostic only
    }
  }

  /** Send number to its count of effects, read from the counters' state. */
  private static Map<Long, Long> effects(Connection db) throws SQLException {
    Map<Long, Long> out = new HashMap<>();
    try (PreparedStatement s =
        db.prepareStatement(
            "SELECT key, value FROM cfn_state WHERE namespace LIKE ? AND key LIKE 'c-%'")) {
      s.setString(1, ClusterChaosWorker.COUNTER + "/%");
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          out.merge(
              Long.parseLong(rows.getString(1).substring(2)),
              Long.parseLong(rows.getString(2).strip()),
              Long::sum);
        }
      }
    }
    return out;
  }

  /**
   * Sends numbered messages at {@code --rate}: each is stored in PostgreSQL (the outbox: {@code
   * append}, committed when it returns, then it counts as acknowledged) and handed to a publisher
   * thread; what that does not publish, the relay of partition 0's holder does.
   */
  private final class Producer {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    private final BitSet acknowledged = new BitSet();
    private final PgJournal journal;
    private final OutboxRelay relay;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final LinkedBlockingQueue<Envelope> toPublish = new LinkedBlockingQueue<>();
    private Thread sender;
    private Thread publisher;
    private long nextId;
    private long idLimit;

    Producer(PgJournal journal, OutboxRelay relay) {
      this.journal = journal;
      this.relay = relay;
    }

    void start() {
      sender = Thread.ofVirtual().name("chaos-sender").start(this::send);
      publisher = Thread.ofVirtual().name("chaos-publisher").start(this::publish);
    }

    void stop() throws InterruptedException {
      running.set(false);
      sender.join();
      publisher.interrupt();
      publisher.join();
    }

    synchronized long acknowledged() {
      return acknowledged.cardinality();
    }

    synchronized BitSet acknowledgedSet() {
      return (BitSet) acknowledged.clone();
    }

    private void send() {
      long start = System.nanoTime();
      for (int n = 1; running.get(); n++) {
        long due = start + (long) n * 1_000_000_000L / rate;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
        sent.incrementAndGet();
        try {
          if (nextId == idLimit) {
            nextId = journal.nextIdBlock();
            idLimit = nextId + PgJournal.ID_BLOCK;
          }
          String payload = Integer.toString(n);
          Envelope e =
              new Envelope(
                  nextId++,
                  String.class.getName(),
                  AgentRuntime.EXTERNAL,
                  ClusterChaosWorker.recipientOf(n),
                  null,
                  0,
                  Priority.NORMAL,
                  DeliveryMode.RELIABLE,
                  Map.of(),
                  payload,
                  System.nanoTime());
          journal.append(e);
          synchronized (this) {
            acknowledged.set(n);
          }
          toPublish.add(e);
        } catch (RuntimeException ex) {
          failed.incrementAndGet(); // not acknowledged: it may or may not take effect
        }
      }
    }

    private void publish() {
      List<Envelope> batch = new ArrayList<>();
      while (true) {
        try {
          batch.add(toPublish.take());
        } catch (InterruptedException e) {
          return;
        }
        toPublish.drainTo(batch, 511);
        try {
          relay.publishNow(batch);
        } catch (InterruptedException e) {
          return;
        } catch (IOException | RuntimeException e) {
          // stored, not published: the relay of partition 0's holder publishes it
        }
        batch.clear();
      }
    }
  }

  // ---- the nodes ----

  /** The run's nodes, with the namespace (and its proxies) node 0 runs in for partitions. */
  private final class Cluster implements AutoCloseable {
    final Path work;
    final String url;
    final LocalNats nats;
    final int pgPort;
    final Netns netns;
    final List<TcpProxy> proxies = new ArrayList<>();
    final List<NodeProcess> running = new CopyOnWriteArrayList<>();
    int restarts;
    private int starts;

    Cluster(Path work, LocalPostgres pg, LocalNats nats, boolean partitionsToo) throws IOException {
      this.work = work;
      this.url = pg.newSchema("chaos");
      this.nats = nats;
      this.pgPort = pg.port();
      this.netns = partitionsToo ? Netns.create(0) : null;
      if (netns != null) {
        try {
          proxies.add(new TcpProxy(netns.hostAddress(), pgPort));
          for (int i = 0; i < nats.size(); i++) {
            proxies.add(new TcpProxy(netns.hostAddress(), nats.clientPort(i)));
          }
        } catch (IOException | RuntimeException e) {
          close();
          throw e;
        }
      }
    }

    void startNodes() throws Exception {
      for (int i = 0; i < nodes; i++) {
        running.add(null);
      }
      for (int i = 0; i < nodes; i++) {
        running.set(i, launch(i));
      }
    }

    NodeProcess node(int index) {
      return running.get(index);
    }

    void restart(int index) throws Exception {
      running.set(index, launch(index));
      restarts++;
    }

    private NodeProcess launch(int index) throws Exception {
      boolean inside = index == 0 && netns != null;
      String jdbc = url;
      String natsUrls = String.join(",", nats.urls());
      List<String> prefix = List.of();
      if (inside) {
        String host = netns.hostAddress();
        jdbc = url.replace("127.0.0.1:" + pgPort + "/", host + ":" + proxies.get(0).port() + "/");
        List<String> urls = new ArrayList<>();
        for (int i = 1; i < proxies.size(); i++) {
          urls.add("nats://" + host + ":" + proxies.get(i).port());
        }
        natsUrls = String.join(",", urls);
        prefix = netns.exec();
      }
      Path log = work.resolve("node-" + index + "-" + (starts++) + ".log");
      NodeProcess p =
          NodeProcess.start(
              prefix,
              log,
              List.of(
                  jdbc,
                  natsUrls,
                  NAMESPACE,
                  "node" + index,
                  Integer.toString(partitions),
                  Integer.toString(ttlMs),
                  "3"));
      p.awaitReady(WAIT);
      return p;
    }

    @Override
    public void close() {
      for (NodeProcess p : running) {
        if (p != null) {
          p.stop();
        }
      }
      for (TcpProxy proxy : proxies) {
        try {
          proxy.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
      if (netns != null) {
        netns.close();
      }
    }
  }

  /**
   * A node JVM ({@link ClusterChaosWorker}), optionally inside a namespace: a {@link
   * dev.cfn.testkit.process.ChildJvm} that reports {@code ready NODE-ID} once it joined.
   */
  static final class NodeProcess {
    final dev.cfn.testkit.process.ChildJvm jvm;
    volatile String id;

    private NodeProcess(dev.cfn.testkit.process.ChildJvm jvm) {
      this.jvm = jvm;
    }

    static NodeProcess start(List<String> prefix, Path log, List<String> args) throws IOException {
      return new NodeProcess(
          dev.cfn.testkit.process.ChildJvm.of(ClusterChaosWorker.class.getName(), args)
              .nodeDefaults()
              .prefix(prefix)
              .logTo(log)
              .jvmOption(Logging.childFlag()) // -v and --debug reach the node's log too
              .start());
    }

    void awaitReady(Duration timeout) throws Exception {
      String ready = jvm.await(line -> line.startsWith("ready "), timeout);
      if (ready != null) {
        id = ready.substring("ready ".length()).strip();
        return;
      }
      throw CommandFailure.failed(
          "a cluster node did not join within "
              + timeout.toSeconds()
              + " s"
              + (jvm.isAlive() ? "" : " (it exited with " + jvm.exitValue() + ")")
              + ": "
              + lastLine(),
          "see its log " + jvm.log());
    }

    private String lastLine() {
      try {
        List<String> all = Files.readAllLines(jvm.log());
        for (int i = all.size() - 1; i >= 0; i--) {
          if (all.get(i).startsWith(ChaosCommand.WORKER_ERROR)) {
            return all.get(i);
          }
        }
        return all.isEmpty() ? "(no output)" : all.get(all.size() - 1);
      } catch (IOException e) {
        return "(no log)";
      }
    }

    boolean alive() {
      return jvm.isAlive();
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill() throws InterruptedException {
      jvm.kill(Duration.ofSeconds(30));
    }

    /** Asks it to leave the cluster; SIGKILL after 10 s. */
    void stop() {
      try {
        jvm.send("stop");
        jvm.closeInput();
      } catch (IOException e) {
        // it is gone
      }
      try {
        if (!jvm.waitFor(Duration.ofSeconds(10))) {
          jvm.kill(Duration.ofSeconds(10));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        try {
          jvm.kill(Duration.ZERO);
        } catch (InterruptedException again) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
