package dev.cfn.cluster.nats;

import dev.cfn.core.AgentId;
import dev.cfn.core.RetryPolicy;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures the NATS transport on a 3-server loopback JetStream cluster started by {@link
 * NatsCluster}: R3 async publish (msg/s), consume + ack through {@link PartitionConsumer} (msg/s)
 * and core request-reply between two nodes on different servers (P50/P99). Prints CPU per message
 * of this JVM and of the three servers beside each rate (CPU is steadier than throughput on a
 * shared machine). Not a test: run it with {@code java -cp ...
 * dev.cfn.cluster.nats.NatsTransportBench [messages] [requests]}.
 */
public final class NatsTransportBench {

  private NatsTransportBench() {}

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int requests = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int partitions = 8;
    byte[] body = new byte[128];
    System.out.printf(
        "NatsTransportBench: %d messages of %d bytes, %d requests, %d partitions, %d cores%n",
        messages, body.length, requests, partitions, Runtime.getRuntime().availableProcessors());
    try (NatsCluster cluster = NatsCluster.startThree();
        Connection connection = cluster.connect()) {
      ReliableStream stream =
          ReliableStream.ensure(connection, Subjects.of("bench"), 3, Duration.ofMinutes(2), -1);
      Partitioner partitioner = new Partitioner(partitions);
      ReliablePublisher publisher = new ReliablePublisher(connection, stream, partitioner);
      AgentId[] agents = new AgentId[256];
      for (int i = 0; i < agents.length; i++) {
        agents[i] = AgentId.of("worker", Integer.toString(i));
      }

      // 1. R3 async publish, at most 2048 PubAcks outstanding
      Semaphore window = new Semaphore(2048);
      AtomicLong failed = new AtomicLong();
      Cpu cpu = Cpu.start(cluster);
      long t0 = System.nanoTime();
      for (int i = 0; i < messages; i++) {
        window.acquire();
        CompletableFuture<ReliablePublisher.Sent> f =
            publisher.publishAsync(agents[i & 255], "b-" + i, body);
        f.whenComplete(
            (s, e) -> {
              if (e != null) {
                failed.incrementAndGet();
              }
              window.release();
            });
      }
      window.acquire(2048);
      window.release(2048);
      long publishNanos = System.nanoTime() - t0;
      cpu.report("R3 async publish", messages, publishNanos);
      if (failed.get() > 0) {
        System.out.printf("  %d publishes failed%n", failed.get());
      }

      // 2. consume + ack, one PartitionConsumer per partition on one connection
      AtomicLong handled = new AtomicLong();
      List<PartitionConsumer> consumers = new ArrayList<>();
      cpu = Cpu.start(cluster);
      t0 = System.nanoTime();
      try (Connection consuming = cluster.connect()) {
        for (int p = 0; p < partitions; p++) {
          consumers.add(
              PartitionConsumer.start(
                  consuming,
                  stream,
                  p,
                  1,
                  RetryPolicy.DEFAULT,
                  m -> handled.incrementAndGet(),
                  (m, cause) -> {},
                  new PartitionConsumer.Settings(Duration.ofSeconds(30), 256, 4096)));
        }
        long target = messages - failed.get();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (handled.get() < target && System.nanoTime() < deadline) {
          Thread.sleep(1);
        }
        long consumeNanos = System.nanoTime() - t0;
        cpu.report("consume + ack", handled.get(), consumeNanos);
        for (PartitionConsumer c : consumers) {
          c.close();
        }
      }

      // 3. core request-reply, node A on server 1 asking node B on server 3
      try (Connection a = Nats.connect(cluster.node(0).url());
          Connection b = Nats.connect(cluster.node(2).url());
          BestEffortTransport nodeA =
              new BestEffortTransport(a, Subjects.of("bench"), partitioner, "a");
          BestEffortTransport nodeB =
              new BestEffortTransport(b, Subjects.of("bench"), partitioner, "b")) {
        for (int p = 0; p < partitions; p++) {
          nodeB.serve(p, (target, request) -> request);
        }
        b.flush(Duration.ofSeconds(5));
        for (int i = 0; i < 2_000; i++) {
          nodeA.request(agents[i & 255], body, Duration.ofSeconds(5)).get();
        }
        long[] latencies = new long[requests];
        cpu = Cpu.start(cluster);
        t0 = System.nanoTime();
        for (int i = 0; i < requests; i++) {
          long s = System.nanoTime();
          nodeA.request(agents[i & 255], body, Duration.ofSeconds(5)).get();
          latencies[i] = System.nanoTime() - s;
        }
        long total = System.nanoTime() - t0;
        Arrays.sort(latencies);
        System.out.printf(
            "core request-reply (cross-server): P50 %d µs, P99 %d µs, max %d µs%n",
            latencies[requests / 2] / 1000,
            latencies[(int) (requests * 0.99)] / 1000,
            latencies[requests - 1] / 1000);
        cpu.report("  request-reply", requests, total);
      }
    }
  }

  /** CPU time of this JVM and of the servers, sampled before and after a phase. */
  private record Cpu(NatsCluster cluster, long jvmStart, long serversStart) {
    static Cpu start(NatsCluster cluster) throws Exception {
      return new Cpu(cluster, jvmCpu(), serversCpu(cluster));
    }

    void report(String phase, long count, long nanos) throws Exception {
      double seconds = nanos / 1e9;
      double jvm = (jvmCpu() - jvmStart) / 1e3 / count;
      double servers = (serversCpu(cluster) - serversStart) / 1e3 / count;
      System.out.printf(
          "%s: %d msgs in %.2f s = %.0f msg/s; CPU per msg: client %.1f µs, 3 servers %.1f µs%n",
          phase, count, seconds, count / seconds, jvm, servers);
    }

    static long jvmCpu() {
      return ((com.sun.management.OperatingSystemMXBean)
              ManagementFactory.getOperatingSystemMXBean())
          .getProcessCpuTime();
    }

    /** utime + stime of each server from /proc/PID/stat, in ns. */
    static long serversCpu(NatsCluster cluster) throws Exception {
      long ticks = 0;
      for (NatsCluster.Node node : cluster.nodes()) {
        String stat = Files.readString(Path.of("/proc/" + node.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
      }
      return ticks * 10_000_000L; // USER_HZ = 100
    }
  }
}
