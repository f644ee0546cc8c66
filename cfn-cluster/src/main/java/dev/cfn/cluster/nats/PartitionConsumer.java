package dev.cfn.cluster.nats;

import dev.cfn.core.RetryPolicy;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.MessageInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one partition of a {@link ReliableStream} for the node that holds the partition's lease
 * at {@code epoch}: a durable pull consumer named {@code p<partition>-e<epoch>}, filtered on the
 * partition's subjects, drained by one virtual thread that hands each message to a {@link
 * ReliableHandler} and acks it after the handler committed.
 *
 * <p><b>Epochs.</b> A work-queue stream allows one consumer per filter, and JetStream accepts an
 * ack addressed to a consumer name from whoever sends it: a node that lost its lease (a zombie)
 * could otherwise ack, and so delete, messages its successor has not handled. So {@link #start}
 * deletes the partition's consumers of lower epochs (their unacked messages are redelivered to the
 * new consumer) and refuses to start when one of a higher epoch exists; a zombie's later acks name
 * a consumer that no longer exists and are dropped by the server.
 *
 * <p><b>Retries.</b> cfn counts attempts itself (per stream sequence, on this owner), and does not
 * use the server's MaxDeliver or BackOff ({@code nak()} redelivers at once even with a BackOff, and
 * BackOff with {@code nakWithDelay} misbehaves on nats-server 2.9): a failed attempt {@code n} is
 * {@code nakWithDelay(retry.delay(n))}; when attempt {@code retry.maxAttempts()} fails, the {@link
 * DeadLetterSink} stores it and the message is {@code term()}ed. The count is held in this
 * consumer's memory, from the {@link PriorAttempts} given to {@link #start} when a message is first
 * seen by this consumer: a store that persists the attempts (PostgreSQL's {@code cfn_attempts})
 * makes the count survive a takeover, so a poison message gets {@code maxAttempts} attempts in all,
 * across owners. Without one ({@link PriorAttempts#NONE}) a message starts again from attempt 1
 * after a takeover, and gets up to {@code maxAttempts} per owner.
 *
 * <p><b>Order.</b> Messages of one partition are handled one at a time in stream order, so one
 * agent's messages arrive in publish order while nothing fails; a retried message is handled after
 * messages published behind it, and after a takeover unacked messages come back in stream order
 * behind nothing newer. For the agent types in {@link Settings#strictFifoTypes()} a failed message
 * is retried in place instead, holding back the whole partition (every agent in it) until it
 * succeeds or is dead-lettered: strict per-agent FIFO at the price of head-of-line blocking.
 *
 * <p><b>Skipped messages.</b> When idle (every {@code ackWait}, at most every 10 s) the consumer
 * checks that the stream holds no message of its partition that it counts as delivered while
 * nothing waits for an ack, and no message that stays the partition's first stored one from one
 * idle check to the next while nothing is delivered (and no retry of its own is due); nats-server
 * 2.9 can leave it so after stream-leader kills, and those messages would never be delivered. If it
 * finds one it recreates its consumer (same name), which delivers the partition's stored messages
 * again; the store's dedup absorbs the repeats. A consumer that is never idle checks at least every
 * {@link Settings#skippedCheckEvery()} (30 s) between batches, for a stored message at or below its
 * ack floor, and recreates itself when it sees the same one twice a second apart.
 *
 * <p>A handler must finish within {@code ackWait}, or the server redelivers the message while it is
 * still being handled (the store's dedup then makes the second delivery a no-op).
 */
public final class PartitionConsumer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionConsumer.class);
  private static final Pattern NAME = Pattern.compile("p(\\d+)-e(\\d+)");
  private static final long MAX_CHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

  /**
   * Tuning of one partition consumer.
   *
   * @param ackWait how long the server waits for an ack before redelivering
   * @param batch how many messages one pull asks for
   * @param maxAckPending how many unacked messages the server lets this consumer hold
   * @param strictFifoTypes agent types whose messages keep strict per-agent FIFO through failures:
   *     a failed message of one of these types is retried in place (after the retry policy's delay,
   *     its ack timer extended) and the partition handles nothing else until it succeeds or is
   *     dead-lettered; empty by default (a failed message is retried after the ones behind it)
   * @param skippedCheckEvery how often, at least, the consumer checks for skipped messages while it
   *     is never idle (under continuous load); 30 s by default, at least 1 s. When idle it checks
   *     every {@code ackWait} (1 to 10 s) anyway
   */
  public record Settings(
      Duration ackWait,
      int batch,
      int maxAckPending,
      Set<String> strictFifoTypes,
      Duration skippedCheckEvery) {
    /** The default {@link #skippedCheckEvery()}: 30 s. */
    public static final Duration DEFAULT_SKIPPED_CHECK = Duration.ofSeconds(30);

    /** 30 s ack wait, batches of 64, 1024 pending, no strict-FIFO type, 30 s skipped check. */
    public static final Settings DEFAULT = new Settings(Duration.ofSeconds(30), 64, 1024);

    /** Validates the settings. */
    public Settings {
      Objects.requireNonNull(ackWait, "ackWait");
      strictFifoTypes = Set.copyOf(Objects.requireNonNull(strictFifoTypes, "strictFifoTypes"));
      Objects.requireNonNull(skippedCheckEvery, "skippedCheckEvery");
      if (ackWait.toMillis() < 100 || batch < 1 || maxAckPending < batch) {
        throw new IllegalArgumentException(
            "consumer settings ackWait="
                + ackWait
                + " batch="
                + batch
                + " maxAckPending="
                + maxAckPending
                + " (fix: ackWait >= 100 ms, batch >= 1, maxAckPending >= batch)");
      }
      if (skippedCheckEvery.toMillis() < 1000) {
        throw new IllegalArgumentException(
            "consumer settings skippedCheckEvery="
                + skippedCheckEvery
                + " (fix: at least 1 s; 30 s by default)");
      }
    }

    /** Settings without strict-FIFO types, the skipped check under load every 30 s. */
    public Settings(Duration ackWait, int batch, int maxAckPending) {
      this(ackWait, batch, maxAckPending, Set.of());
    }

    /** Settings with the skipped check under load every 30 s. */
    public Settings(Duration ackWait, int batch, int maxAckPending, Set<String> strictFifoTypes) {
      this(ackWait, batch, maxAckPending, strictFifoTypes, DEFAULT_SKIPPED_CHECK);
    }

    /** These settings with {@code types} kept in strict per-agent FIFO through failures. */
    public Settings withStrictFifo(Set<String> types) {
      return new Settings(ackWait, batch, maxAckPending, types, skippedCheckEvery);
    }

    /** These settings with the skipped check under continuous load every {@code every}. */
    public Settings withSkippedCheckEvery(Duration every) {
      return new Settings(ackWait, batch, maxAckPending, strictFifoTypes, every);
    }
  }

  /**
   * How many attempts of a message failed before this consumer first saw it (on earlier owners of
   * the partition): the store's record of them.
   */
  @FunctionalInterface
  public interface PriorAttempts {
    /** Nothing is known: every owner counts from 1. */
    PriorAttempts NONE = message -> 0;

    /**
     * The failed attempts of {@code message} recorded before (0 when none).
     *
     * @throws Exception when the record cannot be read: the delivery is then retried later, its
     *     attempt not counted
     */
    int failedBefore(ReliableMessage message) throws Exception;
  }

  /** Thrown when the partition already has a consumer of a higher epoch: this node lost it. */
  public static final class SupersededException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    SupersededException(String message) {
      super(message);
    }
  }

  private final Subjects subjects;
  private final int partition;
  private final long epoch;
  private final RetryPolicy retry;
  private final ReliableHandler handler;
  private final DeadLetterSink deadLetters;
  private final PriorAttempts prior;
  private final Connection connection;
  private final ReliableStream stream;
  private final ConsumerConfiguration config;
  private volatile JetStreamSubscription subscription;
  private final Settings settings;
  private final Map<Long, Integer> attempts = new HashMap<>(); // only the loop thread touches it
  private final Thread loop;
  private volatile boolean running = true;

  private PartitionConsumer(
      Subjects subjects,
      int partition,
      long epoch,
      RetryPolicy retry,
      ReliableHandler handler,
      DeadLetterSink deadLetters,
      PriorAttempts prior,
      Connection connection,
      ReliableStream stream,
      ConsumerConfiguration config,
      Settings settings) {
    this.connection = connection;
    this.stream = stream;
    this.config = config;
    this.subjects = subjects;
    this.partition = partition;
    this.epoch = epoch;
    this.retry = retry;
    this.handler = handler;
    this.deadLetters = deadLetters;
    this.prior = prior;
    this.settings = settings;
    this.loop = Thread.ofVirtual().name("cfn-nats-p" + partition).unstarted(this::run);
  }

  /** JetStream's error code for "filtered consumer not unique on workqueue stream". */
  private static final int FILTER_NOT_UNIQUE = 10100;

  /**
   * Deletes the consumers of {@code partition} at epochs below {@code epoch}; refuses when one of a
   * higher epoch exists (this node no longer owns the partition).
   */
  private static void replaceLowerEpochs(
      JetStreamManagement jsm, ReliableStream stream, int partition, long epoch)
      throws IOException, JetStreamApiException {
    for (String other : jsm.getConsumerNames(stream.name())) {
      Matcher m = NAME.matcher(other);
      if (m.matches() && Integer.parseInt(m.group(1)) == partition) {
        long otherEpoch = Long.parseLong(m.group(2));
        if (otherEpoch > epoch) {
          throw new SupersededException(
              "partition "
                  + partition
                  + " is consumed at epoch "
                  + otherEpoch
                  + " > "
                  + epoch
                  + ": this node no longer owns it");
        }
        if (otherEpoch < epoch) {
          jsm.deleteConsumer(stream.name(), other);
        }
      }
    }
  }

  /** The durable consumer name of {@code partition} at {@code epoch}. */
  public static String consumerName(int partition, long epoch) {
    return "p" + partition + "-e" + epoch;
  }

  /**
   * Takes over {@code partition} at {@code epoch} and starts consuming it, counting attempts from 1
   * on this owner ({@link PriorAttempts#NONE}).
   *
   * @throws SupersededException when a consumer of a higher epoch exists
   */
  public static PartitionConsumer start(
      Connection connection,
      ReliableStream stream,
      int partition,
      long epoch,
      RetryPolicy retry,
      ReliableHandler handler,
      DeadLetterSink deadLetters,
      Settings settings)
      throws IOException, JetStreamApiException {
    return start(
        connection,
        stream,
        partition,
        epoch,
        retry,
        handler,
        deadLetters,
        PriorAttempts.NONE,
        settings);
  }

  /**
   * Takes over {@code partition} at {@code epoch} and starts consuming it; a message's attempts
   * continue from the {@code prior} ones recorded by earlier owners.
   *
   * @throws SupersededException when a consumer of a higher epoch exists
   */
  public static PartitionConsumer start(
      Connection connection,
      ReliableStream stream,
      int partition,
      long epoch,
      RetryPolicy retry,
      ReliableHandler handler,
      DeadLetterSink deadLetters,
      PriorAttempts prior,
      Settings settings)
      throws IOException, JetStreamApiException {
    if (partition < 0 || epoch < 0) {
      throw new IllegalArgumentException(
          "partition " + partition + " and epoch " + epoch + " must not be negative");
    }
    String name = consumerName(partition, epoch);
    ConsumerConfiguration config =
        ConsumerConfiguration.builder()
            .durable(name)
            .filterSubject(stream.subjects().reliablePartitionFilter(partition))
            .ackPolicy(AckPolicy.Explicit)
            .deliverPolicy(DeliverPolicy.All)
            .ackWait(settings.ackWait())
            .maxDeliver(-1)
            .maxAckPending(settings.maxAckPending())
            .build();
    PartitionConsumer consumer =
        new PartitionConsumer(
            stream.subjects(),
            partition,
            epoch,
            Objects.requireNonNull(retry, "retry"),
            Objects.requireNonNull(handler, "handler"),
            Objects.requireNonNull(deadLetters, "deadLetters"),
            Objects.requireNonNull(prior, "prior"),
            connection,
            stream,
            config,
            settings);
    consumer.bind(Bind.START);
    consumer.loop.start();
    return consumer;
  }

  /** The partition. */
  public int partition() {
    return partition;
  }

  /** The epoch. */
  public long epoch() {
    return epoch;
  }

  /** Why {@link #bind} runs: each way differs from the others only where this says. */
  private enum Bind {
    /**
     * Taking the partition over: a lower epoch's consumer that appears while this one is created
     * (its owner was still creating it when it lost the lease) is deleted again, up to 5 tries.
     */
    START,
    /**
     * The subscription became inactive while the connection lives on: a new one is bound (the
     * consumer created again if the server lost it); the inactive one is left as it is.
     */
    RESUBSCRIBE,
    /**
     * The consumer skipped stored messages: it is deleted and created again with the same name, so
     * it delivers the partition's stored messages from the start; the old subscription is dropped.
     */
    RECREATE
  }

  /**
   * The one way this consumer is (re)created and subscribed to, for {@link #start}, {@link
   * #resubscribe} and {@link #recoverSkippedMessages}: deletes the partition's consumers of lower
   * epochs (refusing when a higher one exists), creates or updates this epoch's durable consumer
   * ({@code config}), and binds a pull subscription to it. Every way checks the epochs again right
   * before creating, so a node that lost the partition never creates a consumer beside its
   * successor's.
   *
   * @throws SupersededException when the partition has a consumer of a higher epoch
   */
  private void bind(Bind how) throws IOException, JetStreamApiException {
    JetStreamManagement jsm = connection.jetStreamManagement();
    String name = consumerName(partition, epoch);
    if (how == Bind.RECREATE) {
      jsm.deleteConsumer(stream.name(), name);
    }
    int tries = how == Bind.START ? 5 : 1;
    for (int attempt = 1; ; attempt++) {
      replaceLowerEpochs(jsm, stream, partition, epoch);
      try {
        jsm.addOrUpdateConsumer(stream.name(), config);
        break;
      } catch (JetStreamApiException e) {
        // A lower epoch's consumer created after the listing above (its owner was still starting
        // it when it lost the lease) makes the filter "not unique": list and delete again.
        if (e.getApiErrorCode() != FILTER_NOT_UNIQUE || attempt >= tries) {
          throw e;
        }
        LOG.info(
            "partition {} epoch {}: another consumer holds the filter ({}); deleting lower epochs"
                + " again",
            partition,
            epoch,
            e.getErrorDescription());
      }
    }
    JetStreamSubscription old = subscription;
    subscription =
        connection
            .jetStream()
            .subscribe(
                stream.subjects().reliablePartitionFilter(partition),
                PullSubscribeOptions.bind(stream.name(), name));
    if (how == Bind.RECREATE && old != null) {
      try {
        old.unsubscribe();
      } catch (IllegalStateException e) {
        // already gone
      }
    }
  }

  private void run() {
    Duration wait = Duration.ofMillis(500);
    long checkEvery =
        Math.clamp(settings.ackWait().toNanos(), TimeUnit.SECONDS.toNanos(1), MAX_CHECK_NANOS);
    long lastCheck = System.nanoTime();
    long loadCheckAt = lastCheck + settings.skippedCheckEvery().toNanos();
    while (running) {
      List<Message> batch;
      try {
        batch = subscription.fetch(settings.batch(), wait);
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        if (connection.getStatus() == Connection.Status.CLOSED) {
          // Closed for good (the node's connection reconnects forever until it is closed): this
          // consumer cannot fetch again; whoever closed the connection closes the node.
          LOG.info(
              "partition {} epoch {}: the NATS connection is closed; stopping", partition, epoch);
          return;
        }
        LOG.warn(
            "partition {} epoch {}: fetch failed, retrying: {}", partition, epoch, e.toString());
        if (!subscription.isActive()) {
          resubscribe();
        }
        sleep(200);
        continue;
      }
      long now = System.nanoTime();
      if (!batch.isEmpty()) {
        stalled = 0; // the server delivers: a stall has to be seen again, between idle checks
      }
      if (batch.isEmpty() && now - lastCheck > checkEvery) {
        lastCheck = now;
        loadCheckAt = now + settings.skippedCheckEvery().toNanos();
        idleChecks.incrementAndGet();
        recoverSkippedMessages();
      } else if (now - loadCheckAt > 0) {
        // never idle for skippedCheckEvery: look under load (between batches, nothing in hand)
        lastCheck = now;
        loadChecks.incrementAndGet();
        loadCheckAt =
            checkSkippedUnderLoad()
                ? now + CONFIRM_NANOS // confirm the suspect soon, not a whole period later
                : now + settings.skippedCheckEvery().toNanos();
      }
      for (Message message : batch) {
        if (!running) {
          return; // unacked: redelivered after ackWait, to us or to the next owner
        }
        if (message.isJetStream()) {
          handle(message);
        }
      }
    }
  }

  private final AtomicLong idleChecks = new AtomicLong();
  private final AtomicLong loadChecks = new AtomicLong();

  /** Skipped-message checks run when idle (tests). */
  long idleChecks() {
    return idleChecks.get();
  }

  /** Skipped-message checks run under continuous load (tests). */
  long loadChecks() {
    return loadChecks.get();
  }

  /** How soon a suspect found under load is looked at again. */
  private static final long CONFIRM_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** The stream sequence found under load at or below the ack floor, not yet confirmed; or 0. */
  private long suspect;

  /**
   * The first stored message of this partition that the previous idle check found and the server
   * was not about to deliver, with nothing fetched since; or 0. Only the loop thread touches it.
   */
  private long stalled;

  /**
   * Until when (System.nanoTime) a message of this partition may rightly wait in the stream: the
   * latest {@code nakWithDelay} this consumer sent, its delay plus one ackWait. Only the loop
   * thread touches it.
   */
  private long quietUntil = System.nanoTime();

  /** One skipped-message check: returns whether a suspect awaits its second look. */
  @FunctionalInterface
  private interface SkippedCheck {
    boolean run(JetStreamManagement jsm, ConsumerInfo info)
        throws IOException, JetStreamApiException;
  }

  /**
   * Runs {@code check} against this consumer's info, with the error handling both checks share: a
   * partition taken over at a higher epoch is logged (the node's placement stops this consumer),
   * any other failure is logged and the check runs again later. Returns what {@code check}
   * returned, or false when it failed.
   */
  private boolean checkSkipped(SkippedCheck check) {
    try {
      JetStreamManagement jsm = connection.jetStreamManagement();
      return check.run(jsm, jsm.getConsumerInfo(stream.name(), consumerName(partition, epoch)));
    } catch (SupersededException e) {
      LOG.info("partition {} epoch {}: {}", partition, epoch, e.getMessage());
    } catch (IOException | JetStreamApiException | RuntimeException e) {
      LOG.warn(
          "partition {} epoch {}: cannot check for skipped messages, will look again: {}",
          partition,
          epoch,
          e.toString());
    }
    return false;
  }

  /** The first message of this partition the stream holds (its leader's copy), or null. */
  private MessageInfo firstStored(JetStreamManagement jsm)
      throws IOException, JetStreamApiException {
    try {
      return jsm.getFirstMessage(
          stream.name(), stream.subjects().reliablePartitionFilter(partition));
    } catch (JetStreamApiException e) {
      if (e.getErrorCode() == 404) {
        return null; // nothing of this partition is stored
      }
      throw e;
    }
  }

  /**
   * Under continuous load: whether the stream holds a message of this partition at or below the
   * consumer's ack floor (every message up to the floor was acked, and a work-queue stream deletes
   * a message when it is acked, so such a message was skipped), and if so, once it is seen twice
   * (the first sighting may be an ack whose deletion is still being replicated), recreates the
   * consumer as {@link #recoverSkippedMessages} does. Returns whether a suspect awaits its second
   * look.
   *
   * <p>Safe while messages flow: it runs on the loop thread between batches, so no fetched message
   * is in hand; the recreated consumer (same name, epochs checked again) redelivers what was
   * delivered and not acked (the store's dedup makes a repeat a no-op) and the messages that were
   * waiting. Its cost: that redelivery, and a retry waiting out its {@code nakWithDelay} comes
   * sooner than its delay (its attempt is still counted).
   */
  private boolean checkSkippedUnderLoad() {
    return checkSkipped(
        (jsm, info) -> {
          long floor = info.getAckFloor().getStreamSequence();
          MessageInfo first = firstStored(jsm);
          if (first == null || first.getSeq() > floor) {
            suspect = 0;
            return false; // nothing stored, or delivered and awaiting its ack, or not delivered
          }
          if (suspect != first.getSeq()) {
            suspect = first.getSeq();
            return true;
          }
          suspect = 0;
          LOG.warn(
              "partition {} epoch {}: under load, the stream still holds message {} of this"
                  + " partition at or below the consumer's ack floor {}; recreating the consumer",
              partition,
              epoch,
              first.getSeq(),
              floor);
          bind(Bind.RECREATE);
          return false;
        });
  }

  /**
   * When idle: whether the stream holds a message of this partition that the consumer will never
   * deliver, and if so, recreates the consumer so it delivers the partition's messages from the
   * start again. Two signs:
   *
   * <ul>
   *   <li>the consumer counts the message delivered while nothing waits for an ack (at once);
   *   <li>the same message is the partition's first stored one at two idle checks in a row, with
   *       nothing fetched in between and no retry of this consumer's due, whatever the consumer's
   *       counts say.
   * </ul>
   *
   * <p>nats-server 2.9 can leave a consumer in either state after stream-leader kills. A consumer
   * reads the messages it delivers from its own leader's replica of the stream, and a replica that
   * got ahead of a new stream leader skips the entries the leader stores under the sequences it
   * already has, so the consumer never delivers them while the stream (its leader, which the
   * reconciler asks) holds them; and an ack-pending entry whose message that replica lacks is never
   * redelivered nor dropped, so the consumer reports ack pending (or, at its max ack pending,
   * pending) for good. The first sign misses both (issue 15's send left pending after a leader
   * kill); the second does not look at the counts. A recreated consumer, led by whichever server
   * wins its election, redelivers what it had handled and not yet seen deleted; the store's dedup
   * makes those deliveries no-ops. A message that waits out this consumer's {@code nakWithDelay} is
   * not a stall until its delay and one ackWait have passed.
   */
  private void recoverSkippedMessages() {
    checkSkipped(
        (jsm, info) -> {
          MessageInfo first = firstStored(jsm);
          if (first == null) {
            stalled = 0;
            return false;
          }
          long delivered = info.getDelivered().getStreamSequence();
          boolean inHand = info.getNumPending() > 0 || info.getNumAckPending() > 0;
          if (!inHand && first.getSeq() <= delivered) {
            LOG.warn(
                "partition {} epoch {}: the stream holds message {} of this partition but the"
                    + " consumer counts it delivered (delivered up to {}, nothing pending);"
                    + " recreating the consumer",
                partition,
                epoch,
                first.getSeq(),
                delivered);
          } else if (System.nanoTime() - quietUntil < 0 || stalled != first.getSeq()) {
            // a retry of ours may be due, or a first sighting: the server may deliver it yet
            stalled = first.getSeq();
            return false;
          } else {
            LOG.warn(
                "partition {} epoch {}: the stream still holds message {} of this partition and"
                    + " nothing was delivered since the last check (consumer: delivered up to {},"
                    + " {} pending, {} awaiting an ack); recreating the consumer",
                partition,
                epoch,
                first.getSeq(),
                delivered,
                info.getNumPending(),
                info.getNumAckPending());
          }
          stalled = 0;
          bind(Bind.RECREATE);
          return false;
        });
  }

  /**
   * Binds a new subscription to this consumer after the old one became inactive (unsubscribed by
   * the client library while the connection lives on); the consumer is created again if the server
   * lost it. Failures are logged and retried by the fetch loop.
   */
  private void resubscribe() {
    try {
      bind(Bind.RESUBSCRIBE);
      LOG.info("partition {} epoch {}: subscribed again", partition, epoch);
    } catch (SupersededException e) {
      LOG.info("partition {} epoch {}: {}", partition, epoch, e.getMessage());
    } catch (IOException | JetStreamApiException | RuntimeException e) {
      LOG.warn(
          "partition {} epoch {}: cannot subscribe again, will retry: {}",
          partition,
          epoch,
          e.toString());
    }
  }

  private void handle(Message message) {
    long sequence = message.metaData().streamSequence();
    Integer seen = attempts.get(sequence);
    int attempt = seen == null ? 1 : seen + 1;
    ReliableMessage delivery;
    try {
      String id =
          message.getHeaders() == null ? null : message.getHeaders().getFirst("Nats-Msg-Id");
      Subjects.AgentSubject parsed = subjects.parseAgent(message.getSubject());
      delivery =
          new ReliableMessage(
              id == null ? "seq-" + sequence : id,
              parsed.agent(),
              partition,
              epoch,
              sequence,
              attempt,
              message.getData());
    } catch (RuntimeException e) {
      // not a message cfn published: it can never be handled
      LOG.warn(
          "partition {}: terminating unreadable message {}: {}",
          partition,
          sequence,
          e.getMessage());
      attempts.remove(sequence);
      message.term();
      return;
    }
    if (seen == null) {
      try {
        attempt += Math.max(0, prior.failedBefore(delivery));
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        LOG.warn(
            "partition {}: cannot read the earlier attempts of {}, retrying it later: {}",
            partition,
            delivery.messageId(),
            e.toString());
        nakLater(message, retry.delay(1));
        return;
      }
      delivery = nextAttempt(delivery, attempt);
    }
    attempts.put(sequence, attempt);
    if (attempt > retry.maxAttempts()) {
      // its attempts were used up on earlier owners (one died before dead-lettering it)
      fail(
          message,
          delivery,
          new IllegalStateException(
              "its "
                  + (attempt - 1)
                  + " attempts were used up before this owner took partition "
                  + partition
                  + " over"));
      return;
    }
    boolean strict = settings.strictFifoTypes().contains(delivery.target().type());
    while (true) {
      try {
        handler.handleAndCommit(delivery);
      } catch (Exception | Error failure) {
        if (failure instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        if (strict && delivery.attempt() < retry.maxAttempts() && running) {
          // strict FIFO: retry this message in place; nothing behind it is handled meanwhile
          retryInPlace(message, retry.delay(delivery.attempt()));
          delivery = nextAttempt(delivery, attempts.merge(sequence, 1, Integer::sum));
          continue;
        }
        fail(message, delivery, failure);
        return;
      }
      break;
    }
    attempts.remove(sequence);
    message.ack();
  }

  /**
   * Asks the server to redeliver {@code message} after {@code delay}; until then and one ackWait
   * more, a stored message the idle check finds is not taken for a stall.
   */
  private void nakLater(Message message, Duration delay) {
    long until = System.nanoTime() + delay.toNanos() + settings.ackWait().toNanos();
    if (until - quietUntil > 0) {
      quietUntil = until;
    }
    message.nakWithDelay(delay);
  }

  /** Waits {@code delay}, telling the server every ackWait / 3 that the message is in progress. */
  private void retryInPlace(Message message, Duration delay) {
    long end = System.nanoTime() + delay.toNanos();
    long slice = Math.max(50, settings.ackWait().toMillis() / 3);
    message.inProgress();
    for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
      sleep(Math.min(slice, TimeUnit.NANOSECONDS.toMillis(left) + 1));
      message.inProgress();
    }
  }

  private static ReliableMessage nextAttempt(ReliableMessage m, int attempt) {
    return new ReliableMessage(
        m.messageId(), m.target(), m.partition(), m.epoch(), m.streamSequence(), attempt, m.body());
  }

  private void fail(Message message, ReliableMessage delivery, Throwable failure) {
    if (delivery.attempt() < retry.maxAttempts()) {
      nakLater(message, retry.delay(delivery.attempt()));
      return;
    }
    try {
      deadLetters.deadLetter(delivery, failure);
    } catch (Exception e) {
      LOG.warn(
          "partition {}: dead-lettering {} failed, retrying later: {}",
          partition,
          delivery.messageId(),
          e.toString());
      nakLater(message, retry.maxDelay());
      return;
    }
    attempts.remove(delivery.streamSequence());
    message.term();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops consuming (the message being handled finishes first) and unsubscribes. The durable
   * consumer stays: the next owner, at a higher epoch, deletes it.
   */
  @Override
  public void close() throws InterruptedException {
    running = false;
    if (!loop.join(Duration.ofSeconds(30))) {
      loop.interrupt();
      loop.join(TimeUnit.SECONDS.toMillis(5));
    }
    try {
      subscription.unsubscribe();
    } catch (IllegalStateException e) {
      // connection already closed
    }
  }
}
