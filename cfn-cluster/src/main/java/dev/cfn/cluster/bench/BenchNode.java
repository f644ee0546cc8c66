package dev.cfn.cluster.bench;

import dev.cfn.cluster.nats.BestEffortTransport;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.node.ClusterNode;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The JVM of one node of {@code cfn bench cluster}: a {@link ClusterNode} with the agent type
 * {@code sink} (each message increments its agent's counter {@code n}, committed with the
 * acknowledgement), a best-effort {@code echo} served on the partitions it holds, and a line
 * protocol on standard input and output driven by {@link ClusterBench}:
 *
 * <ul>
 *   <li>{@code held} → {@code held N}: partitions held now.
 *   <li>{@code send RUN COUNT RATE CONCURRENCY KEYS} → {@code sent RUN N FAILED}: sends {@code
 *       COUNT} RELIABLE messages to {@code sink/k0..KEYS-1} from {@code CONCURRENCY} virtual
 *       threads, message {@code i} intended at {@code start + i / RATE} ({@code RATE} 0: as fast as
 *       they go, intended when a thread takes it).
 *   <li>{@code stats RUN} → {@code stats RUN COMMITTED DUPLICATES LAST_COMMIT_NANOS HISTOGRAM
 *       SENDER:BITS,...}: the run's messages whose handling this node committed, with their latency
 *       from their intended send time (an HdrHistogram, compressed, Base64) and which ones (a bit
 *       set per sending node).
 *   <li>{@code verify} → {@code verified CHECKED UNACKNOWLEDGED}: checks in PostgreSQL that every
 *       message this node sent is acknowledged; those that are not stay for the next {@code
 *       verify}.
 *   <li>{@code rr COUNT RATE} → {@code rr N ERRORS HISTOGRAM}: best-effort requests to {@code echo}
 *       agents whose partitions other nodes hold, at a fixed rate, each timed from its intended
 *       send time.
 *   <li>{@code quit}: leaves the cluster and exits.
 * </ul>
 *
 * <p>Times are {@link System#nanoTime()}, which on Linux is {@code CLOCK_MONOTONIC}, the same clock
 * in every process of the machine: a latency may start in one JVM and end in another.
 *
 * <p>Arguments: JDBC URL, NATS URLs (comma-separated), namespace, partitions, TTL in ms, sender
 * index, node id.
 */
public final class BenchNode {
  static final String SINK = "sink";
  static final String ECHO = "echo";
  static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(120);

  private final int sender;
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final List<Long> sentIds = new ArrayList<>();
  private ClusterNode node;
  private PgJournal journal;

  /** Arrivals of one run at this node. */
  static final class Run {
    final Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
    final Map<Integer, BitSet> seen = new HashMap<>();
    long committed;
    long duplicates;
    long lastCommit;

    synchronized void arrived(int from, int seq, long intended, long now) {
      BitSet bits = seen.computeIfAbsent(from, k -> new BitSet());
      if (bits.get(seq)) {
        duplicates++;
      }
      bits.set(seq);
      committed++;
      lastCommit = Math.max(lastCommit, now);
      latency.recordValue(Math.min(Math.max(0, now - intended), MAX_LATENCY_NANOS));
    }
  }

  private BenchNode(int sender) {
    this.sender = sender;
  }

  public static void main(String[] args) throws Exception {
    new BenchNode(Integer.parseInt(args[5])).serve(args);
  }

  private void serve(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    int partitions = Integer.parseInt(args[3]);
    Options options =
        new Options.Builder()
            .servers(args[1].split(","))
            .maxReconnects(-1)
            .reconnectWait(Duration.ofMillis(100))
            .connectionTimeout(Duration.ofSeconds(5))
            .build();
    try (PgJournal db = PgJournal.builder(args[0]).poolSize(20).open();
        Connection nats = Nats.connect(options)) {
      journal = db;
      node =
          ClusterNode.builder(db, nats, args[6])
              .namespace(args[2])
              .partitions(partitions)
              .ttl(Duration.ofMillis(Long.parseLong(args[4])))
              .replicas(3)
              .agent(SINK, (m, fx) -> fx.increment("n", 1))
              .onCommitted(this::committed)
              .start();
      Partitioner partitioner = new Partitioner(partitions);
      try (BestEffortTransport transport =
          new BestEffortTransport(nats, Subjects.of(args[2]), partitioner, args[6])) {
        Thread.ofVirtual().name("bench-serve").start(() -> serveEcho(transport));
        out.println("ready " + args[6]);
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
          String[] w = line.trim().split(" ");
          switch (w[0]) {
            case "held" -> out.println("held " + node.placement().held().size());
            case "send" -> {
              String run = w[1];
              int count = Integer.parseInt(w[2]);
              int rate = Integer.parseInt(w[3]);
              int concurrency = Integer.parseInt(w[4]);
              int keys = Integer.parseInt(w[5]);
              Thread.ofVirtual()
                  .start(() -> out.println(send(run, count, rate, concurrency, keys)));
            }
            case "stats" -> out.println(stats(w[1]));
            case "verify" -> out.println(verify());
            case "rr" ->
                out.println(
                    request(
                        transport, partitioner, Integer.parseInt(w[1]), Integer.parseInt(w[2])));
            case "quit" -> {
              node.close();
              out.println("bye");
              return;
            }
            default -> out.println("error unknown command " + w[0]);
          }
        }
      }
    }
  }

  private void committed(Envelope e) {
    long now = System.nanoTime();
    if (!(e.payload() instanceof String text)) {
      return;
    }
    String[] f = text.split(":");
    if (f.length != 4) {
      return;
    }
    runs.computeIfAbsent(f[0], k -> new Run())
        .arrived(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]), now);
  }

  private String send(String run, int count, int rate, int concurrency, int keys) {
    AtomicLong next = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long start = System.nanoTime();
    long interval = rate > 0 ? TimeUnit.SECONDS.toNanos(1) / rate : 0;
    List<Thread> threads = new ArrayList<>();
    List<Long> ids = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < concurrency; t++) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    long i;
                    while ((i = next.getAndIncrement()) < count) {
                      long intended = rate > 0 ? start + i * interval : System.nanoTime();
                      long wait;
                      while ((wait = intended - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                      }
                      AgentId to = AgentId.of(SINK, "k" + (i % keys));
                      try {
                        ids.add(node.send(to, run + ":" + sender + ":" + i + ":" + intended));
                      } catch (RuntimeException e) {
                        failed.incrementAndGet();
                      }
                    }
                  }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    synchronized (sentIds) {
      sentIds.addAll(ids);
    }
    return "sent " + run + " " + ids.size() + " " + failed.get();
  }

  private String stats(String name) {
    Run run = runs.getOrDefault(name, new Run());
    synchronized (run) {
      ByteBuffer buffer = ByteBuffer.allocate(run.latency.getNeededByteBufferCapacity());
      int size = run.latency.encodeIntoCompressedByteBuffer(buffer);
      StringBuilder bits = new StringBuilder();
      for (Map.Entry<Integer, BitSet> e : run.seen.entrySet()) {
        if (!bits.isEmpty()) {
          bits.append(',');
        }
        bits.append(e.getKey())
            .append(':')
            .append(Base64.getEncoder().encodeToString(e.getValue().toByteArray()));
      }
      return "stats "
          + name
          + " "
          + run.committed
          + " "
          + run.duplicates
          + " "
          + run.lastCommit
          + " "
          + Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), size))
          + " "
          + (bits.isEmpty() ? "-" : bits);
    }
  }

  /**
   * Checks which messages sent since the last time are acknowledged in PostgreSQL; those that are
   * not yet are kept for the next check.
   */
  private String verify() {
    List<Long> ids;
    synchronized (sentIds) {
      ids = List.copyOf(sentIds);
      sentIds.clear();
    }
    List<Long> missing = ids.stream().filter(id -> !journal.isAcknowledged(id)).toList();
    synchronized (sentIds) {
      sentIds.addAll(missing);
    }
    return "verified " + ids.size() + " " + missing.size();
  }

  /** Serves {@code echo} requests on the partitions this node holds, following its leases. */
  private void serveEcho(BestEffortTransport transport) {
    Map<Integer, AutoCloseable> served = new HashMap<>();
    while (true) {
      Set<Integer> held = new HashSet<>(node.placement().held().keySet());
      for (Integer p : held) {
        served.computeIfAbsent(p, k -> transport.serve(k, (target, body) -> body));
      }
      for (var it = served.entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        if (!held.contains(e.getKey())) {
          try {
            e.getValue().close();
          } catch (Exception ignored) {
            // the subscription is gone with the connection
          }
          it.remove();
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  private String request(
      BestEffortTransport transport, Partitioner partitioner, int count, int rate) {
    Set<Integer> mine = node.placement().held().keySet();
    List<AgentId> targets = new ArrayList<>();
    for (int k = 0; targets.size() < 64 && k < 100_000; k++) {
      AgentId a = AgentId.of(ECHO, "e" + k);
      if (!mine.contains(partitioner.partition(a))) {
        targets.add(a);
      }
    }
    Histogram h = new Histogram(MAX_LATENCY_NANOS, 3);
    AtomicLong errors = new AtomicLong();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(count);
    byte[] body = "ping".getBytes(StandardCharsets.UTF_8);
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long intended = start + i * interval;
      long wait;
      while ((wait = intended - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      transport
          .request(targets.get(i % targets.size()), body, Duration.ofSeconds(5))
          .whenComplete(
              (reply, failure) -> {
                long now = System.nanoTime();
                if (failure != null) {
                  errors.incrementAndGet();
                } else {
                  synchronized (h) {
                    h.recordValue(Math.min(now - intended, MAX_LATENCY_NANOS));
                  }
                }
                done.countDown();
              });
    }
    try {
      done.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (h) {
      ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
      int size = h.encodeIntoCompressedByteBuffer(buffer);
      return "rr "
          + h.getTotalCount()
          + " "
          + errors.get()
          + " "
          + Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), size));
    }
  }
}
