package dev.cfn.cluster.node;

import dev.cfn.cluster.nats.BestEffortTransport;
import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.ReliableMessage;
import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.pg.Lease;
import dev.cfn.cluster.pg.LeaseLostException;
import dev.cfn.cluster.pg.PgAnswers;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.PgOutbox.OutboxMessage;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.RetryPolicy;
import dev.cfn.core.TopicId;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cfn node of a cluster: PostgreSQL ({@link PgJournal}) as the authoritative store, NATS
 * JetStream as the transport, partitions placed by {@link Placement}.
 *
 * <pre>{@code
 * ClusterNode node = ClusterNode.builder(journal, natsConnection, "node-a-" + startTime)
 *     .agent("counter", (message, effects) -> effects.increment("n", 1))
 *     .start();
 * node.send(AgentId.of("counter", "1"), "hello");   // durable in PostgreSQL when it returns
 * }</pre>
 *
 * <p>The path of a RELIABLE message: {@link #send} (or a handler's {@code effects.send}) stores it
 * in PostgreSQL (the outbox: a pending row, committed with the sending handler's acknowledgement);
 * the {@link OutboxRelay} publishes its id to the recipient's partition of the stream; the node
 * holding that partition's lease consumes it ({@link PartitionConsumer}, named by the lease epoch),
 * reads the message from PostgreSQL, runs the agent type's {@link ClusterAgent} with its {@code
 * Effects}, and acknowledges it through the partition's fenced journal ({@link PgJournal#under}):
 * dedup row, state changes and outgoing messages in one transaction that checks the epoch. Only
 * then is the JetStream message acked, and the outgoing messages published.
 *
 * <p>A handler gets {@link ClusterEffects}: cfn-core's {@code Effects} plus RELIABLE replies and
 * topic publications (committed with its acknowledgement) and best-effort requests. A RELIABLE
 * publication is fanned out by the relay: in one transaction that acknowledges the publication's
 * row, it becomes one RELIABLE message per subscribed agent type ({@link Builder#subscribe}), to
 * agent {@code (type, topic source)}, each then relayed and deduplicated like any message.
 * Best-effort requests ({@link #request}) go over core NATS to the node holding the agent's
 * partition, which answers with the type's {@link ClusterResponder}.
 *
 * <p>A RELIABLE request from outside the cluster ({@link #ask}: an API call) is stored like a send,
 * with this node as its sender ({@link PgAnswers#caller}); the handler's reply to it is not sent
 * but stored in PostgreSQL with the acknowledgement ({@link PgAnswers}), on whichever node handled
 * it, and that node hints the asking node on core NATS ({@link Subjects#answers}). Any node can
 * wait for an answer ({@link #answer}: the hint wakes the asking node at once, the others read
 * PostgreSQL every {@link #ANSWER_POLL}) or read it later ({@link #answerOf}).
 *
 * <p>Every node relays the unpublished outbox rows of the partitions it holds (written by their
 * handlers); the holder of partition 0 also relays the rows of no partition (sent from outside a
 * handler) and runs the reconciler ({@link OutboxRelay#reconcile}). Message ids come in blocks from
 * one PostgreSQL sequence ({@link PgJournal#nextIdBlock}), so nodes never collide.
 */
public final class ClusterNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

  /**
   * The header a copy of a RELIABLE publication carries to its subscriber: the topic, as {@code
   * type@source} ({@link TopicId#toString()}).
   */
  public static final String TOPIC_HEADER = "cfn-topic";

  /** How long a published message stays pending before the reconciler looks, by default: 60 s. */
  public static final Duration DEFAULT_RECONCILE_AFTER = Duration.ofSeconds(60);

  /**
   * How often a wait for an answer ({@link #answer}) reads PostgreSQL when no hint came: 1 s. The
   * hint makes the asking node's own waits prompt; this bounds the others', and a lost hint's.
   */
  public static final Duration ANSWER_POLL = Duration.ofSeconds(1);

  private final PgJournal journal;
  private final String node;
  private final Subjects subjects;
  private final Map<Long, Set<CompletableFuture<Void>>> answerHints = new ConcurrentHashMap<>();
  private Dispatcher answerDispatcher;
  private final Map<String, ClusterAgent> agents;
  private final Map<String, ClusterResponder> responders;
  private final Map<String, Set<String>> subscriptions; // pattern -> subscribed agent types
  private final Map<Integer, Journal> views = new ConcurrentHashMap<>();
  private final ExecutorService responderThreads;
  private BestEffortTransport transport;
  private final RetryPolicy retry;
  private final PartitionConsumer.Settings consumerSettings;
  private final Connection nats;
  private final ReliableStream stream;
  private final OutboxRelay relay;
  private final Duration relayInterval;
  private final Duration reconcileAfter;
  private final Duration reconcileEvery;
  private final Set<Integer> owned = ConcurrentHashMap.newKeySet();
  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final Thread relayLoop;
  private final java.util.function.Consumer<Envelope> onCommitted;
  private long nextId;
  private long idLimit;
  private volatile boolean running = true;
  private final AtomicBoolean closed = new AtomicBoolean();
  private Placement placement;

  private ClusterNode(Builder b, ReliableStream stream, OutboxRelay relay) {
    this.journal = b.journal;
    this.node = b.node;
    this.subjects = Subjects.of(b.namespace);
    this.agents = Map.copyOf(b.agents);
    this.responders = Map.copyOf(b.responders);
    this.subscriptions = new LinkedHashMap<>();
    b.subscriptions.forEach((pattern, types) -> subscriptions.put(pattern, Set.copyOf(types)));
    this.responderThreads =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("cfn-respond-" + b.node + "-", 0).factory());
    this.retry = b.retry;
    this.consumerSettings = b.consumer;
    this.nats = b.nats;
    this.stream = stream;
    this.relay = relay;
    this.relayInterval = b.relayInterval;
    this.reconcileAfter = b.reconcileAfter;
    this.reconcileEvery =
        b.reconcileEvery != null ? b.reconcileEvery : b.reconcileAfter.dividedBy(2);
    this.onCommitted = b.onCommitted;
    this.relayLoop = Thread.ofVirtual().name("cfn-relay-" + node).unstarted(this::relayLoop);
  }

  /** Starts configuring node {@code node} on {@code journal} and {@code nats}. */
  public static Builder builder(PgJournal journal, Connection nats, String node) {
    return new Builder(journal, nats, node);
  }

  /** This node's id. */
  public String node() {
    return node;
  }

  /** The journal this node commits to (the caller's: the node does not close it). */
  public PgJournal journal() {
    return journal;
  }

  /** The node's placement: which partitions it holds, the live nodes. */
  public Placement placement() {
    return placement;
  }

  /** Messages whose handling this node committed since it started. */
  public long handledCount() {
    return handled.get();
  }

  /** Deliveries this node skipped: already acknowledged or dead-lettered (duplicates). */
  public long skippedCount() {
    return skipped.get();
  }

  /**
   * Sends {@code payload} to {@code to} as a RELIABLE message and returns its id: it is durable in
   * PostgreSQL when this returns, and published at once (or, should that fail, by the relay later).
   */
  public long send(AgentId to, Object payload) {
    return send(to, payload, null);
  }

  /**
   * Sends {@code payload} to {@code to} as {@link #send(AgentId, Object)} does, deduplicated by the
   * producer's {@code idempotencyKey} (null: none): while the key is younger than the journal's
   * retention, a send with the same key, from any node, stores nothing and returns the id of the
   * message first stored under it. The key is taken in the transaction that stores the message
   * ({@code cfn_idempotency}), so two nodes sending with one key at once store one message.
   *
   * @throws IllegalArgumentException when the key is empty or longer than {@value
   *     Envelope#MAX_IDEMPOTENCY_KEY_CHARS} characters
   */
  public long send(AgentId to, Object payload, String idempotencyKey) {
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(payload, "payload");
    long id = nextId();
    return store(fromOutside(id, AgentRuntime.EXTERNAL, to, 0, payload, idempotencyKey));
  }

  /**
   * Sends {@code payload} to {@code to} as a RELIABLE request from outside the cluster and returns
   * its id: durable in PostgreSQL when this returns, handled once like a {@link #send}, by
   * whichever node holds {@code to}'s partition. The handler's reply ({@link ClusterEffects#reply},
   * or {@code AgentContext.reply} for a cfn-core agent) is stored in PostgreSQL with its
   * acknowledgement ({@link PgAnswers}) instead of being sent: wait for it with {@link #answer},
   * read it with {@link #answerOf}, on any node, for the journal's retention. With an {@code
   * idempotencyKey} (null: none) it is deduplicated as {@link #send(AgentId, Object, String)} is,
   * so a caller that lost its connection can ask again with the same key and get the first
   * request's id, hence its answer.
   */
  public long ask(AgentId to, Object payload, String idempotencyKey) {
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(payload, "payload");
    long id = nextId();
    // a request: its correlation id is its own
    return store(fromOutside(id, PgAnswers.caller(node), to, id, payload, idempotencyKey));
  }

  /**
   * The answer to request {@code requestId} ({@link #ask}, from any node): completes with the reply
   * once it is stored, or fails with {@link TimeoutException} after {@code timeout} (the request
   * stays pending and its answer can still come: {@link #answerOf}). The asking node hears of the
   * answer on core NATS at once; the wait also reads PostgreSQL every {@link #ANSWER_POLL}, so it
   * ends on any node and whatever NATS lost. Cancelling the future ends the wait.
   */
  public CompletableFuture<Envelope> answer(long requestId, Duration timeout) {
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
    }
    CompletableFuture<Envelope> result = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("cfn-answer-" + requestId)
        .start(() -> awaitAnswer(requestId, System.nanoTime() + timeout.toNanos(), result));
    return result;
  }

  /**
   * The answer to request {@code requestId} ({@link #ask}) if it is stored; empty while the request
   * is pending, when its handler did not reply, or once the answer is older than the retention.
   */
  public Optional<Envelope> answerOf(long requestId) {
    return journal.answers().find(requestId);
  }

  /**
   * Request {@code requestId} ({@link #ask}) while it is pending: stored and not yet handled (nor
   * dead-lettered). Empty for any other message.
   */
  public Optional<Envelope> pendingRequest(long requestId) {
    return journal
        .outbox()
        .pending(requestId)
        .filter(
            e ->
                e.isRequest()
                    && e.sender() != null
                    && PgAnswers.CALLER_TYPE.equals(e.sender().type()));
  }

  private void awaitAnswer(long id, long deadline, CompletableFuture<Envelope> result) {
    CompletableFuture<Void> hint = hintFor(id);
    try {
      while (!result.isDone()) {
        try {
          Optional<Envelope> found = journal.answers().find(id);
          if (found.isPresent()) {
            result.complete(found.get());
            return;
          }
        } catch (RuntimeException e) {
          log.debug("node {}: reading the answer to request {} failed: {}", node, id, e.toString());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          result.completeExceptionally(new TimeoutException("no answer to request " + id + " yet"));
          return;
        }
        if (hint.isDone()) {
          dropHint(id, hint);
          hint = hintFor(id); // a hint came and the answer was not there: wait for the next
        }
        try {
          hint.get(Math.min(left, ANSWER_POLL.toNanos()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
          // poll again
        } catch (InterruptedException e) {
          result.completeExceptionally(e);
          return;
        }
      }
    } finally {
      dropHint(id, hint);
    }
  }

  private CompletableFuture<Void> hintFor(long id) {
    CompletableFuture<Void> hint = new CompletableFuture<>();
    answerHints.compute(
        id,
        (k, set) -> {
          Set<CompletableFuture<Void>> s = set == null ? ConcurrentHashMap.newKeySet() : set;
          s.add(hint);
          return s;
        });
    return hint;
  }

  private void dropHint(long id, CompletableFuture<Void> hint) {
    answerHints.computeIfPresent(
        id,
        (k, set) -> {
          set.remove(hint);
          return set.isEmpty() ? null : set;
        });
  }

  /** A hint on {@link Subjects#answers}: wakes this node's waits for that request's answer. */
  private void onAnswerHint(io.nats.client.Message m) {
    long id;
    try {
      id = Long.parseLong(new String(m.getData(), StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return;
    }
    Set<CompletableFuture<Void>> waiting = answerHints.get(id);
    if (waiting != null) {
      waiting.forEach(h -> h.complete(null));
    }
  }

  /**
   * A RELIABLE message from outside the cluster: a send, or a request ({@code correlation} set).
   */
  private static Envelope fromOutside(
      long id, AgentId sender, AgentId to, long correlation, Object payload, String key) {
    return new Envelope(
        id,
        payload.getClass().getName(),
        sender,
        to,
        null,
        correlation,
        Priority.NORMAL,
        DeliveryMode.RELIABLE,
        headers(key),
        payload,
        System.nanoTime());
  }

  private static Map<String, String> headers(String idempotencyKey) {
    if (idempotencyKey == null) {
      return Map.of();
    }
    if (idempotencyKey.isEmpty() || idempotencyKey.length() > Envelope.MAX_IDEMPOTENCY_KEY_CHARS) {
      throw new IllegalArgumentException(
          "idempotency key must be 1 to "
              + Envelope.MAX_IDEMPOTENCY_KEY_CHARS
              + " characters, was "
              + idempotencyKey.length());
    }
    return Map.of(Envelope.IDEMPOTENCY_KEY_HEADER, idempotencyKey);
  }

  /**
   * Stores {@code e} (once per idempotency key, when it has one) and publishes it; returns its id,
   * or the id of the message first stored under its key.
   */
  private long store(Envelope e) {
    long id = journal.appendOnce(e);
    if (id != e.id()) {
      return id; // a duplicate: the first one is stored, and published or left to the relay
    }
    try {
      relay.publishNow(List.of(e));
    } catch (Exception ex) {
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.debug("message {} stored, not yet published ({}); the relay will", e.id(), ex.toString());
    }
    return e.id();
  }

  /**
   * Publishes {@code payload} on {@code topic} as a RELIABLE publication and returns its id:
   * durable in PostgreSQL when this returns, then fanned out by the relay to one RELIABLE message
   * per agent type subscribed to a matching pattern ({@link Builder#subscribe}), to agent {@code
   * (type, topic.source())}; each copy takes effect once. A publication no type subscribes to
   * reaches nobody.
   */
  public long publish(TopicId topic, Object payload) {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    Envelope e =
        new Envelope(
            nextId(),
            payload.getClass().getName(),
            AgentRuntime.EXTERNAL,
            null,
            topic,
            0,
            Priority.NORMAL,
            DeliveryMode.RELIABLE,
            Map.of(),
            payload,
            System.nanoTime());
    journal.append(e);
    try {
      relay.publishNow(List.of(e));
    } catch (Exception ex) {
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.debug(
          "publication {} stored, not yet fanned out ({}); the relay will", e.id(), ex.toString());
    }
    return e.id();
  }

  /**
   * Sends {@code body} to agent {@code to} as a best-effort request over core NATS: the node
   * holding {@code to}'s partition answers with the {@link ClusterResponder} registered for its
   * type. At most once and not journaled. The future fails with {@link
   * BestEffortTransport.NoResponderException} when no node serves the partition (none holds it, or
   * none registered a responder for the type), and with a {@code TimeoutException} after {@code
   * timeout}.
   */
  public CompletableFuture<String> request(AgentId to, String body, Duration timeout) {
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(body, "body");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return transport
        .request(to, body.getBytes(StandardCharsets.UTF_8), timeout)
        .thenApply(reply -> new String(reply, StandardCharsets.UTF_8));
  }

  synchronized long nextId() {
    if (nextId == idLimit) {
      nextId = journal.nextIdBlock();
      idLimit = nextId + PgJournal.ID_BLOCK;
    }
    return nextId++;
  }

  private AutoCloseable startPartition(Lease lease) throws Exception {
    int p = lease.partition();
    Journal view = journal.under(lease);
    owned.add(p);
    views.put(p, view);
    AutoCloseable serving = null;
    try {
      if (!responders.isEmpty()) {
        serving = transport.serve(p, this::respond, responderThreads);
      }
      PartitionConsumer consumer =
          PartitionConsumer.start(
              nats,
              stream,
              p,
              lease.epoch(),
              retry,
              m -> handle(view, m),
              (m, cause) -> deadLetter(view, m, cause),
              m -> journal.failedAttempts(OutboxRelay.idOf(m.body())),
              consumerSettings);
      AutoCloseable served = serving;
      return () -> {
        owned.remove(p);
        views.remove(p, view);
        try {
          if (served != null) {
            served.close();
          }
        } finally {
          consumer.close();
        }
      };
    } catch (Exception | Error e) {
      owned.remove(p);
      views.remove(p, view);
      if (serving != null) {
        serving.close();
      }
      throw e;
    }
  }

  /** Answers a best-effort request to an agent of a partition this node serves. */
  private byte[] respond(AgentId target, byte[] body) {
    ClusterResponder responder = responders.get(target.type());
    if (responder == null) {
      return null; // the requester times out: no type registered here
    }
    try {
      String reply = responder.respond(target, new String(body, StandardCharsets.UTF_8));
      return reply == null ? null : reply.getBytes(StandardCharsets.UTF_8);
    } catch (Exception e) {
      log.debug("node {}: responder of {} failed, no reply: {}", node, target, e.toString());
      return null;
    }
  }

  /**
   * Fans RELIABLE publication {@code p} out to its subscribers: acknowledges it with one RELIABLE
   * message per subscribed type as its effects, in one transaction (under the lease of its
   * partition, when it has one), so it happens once whichever relay gets there first; returns the
   * copies to publish, empty when another relay did it, or this node no longer holds the partition.
   */
  private List<Envelope> fanOut(OutboxMessage p) {
    Envelope publication = p.envelope();
    Journal view = p.partition() < 0 ? journal : views.get(p.partition());
    if (view == null) {
      return List.of(); // its partition moved: the new holder's relay fans it out
    }
    Set<String> types = new LinkedHashSet<>();
    subscriptions.forEach(
        (pattern, subscribed) -> {
          if (BestEffortTransport.topicMatches(pattern, publication.topic().type())) {
            types.addAll(subscribed);
          }
        });
    Map<String, String> headers = new HashMap<>(publication.headers());
    headers.put(TOPIC_HEADER, publication.topic().toString());
    List<Envelope> copies = new ArrayList<>(types.size());
    List<Effect> sends = new ArrayList<>(types.size());
    for (String type : types) {
      Envelope copy =
          new Envelope(
              nextId(),
              publication.type(),
              publication.sender(),
              AgentId.of(type, publication.topic().source()),
              null,
              0,
              publication.priority(),
              DeliveryMode.RELIABLE,
              headers,
              publication.payload(),
              System.nanoTime());
      copies.add(copy);
      sends.add(new Effect.Send(copy));
    }
    boolean applied;
    try {
      applied = view.acknowledge(publication, sends).join();
    } catch (CompletionException ce) {
      throw ce.getCause() instanceof RuntimeException r ? r : ce;
    }
    if (applied && copies.isEmpty()) {
      log.debug(
          "publication {} on {} reaches no subscriber", publication.id(), publication.topic());
    }
    return applied ? copies : List.of();
  }

  private void handle(Journal view, ReliableMessage m) throws Exception {
    long id = OutboxRelay.idOf(m.body());
    Optional<Envelope> found = journal.outbox().pending(id);
    if (found.isEmpty()) {
      skipped.incrementAndGet(); // acknowledged (a redelivery, a republished copy) or dead
      return;
    }
    Envelope e = found.get();
    ClusterAgent agent = agents.get(e.recipient().type());
    if (agent == null) {
      throw new IllegalStateException(
          "no agent type '"
              + e.recipient().type()
              + "' is registered on node "
              + node
              + " (fix: register the same agent types on every node)");
    }
    NodeEffects effects = new NodeEffects(e.recipient(), view, this);
    try {
      agent.handle(e, effects);
    } catch (Exception | Error failure) {
      effects.discarded();
      try {
        view.recordFailure(e, m.attempt(), failure.toString()).join();
      } catch (RuntimeException ignored) {
        // the attempt count is kept by the consumer; the history is a courtesy
      }
      throw failure;
    }
    boolean applied;
    try {
      applied = view.acknowledge(e, effects.effects()).join();
    } catch (CompletionException ce) {
      Throwable cause = ce.getCause() == null ? ce : ce.getCause();
      discardedUnlessCommitted(e, effects, cause);
      throw cause instanceof Exception ex ? ex : ce;
    } catch (RuntimeException | Error failure) {
      discardedUnlessCommitted(e, effects, failure);
      throw failure;
    }
    if (!applied) {
      effects.discarded(); // already acknowledged: these effects are not the ones that counted
      skipped.incrementAndGet();
      return;
    }
    handled.incrementAndGet();
    if (onCommitted != null) {
      try {
        onCommitted.accept(e);
      } catch (RuntimeException ex) {
        log.warn("node {}: the onCommitted listener failed: {}", node, ex.toString());
      }
    }
    List<Envelope> out = new ArrayList<>();
    for (Effect effect : effects.effects()) {
      if (effect instanceof Effect.Send send) {
        if (PgAnswers.isAnswer(send.envelope())) {
          hintAnswered(send.envelope()); // stored, not sent
        } else {
          out.add(send.envelope());
        }
      }
    }
    if (!out.isEmpty()) {
      try {
        relay.publishNow(out, m.partition());
      } catch (Exception ex) {
        if (ex instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        log.debug("outbox of message {} not yet published ({}); the relay will", id, ex.toString());
      }
    }
  }

  /** Tells the asking node that the answer {@code answer} to its request is stored. */
  private void hintAnswered(Envelope answer) {
    try {
      nats.publish(
          subjects.answers(answer.recipient().key()),
          Long.toString(answer.correlationId()).getBytes(StandardCharsets.US_ASCII));
    } catch (RuntimeException ex) {
      log.debug(
          "answer to request {} stored, its hint not sent ({}); the asker will poll",
          answer.correlationId(),
          ex.toString());
    }
  }

  /**
   * The acknowledgement of {@code e} with {@code effects} failed with {@code failure}: runs their
   * {@linkplain NodeEffects#discarded discard actions} when they were not committed. A refused
   * fence stored nothing; any other failure may have come after PostgreSQL committed (a connection
   * lost during the commit), so the message's pending row decides: a committed acknowledgement
   * deletes it in the same transaction, so a row still pending means nothing was committed. When
   * the row is gone (these effects committed, or another owner acknowledged the message meanwhile)
   * or cannot be read, the actions are not run: not knowing is treated as a crash would be, and an
   * action is never run for effects that did commit.
   */
  private void discardedUnlessCommitted(Envelope e, NodeEffects effects, Throwable failure) {
    if (failure instanceof LeaseLostException) {
      effects.discarded();
      return;
    }
    boolean pending;
    try {
      pending = journal.outbox().pending(e.id()).isPresent();
    } catch (RuntimeException unknown) {
      log.warn(
          "node {}: the acknowledgement of message {} failed ({}) and whether it committed cannot"
              + " be read ({}); its discard actions are not run",
          node,
          e.id(),
          failure.toString(),
          unknown.toString());
      return;
    }
    if (pending) {
      effects.discarded();
    }
  }

  private void deadLetter(Journal view, ReliableMessage m, Throwable cause) {
    Optional<Envelope> found = journal.outbox().pending(OutboxRelay.idOf(m.body()));
    if (found.isPresent()) {
      try {
        view.deadLetter(found.get(), m.attempt(), String.valueOf(cause)).join();
      } catch (CompletionException ce) {
        throw ce.getCause() instanceof RuntimeException r ? r : ce;
      }
    }
  }

  private void relayLoop() {
    long lastReconcile = System.nanoTime();
    while (running) {
      LockSupport.parkNanos(relayInterval.toNanos());
      if (!running) {
        return;
      }
      boolean first = owned.contains(0);
      try {
        if (!owned.isEmpty()) {
          relay.relay(List.copyOf(owned), first);
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        log.warn("node {}: outbox relay failed, retrying: {}", node, e.toString());
      }
      // a relay that keeps failing (a message that gets no PubAck) must not hold the reconciler
      // back: it is what republishes the messages the stream lost
      try {
        if (first && System.nanoTime() - lastReconcile > reconcileEvery.toNanos()) {
          lastReconcile = System.nanoTime();
          relay.reconcile(reconcileAfter);
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        log.warn("node {}: outbox reconciler failed, retrying: {}", node, e.toString());
      }
    }
  }

  /**
   * Leaves the cluster: stops consuming, releases this node's leases (the other nodes take its
   * partitions at their next tick) and stops the relay. The journal and the NATS connection stay
   * open: they are the caller's. A second call does nothing.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    running = false;
    relayLoop.interrupt();
    try {
      relayLoop.join(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (placement != null) {
      placement.close();
    }
    if (transport != null) {
      transport.close();
    }
    if (answerDispatcher != null) {
      nats.closeDispatcher(answerDispatcher);
    }
    responderThreads.shutdown();
  }

  /** Configures and starts a {@link ClusterNode}. */
  public static final class Builder {
    private final PgJournal journal;
    private final Connection nats;
    private final String node;
    private final Map<String, ClusterAgent> agents = new HashMap<>();
    private final Map<String, ClusterResponder> responders = new HashMap<>();
    private final Map<String, Set<String>> subscriptions = new LinkedHashMap<>();
    private String namespace = "default";
    private int partitions = Partitioner.DEFAULT_PARTITIONS;
    private Duration ttl = Duration.ofSeconds(10);
    private int replicas = 3;
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private PartitionConsumer.Settings consumer = PartitionConsumer.Settings.DEFAULT;
    private Duration relayInterval = Duration.ofMillis(200);
    private Duration reconcileAfter = DEFAULT_RECONCILE_AFTER;
    private Duration reconcileEvery;
    private java.util.function.Consumer<Envelope> onCommitted;

    private Builder(PgJournal journal, Connection nats, String node) {
      this.journal = Objects.requireNonNull(journal, "journal");
      this.nats = Objects.requireNonNull(nats, "nats");
      this.node = Objects.requireNonNull(node, "node");
    }

    /** The handler of agent type {@code type}'s messages (register the same on every node). */
    public Builder agent(String type, ClusterAgent agent) {
      AgentId.of(type, "x"); // validates the type as AgentId does
      if (PgAnswers.CALLER_TYPE.equals(type)) {
        throw new IllegalArgumentException(
            "agent type '"
                + type
                + "' is reserved: it is the sender of requests from outside the cluster (fix:"
                + " give the agent type another name)");
      }
      agents.put(type, Objects.requireNonNull(agent, "agent"));
      return this;
    }

    /**
     * The answerer of best-effort requests to agent type {@code type}'s agents (register the same
     * on every node): the node holding an agent's partition runs it.
     */
    public Builder responder(String type, ClusterResponder responder) {
      AgentId.of(type, "x"); // validates the type as AgentId does
      responders.put(type, Objects.requireNonNull(responder, "responder"));
      return this;
    }

    /**
     * Subscribes agent type {@code type} to the RELIABLE publications whose topic type matches
     * {@code pattern} ({@code *} one segment, {@code #} zero or more, as in cfn-core): a
     * publication on {@code T@source} becomes one RELIABLE message to agent {@code (type, source)},
     * however many of its patterns match. Give every node the same subscriptions, as the same agent
     * types: the node that relays a publication decides its subscribers.
     */
    public Builder subscribe(String pattern, String type) {
      Subjects.of("x").topicFilters(Objects.requireNonNull(pattern, "pattern")); // validates
      AgentId.of(type, "x");
      subscriptions.computeIfAbsent(pattern, k -> new LinkedHashSet<>()).add(type);
      return this;
    }

    /** The cluster's namespace on NATS (default {@code default}; {@code [a-z0-9-]}, 1 to 32). */
    public Builder namespace(String namespace) {
      Subjects.of(namespace); // validates
      this.namespace = namespace;
      return this;
    }

    /** Partitions, the same on every node (default 256). */
    public Builder partitions(int partitions) {
      new Partitioner(partitions); // validates
      this.partitions = partitions;
      return this;
    }

    /** How long a heartbeat and a lease last (default 10 s). */
    public Builder ttl(Duration ttl) {
      this.ttl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    /** The stream's replicas (default 3; 1 only for a single test server). */
    public Builder replicas(int replicas) {
      this.replicas = replicas;
      return this;
    }

    /** How failed messages are retried before they are dead-lettered. */
    public Builder retryPolicy(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry");
      return this;
    }

    /** The partition consumers' settings. */
    public Builder consumerSettings(PartitionConsumer.Settings settings) {
      this.consumer = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /** How often the relay looks for unpublished messages (default 200 ms). */
    public Builder relayInterval(Duration interval) {
      if (interval.toMillis() < 1) {
        throw new IllegalArgumentException("relayInterval must be at least 1 ms, was " + interval);
      }
      this.relayInterval = interval;
      return this;
    }

    /**
     * How long a published message may stay pending before the reconciler checks the stream still
     * has it (default 60 s). A message the stream lost is republished between this and this plus
     * {@link #reconcileEvery} after its publish; shorter finds losses sooner, at the price of more
     * stream lookups for messages that are merely waiting (a backlog, a retry delay).
     */
    public Builder reconcileAfter(Duration after) {
      if (after.toMillis() < 1) {
        throw new IllegalArgumentException("reconcileAfter must be at least 1 ms, was " + after);
      }
      this.reconcileAfter = after;
      return this;
    }

    /**
     * How often the holder of partition 0 runs the reconciler (default: half of {@link
     * #reconcileAfter}, so 30 s). Each run reads the pending rows published more than {@code
     * reconcileAfter} ago and asks the stream about each, so it costs PostgreSQL and JetStream
     * lookups in proportion to the messages pending that long.
     */
    public Builder reconcileEvery(Duration every) {
      if (every.toMillis() < 1) {
        throw new IllegalArgumentException("reconcileEvery must be at least 1 ms, was " + every);
      }
      this.reconcileEvery = every;
      return this;
    }

    /**
     * Called with each message whose handling this node committed (its acknowledgement, effects and
     * outbox in PostgreSQL), right after the commit, on the partition's consumer thread:
     * measurements ({@code cfn bench cluster} counts arrivals here). It must be quick and must not
     * throw; a duplicate delivery skipped by the dedup row is not reported.
     */
    public Builder onCommitted(java.util.function.Consumer<Envelope> listener) {
      this.onCommitted = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Ensures the stream, joins the cluster (heartbeat, placement) and starts the relay.
     *
     * @throws Exception when NATS or PostgreSQL cannot be reached
     */
    public ClusterNode start() throws Exception {
      Placement.Settings settings = new Placement.Settings(partitions, ttl);
      Subjects subjects = Subjects.of(namespace);
      ReliableStream stream =
          ReliableStream.ensure(
              nats, subjects, replicas, ReliableStream.DEFAULT_DUPLICATE_WINDOW, -1);
      ReliablePublisher publisher =
          new ReliablePublisher(nats, stream, new Partitioner(partitions));
      ClusterNode[] self = new ClusterNode[1];
      OutboxRelay relay =
          new OutboxRelay(journal.outbox(), publisher, nats, stream, p -> self[0].fanOut(p));
      ClusterNode n = new ClusterNode(this, stream, relay);
      self[0] = n;
      n.transport = new BestEffortTransport(nats, subjects, new Partitioner(partitions), node);
      n.answerDispatcher = nats.createDispatcher(n::onAnswerHint);
      n.answerDispatcher.subscribe(subjects.answers(node));
      try {
        n.placement = Placement.start(journal, node, settings, n::startPartition);
      } catch (Exception | Error e) {
        n.transport.close();
        nats.closeDispatcher(n.answerDispatcher);
        n.responderThreads.shutdown();
        throw e;
      }
      n.relayLoop.start();
      return n;
    }
  }
}
