package dev.cfn.cluster.fault;

import dev.cfn.cluster.nats.DeadLetterSink;
import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.ReliableMessage;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.pg.Lease;
import dev.cfn.cluster.pg.LeaseLostException;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.RetryPolicy;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A cfn node reduced to what the fault tests need: it takes the lease of one partition, consumes
 * the partition's JetStream consumer of that epoch and commits each message through {@code
 * journal.under(lease)} (its dedup row, a counter increment and a mark naming the node and epoch,
 * in one transaction), renewing the lease every TTL / 3. It does <b>not</b> fence itself by its own
 * clock: it keeps trying to commit after its lease lapsed, so that the tests exercise the
 * database's epoch check, the worst case.
 *
 * <p>It reports what happens as lines ({@code ACQUIRED p e}, {@code HOLDING id}, {@code COMMITTED
 * id e}, {@code DUPLICATE id e}, {@code REJECTED id e}, {@code CONSUMER_GONE name}, {@code
 * LEASE_LOST e}); as a child JVM ({@link #main}) on its standard output. With {@code holdAt} it
 * stops before committing that message until a line arrives on its control input (its standard
 * input): a known point at which to pause it.
 */
public final class OwnerNode implements AutoCloseable {
  /** The agent every message goes to. */
  public static final AgentId COUNTER = AgentId.of("counter", "1");

  private static final AgentId SENDER = AgentId.of("client", "1");

  private final PgJournal journal;
  private final Connection nats;
  private final ReliableStream stream;
  private final int partition;
  private final String node;
  private final Duration ttl;
  private final long holdAt;
  private final Consumer<String> events;
  private final BufferedReader control;
  private final CountDownLatch lost = new CountDownLatch(1);
  private final AtomicBoolean probed = new AtomicBoolean();
  private volatile Lease lease;
  private volatile Journal view;
  private volatile PartitionConsumer consumer;
  private volatile Thread renewer;

  OwnerNode(
      PgJournal journal,
      Connection nats,
      ReliableStream stream,
      int partition,
      String node,
      Duration ttl,
      long holdAt,
      Consumer<String> events,
      BufferedReader control) {
    this.journal = journal;
    this.nats = nats;
    this.stream = stream;
    this.partition = partition;
    this.node = node;
    this.ttl = ttl;
    this.holdAt = holdAt;
    this.events = events;
    this.control = control;
  }

  /**
   * An owner in this JVM, as a test's second node: it never holds a message back and reads no
   * control lines; its report lines go to {@code events}.
   */
  static OwnerNode inThisJvm(
      PgJournal journal,
      Connection nats,
      ReliableStream stream,
      int partition,
      String node,
      Duration ttl,
      Consumer<String> events) {
    return new OwnerNode(
        journal,
        nats,
        stream,
        partition,
        node,
        ttl,
        -1,
        events,
        new BufferedReader(new StringReader("")));
  }

  /** Waits (up to {@code timeout}) until the lease is free, takes it and starts consuming. */
  Lease start(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Optional<Lease> taken = journal.leases().acquire(partition, node, ttl);
    while (taken.isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            node + " could not take partition " + partition + " within " + timeout);
      }
      Thread.sleep(50);
      taken = journal.leases().acquire(partition, node, ttl);
    }
    lease = taken.get();
    view = journal.under(lease);
    events.accept("ACQUIRED " + partition + " " + lease.epoch());
    consumer =
        PartitionConsumer.start(
            nats,
            stream,
            partition,
            lease.epoch(),
            new RetryPolicy(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1), 1000),
            this::handle,
            (DeadLetterSink) (message, failure) -> {},
            new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256));
    Thread t = Thread.ofPlatform().daemon().name("renew-" + node).start(this::renew);
    renewer = t;
    return lease;
  }

  /** The epoch held (or last held). */
  long epoch() {
    return lease.epoch();
  }

  /** Waits until a renewal found the lease gone. */
  boolean awaitLost(Duration timeout) throws InterruptedException {
    return lost.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void renew() {
    long period = Math.max(50, ttl.toMillis() / 3);
    while (true) {
      try {
        Thread.sleep(period);
      } catch (InterruptedException e) {
        return;
      }
      Lease held = lease;
      Optional<Lease> renewed;
      try {
        renewed = journal.leases().renew(held, ttl);
      } catch (RuntimeException e) {
        continue; // the database is unreachable: try again; the lease lapses meanwhile
      }
      if (renewed.isEmpty()) {
        events.accept("LEASE_LOST " + held.epoch());
        lost.countDown();
        return;
      }
      lease = renewed.get();
    }
  }

  private void handle(ReliableMessage message) throws Exception {
    long id = Long.parseLong(message.messageId());
    if (id == holdAt) {
      events.accept("HOLDING " + id);
      control.readLine();
    }
    Envelope envelope =
        new Envelope(
            id,
            "count",
            SENDER,
            COUNTER,
            null,
            0,
            Priority.NORMAL,
            DeliveryMode.RELIABLE,
            Map.of(),
            "m" + id,
            System.nanoTime());
    String ns = COUNTER.toString();
    List<Effect> effects =
        List.of(
            new Effect.Increment(ns, "n", 1),
            new Effect.Put(ns, "seen-" + id, node + "@" + message.epoch()));
    try {
      boolean applied = view.acknowledge(envelope, effects).get(60, TimeUnit.SECONDS);
      events.accept((applied ? "COMMITTED " : "DUPLICATE ") + id + " " + message.epoch());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof LeaseLostException) {
        events.accept("REJECTED " + id + " " + message.epoch());
        probeConsumer(message.epoch());
      }
      throw e;
    }
  }

  /** Reports when this epoch's consumer is gone from the server: acks sent to it are dropped. */
  private void probeConsumer(long epoch) {
    if (!probed.compareAndSet(false, true)) {
      return;
    }
    String name = PartitionConsumer.consumerName(partition, epoch);
    try {
      nats.jetStreamManagement().getConsumerInfo(stream.name(), name);
      probed.set(false); // still there: probe again on the next rejection
    } catch (JetStreamApiException e) {
      if (e.getErrorCode() == 404) {
        events.accept("CONSUMER_GONE " + name);
      }
    } catch (Exception e) {
      probed.set(false);
    }
  }

  @Override
  public void close() throws Exception {
    Thread t = renewer;
    if (t != null) {
      t.interrupt();
    }
    PartitionConsumer c = consumer;
    if (c != null) {
      c.close();
    }
  }

  /**
   * The child JVM: {@code pgUrl natsUrl namespace partition node ttlMillis holdAt}. Runs until its
   * lease is lost and then for {@code linger} more seconds (so held and fetched messages meet the
   * epoch check), then exits 0; exits 3 when it never lost its lease within 5 minutes.
   */
  public static void main(String[] args) throws Exception {
    String pgUrl = args[0];
    String natsUrl = args[1];
    Subjects subjects = Subjects.of(args[2]);
    int partition = Integer.parseInt(args[3]);
    String node = args[4];
    Duration ttl = Duration.ofMillis(Long.parseLong(args[5]));
    long holdAt = Long.parseLong(args[6]);
    long linger = Long.parseLong(args[7]);
    Consumer<String> out =
        line -> {
          synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
          }
        };
    BufferedReader control =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Options options =
        new Options.Builder()
            .server(natsUrl)
            .ignoreDiscoveredServers()
            .maxReconnects(-1)
            .reconnectWait(Duration.ofMillis(200))
            .connectionTimeout(Duration.ofSeconds(5))
            .build();
    try (PgJournal journal = PgJournal.builder(pgUrl).open();
        Connection nats = Nats.connect(options)) {
      ReliableStream stream =
          new ReliableStream(
              "CFN_" + subjects.namespace().toUpperCase(java.util.Locale.ROOT).replace('-', '_'),
              subjects,
              1);
      try (OwnerNode owner =
          new OwnerNode(journal, nats, stream, partition, node, ttl, holdAt, out, control)) {
        owner.start(Duration.ofSeconds(60));
        out.accept("READY");
        if (!owner.awaitLost(Duration.ofMinutes(5))) {
          System.exit(3);
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(linger));
      }
    }
    out.accept("EXIT");
    System.exit(0);
  }
}
