package dev.cfn.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent runtime: registers agent types, spawns agents (explicitly, or lazily on their first
 * message), routes messages between them and shuts down without losing accepted messages.
 *
 * <p>A message travels one path: validate, route (point-to-point, topic or reply), mailbox,
 * dispatcher, handler. Non-blocking agents run on carrier threads (one per core by default);
 * blocking agent types run each turn on a virtual thread.
 *
 * <h2>Threading contract</h2>
 *
 * <ul>
 *   <li>Every public method may be called from any thread, concurrently. Messages sent through the
 *       runtime itself carry {@link #EXTERNAL} as their sender; inside a handler, send through the
 *       {@link AgentContext} (or an {@link AgentRef}, which finds the running agent) instead.
 *   <li>A handler runs on one thread at a time per agent: a carrier thread, or a virtual thread for
 *       {@link AgentType.Builder#blocking() blocking} types. Handlers on carriers must not block
 *       (no {@code join()} on a request's future there: use its callbacks).
 *   <li>Request futures complete on the replier's thread, the runtime's timer thread (timeout), the
 *       caller's thread (immediate failure) or the shutting-down thread; see {@link
 *       AgentContext#request}.
 *   <li>{@link #shutdown} and {@link #close} wait for the handlers, so they refuse to run inside a
 *       handler of this runtime (an {@link IllegalStateException} says so).
 * </ul>
 *
 * <pre>{@code
 * try (AgentRuntime rt = AgentRuntime.builder().build()) {
 *   rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply(m.payload())));
 *   Envelope reply = rt.request(AgentId.of("echo", "1"), "hi", Duration.ofSeconds(1)).join();
 * }
 * }</pre>
 */
public final class AgentRuntime extends Sender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

  /** The sender of messages sent by code outside any agent. */
  public static final AgentId EXTERNAL = new AgentId("external", "caller");

  /** The sender of the runtime's own lifecycle events. */
  public static final AgentId SYSTEM = new AgentId("cfn", "system");

  private static final Map<String, String> REPLY_HEADERS = Map.of(Envelope.REPLY_HEADER, "true");
  private static final int RUNNING = 0;
  private static final int DRAINING = 1;
  private static final int TERMINATED = 2;

  private final ConcurrentHashMap<String, RegisteredType> types = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<AgentId, AgentCell> agents = new ConcurrentHashMap<>();
  // Lazy activations under way: concurrent first sends to one id wait for one factory call.
  private final ConcurrentHashMap<AgentId, Activation> activating = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<AgentId>> swarms = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, CompletableFuture<Envelope>> pending =
      new ConcurrentHashMap<>();
  private final TopicRouter router = new TopicRouter();
  private final DeadLetterLog deadLetters;
  private final Carrier[] carriers;
  private final VirtualDispatcher virtual;
  private final AtomicInteger nextCarrier = new AtomicInteger();
  // Message ids: threads take blocks of ID_BLOCK from `ids`, so senders on different cores never
  // contend on one counter per message. Unique within this runtime, not ordered.
  private static final long ID_BLOCK = 1024;
  private final AtomicLong ids = new AtomicLong();
  private final ThreadLocal<long[]> idBlock = ThreadLocal.withInitial(() -> new long[2]);
  private final ScheduledThreadPoolExecutor timer;
  private final int defaultThroughput;
  private final MeterRegistry registry;
  private final Map<DeadLetter.Reason, Counter> deadLetterCounters =
      new EnumMap<>(DeadLetter.Reason.class);
  private final Counter handlerFailures;
  private final Counter rejections;
  private final Counter dropped;
  private final Counter restarts;
  // accepted: every message offered to a mailbox, counted before the offer.
  // finishedElsewhere: accepted messages that ended without a handler (rejected, dropped, drained).
  private final LongAdder accepted = new LongAdder();
  private final LongAdder finishedElsewhere = new LongAdder();
  private final ReliableDelivery reliable;
  private final LongAdder unboundedAgents = new LongAdder();
  private final RuntimeSettings settings;
  private volatile int state = RUNNING;
  private volatile ShutdownReport shutdownReport;

  private AgentRuntime(Builder b) {
    super(EXTERNAL, false);
    this.registry = b.registry != null ? b.registry : new SimpleMeterRegistry();
    this.defaultThroughput = b.throughput;
    this.settings =
        new RuntimeSettings(
            b.name,
            b.carriers,
            b.throughput,
            b.idle,
            b.latencySampleEvery,
            b.deadLetterWindow,
            b.jvmMetrics,
            b.journal != null,
            b.retry);
    this.deadLetters = new DeadLetterLog(b.deadLetterWindow);
    LatencySampler sampler = new LatencySampler(b.latencySampleEvery, b.carriers);
    this.carriers = new Carrier[b.carriers];
    AtomicInteger spinning = new AtomicInteger();
    int maxSpinning = Math.max(1, b.carriers / 2);
    for (int i = 0; i < carriers.length; i++) {
      carriers[i] = new Carrier(i, b.idle, sampler, b.name + "-carrier-", spinning, maxSpinning);
    }
    this.virtual = new VirtualDispatcher(sampler, b.name + "-vt-");
    this.timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, b.name + "-timer"));
    timer.setRemoveOnCancelPolicy(true);
    this.handlerFailures = Counter.builder(CfnMetrics.HANDLER_FAILURES).register(registry);
    this.rejections = Counter.builder(CfnMetrics.MAILBOX_REJECTIONS).register(registry);
    this.dropped = Counter.builder(CfnMetrics.MAILBOX_DROPPED).register(registry);
    this.restarts = Counter.builder(CfnMetrics.AGENT_RESTARTS).register(registry);
    for (DeadLetter.Reason r : DeadLetter.Reason.values()) {
      deadLetterCounters.put(
          r, Counter.builder(CfnMetrics.DEAD_LETTERS).tag("reason", r.name()).register(registry));
    }
    this.reliable = b.journal == null ? null : new ReliableDelivery(this, b.journal, b.retry);
    RuntimeMeters.bind(this, registry, b.jvmMetrics, sampler);
    if (reliable != null) {
      RuntimeMeters.bindReliable(reliable, registry);
    }
    for (Carrier c : carriers) {
      c.start(carriers);
    }
    for (AgentType t : b.types) {
      register(t);
    }
    if (reliable != null) {
      long highest = b.journal.highestId();
      ids.updateAndGet(v -> Math.max(v, highest));
      reliable.recover();
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  AgentRuntime runtime() {
    return this;
  }

  /** A builder with defaults: one carrier per core, the default idle strategy. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- registration and lifecycle

  /** Registers an agent type; throws if a type with that name is already registered. */
  public AgentRuntime register(AgentType type) {
    Objects.requireNonNull(type, "type");
    RegisteredType r = new RegisteredType(type, this, defaultThroughput);
    if (types.putIfAbsent(type.name(), r) != null) {
      throw new IllegalStateException(
          "agent type '" + type.name() + "' is already registered; choose another name");
    }
    if (type.unboundedMailbox()) {
      log.warn(
          "agent type '{}' has an unbounded mailbox: a sender faster than its agents grows it until"
              + " the heap runs out; watch {} and prefer a bounded mailbox",
          type.name(),
          CfnMetrics.MAILBOX_SIZE);
    }
    if (reliable != null) {
      reliable.typeRegistered(type.name());
    }
    return this;
  }

  /** Spawns the agent {@code id}; throws if its type is unknown or it is already live. */
  public AgentRef spawn(AgentId id) {
    return spawn(id, (String) null, null);
  }

  /**
   * Spawns the agent {@code id} as a member of {@code swarm} (may be null), for {@link
   * #broadcastToSwarm}; throws if its type is unknown or it is already live.
   */
  public AgentRef spawn(AgentId id, String swarm) {
    return spawn(id, swarm, null);
  }

  /**
   * Spawns the agent {@code id} with its own behaviour {@code agent} instead of one made by its
   * type's factory: per-agent wiring without switching on the key. The type must be registered (it
   * still gives the mailbox, supervision and dispatcher settings). A restart under the type's
   * supervision strategy keeps this instance (onStop, then onStart again on it), since there is no
   * factory to make another; register a factory when a restart must start from fresh state.
   */
  public AgentRef spawn(AgentId id, Agent agent) {
    return spawn(id, null, Objects.requireNonNull(agent, "agent"));
  }

  private AgentRef spawn(AgentId id, String swarm, Agent agent) {
    Objects.requireNonNull(id, "id");
    requireAccepting();
    RegisteredType t = types.get(id.type());
    if (t == null) {
      throw new IllegalArgumentException(
          "no agent type '"
              + id.type()
              + "' is registered; register it with runtime.register(AgentType.of(\""
              + id.type()
              + "\", factory)) before spawning "
              + id);
    }
    if (swarm != null) {
      AgentId.validateKey(swarm);
    }
    AgentCell cell = newCell(id, t, swarm, agent);
    if (agents.putIfAbsent(id, cell) != null) {
      throw new IllegalStateException(
          "agent " + id + " is already live; use lookup(id) or ref(id) to reach it");
    }
    activated(cell);
    return new AgentRef(this, id, cell);
  }

  AgentRef spawnRef(AgentId id, Agent agent) {
    return spawn(id, null, agent);
  }

  private AgentCell newCell(AgentId id, RegisteredType t, String swarm, Agent given) {
    Agent agent = given;
    if (agent == null) {
      try {
        agent = t.spec.factory().create(id);
      } catch (Exception e) {
        throw new IllegalStateException(
            "the factory of agent type '" + id.type() + "' failed to create " + id + ": " + e, e);
      }
      if (agent == null) {
        throw new IllegalStateException(
            "the factory of agent type '" + id.type() + "' returned null for " + id);
      }
    }
    Dispatcher d =
        t.spec.blocking()
            ? virtual
            : carriers[Math.floorMod(nextCarrier.getAndIncrement(), carriers.length)];
    return new AgentCell(id, t, agent, given != null, d, swarm);
  }

  private void activated(AgentCell cell) {
    if (cell.type.spec.unboundedMailbox()) {
      unboundedAgents.increment();
    }
    if (cell.swarm != null) {
      swarms.computeIfAbsent(cell.swarm, k -> ConcurrentHashMap.newKeySet()).add(cell.id);
    }
    lifecycle(cell.id, LifecycleEvent.Kind.STARTED, "");
    if (cell.needsStart()) {
      cell.schedule();
    }
  }

  /** The live cell for {@code id}, activating it if its type is registered; null otherwise. */
  AgentCell cellFor(AgentId id) {
    AgentCell cell = agents.get(id);
    if (cell != null) {
      return cell;
    }
    RegisteredType t = types.get(id.type());
    if (t == null || state == TERMINATED) {
      return null;
    }
    // One sender activates; the others wait for its cell instead of calling the factory again.
    Activation mine = new Activation(Thread.currentThread());
    Activation other = activating.putIfAbsent(id, mine);
    if (other != null) {
      return other.await(id);
    }
    try {
      cell = agents.get(id); // activated between our first look and the claim?
      if (cell == null) {
        AgentCell fresh = newCell(id, t, null, null);
        cell = agents.putIfAbsent(id, fresh); // a concurrent spawn may still win
        if (cell == null) {
          activated(fresh);
          cell = fresh;
        }
      }
      mine.cell.complete(cell);
      return cell;
    } catch (RuntimeException | Error ex) {
      mine.cell.completeExceptionally(ex);
      throw ex;
    } finally {
      activating.remove(id, mine);
    }
  }

  /** A lazy activation in progress: the thread calling the factory, and the cell it produces. */
  private static final class Activation {
    final Thread owner;
    final CompletableFuture<AgentCell> cell = new CompletableFuture<>();

    Activation(Thread owner) {
      this.owner = owner;
    }

    AgentCell await(AgentId id) {
      if (owner == Thread.currentThread()) {
        throw new IllegalStateException(
            "the factory of agent type '"
                + id.type()
                + "' sent a message to "
                + id
                + " while creating it; send from onStart instead");
      }
      try {
        return cell.join();
      } catch (CompletionException ex) {
        throw new IllegalStateException(
            "activating " + id + " failed: " + ex.getCause(), ex.getCause());
      }
    }
  }

  /** Forgets a stopping cell, so the next send to its id activates a fresh agent. */
  void removeCell(AgentCell cell) {
    if (agents.remove(cell.id, cell) && cell.type.spec.unboundedMailbox()) {
      unboundedAgents.decrement();
    }
    if (cell.swarm != null) {
      Set<AgentId> members = swarms.get(cell.swarm);
      if (members != null) {
        members.remove(cell.id);
      }
    }
  }

  /**
   * Unregisters the agent type {@code type}, so that messages to it are dead-lettered as for a type
   * never registered (RELIABLE ones stay in the journal until it is registered again) and it can be
   * registered again. Only a type with no live agents can go: stop them first. False when no such
   * type is registered.
   *
   * @throws IllegalStateException when agents of the type are live
   */
  public boolean unregister(String type) {
    Objects.requireNonNull(type, "type");
    RegisteredType r = types.get(type);
    if (r == null) {
      return false;
    }
    List<AgentId> live = liveAgentsOf(type);
    if (!live.isEmpty()) {
      throw new IllegalStateException(
          "agent type '"
              + type
              + "' still has "
              + live.size()
              + " live agent(s), e.g. "
              + live.getFirst()
              + " (fix: stop them with runtime.stop(id) first, then unregister)");
    }
    return types.remove(type, r);
  }

  private List<AgentId> liveAgentsOf(String type) {
    List<AgentId> live = new ArrayList<>();
    for (AgentCell c : agents.values()) {
      if (c.id.type().equals(type) && !c.isStopped()) {
        live.add(c.id);
      }
    }
    return live;
  }

  /** The settings this runtime was built with. */
  public RuntimeSettings settings() {
    return settings;
  }

  /** A handle to the live agent {@code id}, if there is one. */
  public Optional<AgentRef> lookup(AgentId id) {
    AgentCell cell = agents.get(id);
    return cell == null ? Optional.empty() : Optional.of(new AgentRef(this, id, cell));
  }

  /** A handle to {@code id} that activates the agent lazily on the first send. */
  public AgentRef ref(AgentId id) {
    return new AgentRef(this, Objects.requireNonNull(id, "id"), agents.get(id));
  }

  /** Stops the agent {@code id}; its queued mail goes to dead letters. False if it is not live. */
  public boolean stop(AgentId id) {
    AgentCell cell = agents.get(id);
    if (cell == null) {
      return false;
    }
    cell.stop("stopped by the runtime");
    return true;
  }

  /** The number of live agents. */
  public int liveAgents() {
    return agents.size();
  }

  // ---------------------------------------------------------------- messaging

  // The MessageBus verbs (send, publish, request, forward, broadcasts) are inherited from Sender,
  // which writes them once for the runtime and for every agent's context.

  /**
   * Subscribes agents of {@code agentType} to topics matching {@code pattern}: a publication on
   * {@code (type, source)} goes to agent {@code (agentType, source)}.
   */
  public Subscription subscribe(String pattern, String agentType) {
    AgentId.validateType(agentType);
    return router.add(TopicPattern.parse(pattern), agentType, null);
  }

  /** Subscribes the single agent {@code agent} to topics matching {@code pattern}. */
  public Subscription subscribe(String pattern, AgentId agent) {
    return router.add(TopicPattern.parse(pattern), null, Objects.requireNonNull(agent, "agent"));
  }

  /** The current subscriptions. */
  public List<Subscription> subscriptions() {
    return router.list();
  }

  /**
   * Delivers dead-lettered RELIABLE message {@code id} again, with a fresh attempt count: it moves
   * back to the journal's pending messages and on to its recipient. False when the journal has no
   * such dead letter. Throws {@link IllegalStateException} without a journal.
   */
  public boolean replayDeadLetter(long id) {
    if (reliable == null) {
      throw new IllegalStateException(
          "this runtime has no journal, so it has no durable dead letters to replay");
    }
    return reliable.replay(id);
  }

  /** Reliable messages the recovery at build redelivered (0 without a journal). */
  public long recoveredMessages() {
    return reliable == null ? 0 : reliable.recoveredCount;
  }

  /** The dead-letter log. */
  public DeadLetters deadLetters() {
    return deadLetters;
  }

  /** The registry the runtime's meters are in (see {@link CfnMetrics}). */
  public MeterRegistry meterRegistry() {
    return registry;
  }

  /**
   * The id of a RELIABLE message: one at a time from the shared counter, so that reliable ids
   * increase in the order they are taken across all threads. The journal keys its rows by id; ids
   * from per-thread blocks would scatter each group commit's rows over as many B-tree pages as
   * there are sending threads (measured: 300 pages written per commit of 134 messages with 256
   * senders). One contended increment is nothing beside the fsync a reliable send waits for.
   */
  long nextReliableId() {
    return ids.incrementAndGet();
  }

  long nextId() {
    Carrier.CarrierThread ct = Carrier.current(carriers);
    if (ct != null) {
      if (ct.nextId == ct.idLimit) {
        ct.idLimit = ids.addAndGet(ID_BLOCK) + 1;
        ct.nextId = ct.idLimit - ID_BLOCK;
      }
      return ct.nextId++;
    }
    long[] block = idBlock.get(); // {next, limit}
    if (block[0] == block[1]) {
      block[1] = ids.addAndGet(ID_BLOCK) + 1;
      block[0] = block[1] - ID_BLOCK;
    }
    return block[0]++;
  }

  /**
   * The creation time for a message sent now: the carrier's recent clock reading for a send from a
   * handler on a carrier (see {@link Carrier.CarrierThread#clock}), else {@link System#nanoTime()}.
   */
  private long stamp(boolean internal) {
    if (internal) {
      Carrier.CarrierThread ct = Carrier.current(carriers);
      if (ct != null) {
        return ct.clock;
      }
    }
    return System.nanoTime();
  }

  private static String typeOf(Object payload) {
    return payload == null ? "null" : payload.getClass().getName();
  }

  /** A plain message: point-to-point, NORMAL, BEST_EFFORT, no headers (the hot path). */
  private Envelope plain(AgentId sender, AgentId to, Object payload, boolean internal) {
    return new Envelope(
        nextId(),
        typeOf(payload),
        sender,
        to,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.BEST_EFFORT,
        Map.of(),
        payload,
        stamp(internal));
  }

  void sendFrom(AgentId sender, AgentId to, Object payload, boolean internal) {
    Objects.requireNonNull(to, "to");
    deliverTo(plain(sender, to, payload, internal), internal);
  }

  void sendFrom(AgentId sender, Envelope.Builder message, boolean internal) {
    Objects.requireNonNull(message, "message");
    long id = message.delivery == DeliveryMode.RELIABLE ? nextReliableId() : nextId();
    route(message.build(id, sender), internal);
  }

  void tell(AgentId sender, AgentRef ref, Object payload, boolean internal) {
    Envelope e = plain(sender, ref.id(), payload, internal);
    AgentCell cell = ref.cell();
    if (cell == null) {
      if (state == TERMINATED) {
        refuseAfterShutdown(e, internal);
      } else {
        deadLetter(e, DeadLetter.Reason.NO_SUCH_AGENT_TYPE, noType(ref.id()));
      }
      return;
    }
    enqueue(cell, e, internal);
  }

  private void route(Envelope e, boolean internal) {
    if (e.delivery() == DeliveryMode.RELIABLE) {
      if (reliable == null) {
        throw new IllegalStateException(
            "RELIABLE delivery needs a durable journal and this runtime has none; send it"
                + " BEST_EFFORT or configure one with AgentRuntime.builder().journal(...)"
                + " (cfn-store's SqliteJournal)");
      }
      if (state != RUNNING && (!internal || state == TERMINATED)) {
        throw new IllegalStateException(
            "the runtime is shutting down; no more messages are accepted");
      }
      reliable.send(e);
      return;
    }
    if (e.topic() != null) {
      publishEnvelope(e, internal);
    } else if (e.isReply()) {
      completeReply(e);
    } else {
      deliverTo(e, internal);
    }
  }

  private void deliverTo(Envelope e, boolean internal) {
    AgentCell cell = cellFor(e.recipient());
    if (cell == null) {
      if (state == TERMINATED) {
        refuseAfterShutdown(e, internal);
      } else {
        deadLetter(e, DeadLetter.Reason.NO_SUCH_AGENT_TYPE, noType(e.recipient()));
      }
      return;
    }
    enqueue(cell, e, internal);
  }

  private static String noType(AgentId id) {
    return "no agent type '" + id.type() + "' is registered for " + id;
  }

  private void refuseAfterShutdown(Envelope e, boolean internal) {
    if (!internal) {
      throw new IllegalStateException("the runtime has shut down; no more messages are accepted");
    }
    deadLetter(e, DeadLetter.Reason.SHUTDOWN, "sent after the runtime shut down");
  }

  /** Offers {@code e} to {@code cell}'s mailbox, applying its overflow policy. */
  private void enqueue(AgentCell cell, Envelope e, boolean internal) {
    // Count before the state check and the offer: see shutdown(Duration) for why.
    accepted.increment();
    int s = state;
    if (s != RUNNING && (!internal || s == TERMINATED)) {
      finishedElsewhere.increment();
      refuseAfterShutdown(e, internal);
      return;
    }
    if (cell.isStopped()) {
      AgentCell again = cellFor(cell.id);
      if (again != null) {
        cell = again;
      }
    }
    Mailbox mb = cell.mailbox();
    if (!mb.offer(e)) {
      overflow(cell, mb, e);
    }
    cell.schedule();
  }

  private void overflow(AgentCell cell, Mailbox mb, Envelope e) {
    AgentType spec = cell.type.spec;
    switch (spec.overflow()) {
      case REJECT -> reject(cell, mb, e, "the policy is REJECT");
      case DROP_OLDEST -> {
        do {
          Envelope old = mb.dropOldest(e.priority());
          if (old != null) {
            dropped.increment();
            deadLetterQueued(
                old, DeadLetter.Reason.DROPPED_OLDEST, "dropped to make room in " + cell.id);
          }
        } while (!mb.offer(e));
      }
      case BLOCK -> {
        long deadline = System.nanoTime() + spec.sendDeadline().toNanos();
        long pause = 1_000;
        int spins = 0;
        while (!mb.offer(e)) {
          cell.schedule();
          long left = deadline - System.nanoTime();
          if (left <= 0 || state == TERMINATED) {
            reject(cell, mb, e, "waited " + spec.sendDeadline() + " for space");
          }
          if (spins++ < 100) {
            Thread.onSpinWait();
          } else {
            LockSupport.parkNanos(Math.min(pause, left));
            pause = Math.min(pause * 2, 1_000_000);
          }
        }
      }
    }
  }

  private void reject(AgentCell cell, Mailbox mb, Envelope e, String detail) {
    finishedElsewhere.increment();
    rejections.increment();
    throw new MailboxFullException(cell.id, mb.capacity(), detail);
  }

  private void publishEnvelope(Envelope e, boolean internal) {
    if (state == TERMINATED) {
      refuseAfterShutdown(e, internal);
      return;
    }
    TopicRouter.Entry[] subs = router.match(e.topic().type());
    if (subs.length == 0) {
      if (!e.topic().type().startsWith("cfn.")) {
        deadLetter(e, DeadLetter.Reason.NO_SUBSCRIBERS, "no subscription matches " + e.topic());
      }
      return;
    }
    RuntimeException first = null;
    for (TopicRouter.Entry sub : subs) {
      AgentId target = sub.target(e.topic());
      AgentCell cell = cellFor(target);
      if (cell == null) {
        deadLetter(e, DeadLetter.Reason.NO_SUCH_AGENT_TYPE, noType(target));
        continue;
      }
      try {
        enqueue(cell, e, internal);
      } catch (MailboxFullException ex) {
        if (first == null) {
          first = ex;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /**
   * Sends a request; {@code cell} is the recipient's cell when the caller already holds it (an
   * {@link AgentRef}), else null and the id is looked up.
   */
  CompletableFuture<Envelope> request(
      AgentId sender,
      AgentId to,
      AgentCell cell,
      Object payload,
      Duration timeout,
      boolean internal) {
    Objects.requireNonNull(to, "to");
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("request timeout must be positive, was " + timeout);
    }
    long id = nextId();
    CompletableFuture<Envelope> future = new CompletableFuture<>();
    pending.put(id, future);
    try {
      ScheduledFuture<?> expiry =
          timer.schedule(
              () -> {
                if (pending.remove(id, future)) {
                  future.completeExceptionally(
                      new TimeoutException("no reply from " + to + " within " + timeout));
                }
              },
              timeout.toNanos(),
              TimeUnit.NANOSECONDS);
      future.whenComplete((r, x) -> expiry.cancel(false));
    } catch (RejectedExecutionException ex) {
      // The timer stops only once the runtime has terminated, so the delivery below is refused
      // and fails the future like any send after shutdown; no timeout is needed.
    }
    Envelope e =
        new Envelope(
            id,
            typeOf(payload),
            sender,
            to,
            null,
            id,
            Priority.NORMAL,
            DeliveryMode.BEST_EFFORT,
            Map.of(),
            payload,
            System.nanoTime());
    try {
      if (cell != null && !cell.isStopped()) {
        enqueue(cell, e, internal);
      } else {
        deliverTo(e, internal);
      }
    } catch (RuntimeException ex) {
      pending.remove(id, future);
      future.completeExceptionally(ex);
    }
    return future;
  }

  /**
   * Passes {@code m} on to {@code to} unchanged but for its recipient: same id, sender and
   * correlation, so a request stays a request and the agent that finally replies completes the
   * original requester's future.
   */
  void forward(Envelope m, AgentId to, boolean internal) {
    Objects.requireNonNull(m, "message");
    Objects.requireNonNull(to, "to");
    if (m.delivery() == DeliveryMode.RELIABLE) {
      throw new IllegalArgumentException(
          "RELIABLE message "
              + m.id()
              + " cannot be forwarded: it is acknowledged when its handler returns (fix: send a new"
              + " RELIABLE message, or ctx.effects().send(...) to pass it on exactly once)");
    }
    if (m.isReply()) {
      throw new IllegalArgumentException(
          "message "
              + m.id()
              + " is a reply; it completed its requester's future and cannot be forwarded (fix:"
              + " send its payload on with send(...))");
    }
    deliverTo(
        new Envelope(
            m.id(),
            m.type(),
            m.sender(),
            to,
            null,
            m.correlationId(),
            m.priority(),
            DeliveryMode.BEST_EFFORT,
            m.headers(),
            m.payload(),
            stamp(internal)),
        internal);
  }

  void reply(AgentId from, Envelope request, Object payload) {
    Objects.requireNonNull(request, "request");
    if (!request.isRequest()) {
      throw new IllegalStateException(
          "message "
              + request.id()
              + " of type '"
              + request.type()
              + "' is not a request; only messages sent with request(...) can be replied to"
              + " (fix: reply to the request itself, or answer this one with send(...))");
    }
    if (!from.equals(request.recipient())) {
      throw new IllegalStateException(
          "agent "
              + from
              + " cannot reply to request "
              + request.id()
              + ": it was delivered to "
              + request.recipient()
              + " (fix: reply from the agent that received it, or forward(request, "
              + from
              + ") so that this agent answers it)");
    }
    Envelope r =
        new Envelope(
            nextId(),
            typeOf(payload),
            from,
            request.sender(),
            null,
            request.correlationId(),
            request.priority(),
            DeliveryMode.BEST_EFFORT,
            REPLY_HEADERS,
            payload,
            System.nanoTime());
    completeReply(r);
  }

  private void completeReply(Envelope r) {
    CompletableFuture<Envelope> f = pending.remove(r.correlationId());
    if (f == null) {
      deadLetter(
          r,
          DeadLetter.Reason.LATE_REPLY,
          "request " + r.correlationId() + " timed out or was already answered");
      return;
    }
    f.complete(r);
  }

  int broadcastToType(AgentId sender, String agentType, Object payload, boolean internal) {
    AgentId.validateType(agentType);
    List<AgentId> targets = new ArrayList<>();
    for (AgentCell c : agents.values()) {
      if (c.id.type().equals(agentType) && !c.isStopped()) {
        targets.add(c.id);
      }
    }
    return broadcast(sender, targets, payload, internal);
  }

  int broadcastToSwarm(AgentId sender, String swarm, Object payload, boolean internal) {
    Set<AgentId> members = swarms.get(swarm);
    return members == null ? 0 : broadcast(sender, List.copyOf(members), payload, internal);
  }

  private int broadcast(AgentId sender, List<AgentId> targets, Object payload, boolean internal) {
    int n = 0;
    for (AgentId to : targets) {
      AgentCell cell = agents.get(to);
      if (cell != null) {
        sendFrom(sender, to, payload, internal);
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- internal events

  void deadLetter(Envelope e, DeadLetter.Reason reason, String detail) {
    deadLetters.add(e, reason, detail);
    deadLetterCounters.get(reason).increment();
    if (e.isRequest()) {
      CompletableFuture<Envelope> f = pending.remove(e.correlationId());
      if (f != null) {
        f.completeExceptionally(new UndeliverableException(reason, detail));
      }
    }
  }

  /** Dead-letters a message that had been accepted into a mailbox. */
  void deadLetterQueued(Envelope e, DeadLetter.Reason reason, String detail) {
    finishedElsewhere.increment();
    deadLetter(e, reason, detail);
  }

  ReliableDelivery reliable() {
    return reliable;
  }

  boolean isTerminated() {
    return state == TERMINATED;
  }

  boolean isRegistered(String type) {
    return types.containsKey(type);
  }

  /** Offers a journaled message to {@code cell}'s mailbox; false when it is full. */
  boolean offerReliable(AgentCell cell, Envelope e) {
    accepted.increment();
    if (state == TERMINATED) {
      finishedElsewhere.increment();
      return true; // stays in the journal for the next runtime
    }
    if (!cell.mailbox().offer(e)) {
      finishedElsewhere.increment();
      return false;
    }
    cell.schedule();
    return true;
  }

  /** An accepted message that ends without a handler call and without a dead letter. */
  void finishedWithoutHandler() {
    finishedElsewhere.increment();
  }

  void handlerFailed() {
    handlerFailures.increment();
  }

  void restarted() {
    restarts.increment();
  }

  ScheduledThreadPoolExecutor timer() {
    return timer;
  }

  void lifecycle(AgentId agent, LifecycleEvent.Kind kind, String detail) {
    String topic = kind.topic();
    if (router.match(topic).length == 0) {
      return;
    }
    LifecycleEvent event = new LifecycleEvent(agent, kind, detail, Instant.now());
    try {
      sendFrom(SYSTEM, Envelope.on(new TopicId(topic, agent.toString())).payload(event), true);
    } catch (RuntimeException ex) {
      log.warn("could not publish {} event for {}: {}", kind, agent, ex.toString());
    }
  }

  // ---------------------------------------------------------------- metrics support

  long acceptedCount() {
    return accepted.sum();
  }

  long deliveredCount() {
    long n = virtual.delivered.sum();
    for (Carrier c : carriers) {
      n += c.delivered.get();
    }
    return n;
  }

  /** Messages accepted and not yet handled or otherwise finished. */
  long queuedCount() {
    long done = deliveredCount() + finishedElsewhere.sum();
    return Math.max(0, accepted.sum() - done);
  }

  Carrier[] carriers() {
    return carriers;
  }

  long unboundedMailboxAgents() {
    return unboundedAgents.sum();
  }

  // ---------------------------------------------------------------- shutdown

  private void requireAccepting() {
    if (state != RUNNING) {
      throw new IllegalStateException("the runtime is shutting down; no agents can be spawned");
    }
  }

  /**
   * Stops accepting messages from outside, lets the agents handle everything already accepted (and
   * what they send each other meanwhile), then stops them. If the deadline passes first, the
   * messages still queued go to the dead-letter log with reason {@code SHUTDOWN}, counted in the
   * report: nothing accepted disappears unaccounted.
   *
   * <p>Drain detection: every message is counted as accepted before it is offered to a mailbox and
   * as finished after its handler returns (or when it is rejected, dropped or dead-lettered). The
   * check reads the finished count, then the accepted count: if they are equal, nothing accepted by
   * then is pending, and no handler is running (a running handler's message is not yet finished),
   * so nothing inside can send more. A sender outside counts its message before reading the state,
   * so it either sees the shutdown and is refused, or is counted.
   */
  public synchronized ShutdownReport shutdown(Duration deadline) {
    if (shutdownReport != null) {
      return shutdownReport;
    }
    AgentCell caller = AgentCell.running();
    if (caller != null && caller.type.runtime == this) {
      throw new IllegalStateException(
          "agent "
              + caller.id
              + " called shutdown from its handler; shutdown waits for every handler, its own"
              + " included (fix: shut the runtime down from outside it, e.g. from the thread that"
              + " built it)");
    }
    long start = System.nanoTime();
    long end = start + Objects.requireNonNull(deadline, "deadline").toNanos();
    state = DRAINING;
    boolean drained = false;
    int stableChecks = 0;
    while (true) {
      if (isQuiet()) {
        if (++stableChecks >= 2) {
          drained = true;
          break;
        }
      } else {
        stableChecks = 0;
      }
      if (System.nanoTime() - end >= 0) {
        break;
      }
      LockSupport.parkNanos(200_000);
    }
    state = TERMINATED;
    for (Carrier c : carriers) {
      c.stop();
    }
    for (Carrier c : carriers) {
      try {
        c.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    virtual.shutdown();
    long left = 0;
    for (AgentCell cell : agents.values()) {
      left += cell.drainTo(DeadLetter.Reason.SHUTDOWN, this);
    }
    for (AgentCell cell : agents.values()) {
      cell.shutdownStop();
    }
    agents.clear();
    unboundedAgents.reset();
    for (CompletableFuture<Envelope> f : pending.values()) {
      f.completeExceptionally(new IllegalStateException("the runtime shut down before a reply"));
    }
    pending.clear();
    timer.shutdownNow();
    if (reliable != null) {
      reliable.journal().close(); // drains acknowledgements still queued for commit
    }
    ShutdownReport report =
        new ShutdownReport(drained, left, Duration.ofNanos(System.nanoTime() - start));
    if (!drained) {
      log.warn(
          "shutdown deadline {} passed; {} queued messages moved to dead letters", deadline, left);
    }
    shutdownReport = report;
    return report;
  }

  private boolean isQuiet() {
    long finished = deliveredCount() + finishedElsewhere.sum();
    if (finished != accepted.sum()) {
      return false;
    }
    for (Carrier c : carriers) {
      if (!c.isIdle()) {
        return false;
      }
    }
    return virtual.isIdle();
  }

  /** Shuts down with a 30-second deadline. */
  @Override
  public void close() {
    shutdown(Duration.ofSeconds(30));
  }

  /** Configures a runtime; every setter validates at once and names the fix. */
  public static final class Builder {
    private int carriers = Runtime.getRuntime().availableProcessors();
    private int throughput = 64;
    private IdleStrategy idle = IdleStrategy.DEFAULT;
    private MeterRegistry registry;
    private int latencySampleEvery = 16;
    private int deadLetterWindow = 1000;
    private String name = "cfn";
    private boolean jvmMetrics = true;
    private Journal journal;
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private final List<AgentType> types = new ArrayList<>();

    private Builder() {}

    /**
     * A durable journal for RELIABLE messages. The runtime owns it from then on: at build it
     * redelivers every unacknowledged message (after registering the {@link #register} types), and
     * it closes the journal at shutdown.
     */
    public Builder journal(Journal journal) {
      this.journal = Objects.requireNonNull(journal, "journal");
      return this;
    }

    /** How failed RELIABLE messages are retried (default {@link RetryPolicy#DEFAULT}). */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retry = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Registers a type before recovery runs, so recovered messages find their agents at once. */
    public Builder register(AgentType type) {
      types.add(Objects.requireNonNull(type, "type"));
      return this;
    }

    /** Carrier threads for non-blocking agents (default: one per core). */
    public Builder carriers(int n) {
      if (n < 1 || n > 1024) {
        throw new IllegalArgumentException("carriers must be between 1 and 1024, was " + n);
      }
      this.carriers = n;
      return this;
    }

    /** Default messages per agent per turn (default 64); higher is faster, lower is fairer. */
    public Builder throughput(int messagesPerTurn) {
      if (messagesPerTurn < 1) {
        throw new IllegalArgumentException("throughput must be 1 or more, was " + messagesPerTurn);
      }
      this.throughput = messagesPerTurn;
      return this;
    }

    /** What idle carriers do (default {@link IdleStrategy#DEFAULT}). */
    public Builder idleStrategy(IdleStrategy strategy) {
      this.idle = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** The Micrometer registry for the runtime's meters (default: a private simple registry). */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Record the latency of one message in {@code n} (a power of two; default 16). */
    public Builder latencySampleEvery(int n) {
      if (n < 1 || Integer.bitCount(n) != 1) {
        throw new IllegalArgumentException("latencySampleEvery must be a power of two, was " + n);
      }
      this.latencySampleEvery = n;
      return this;
    }

    /** How many recent dead letters to keep in memory (default 1000). */
    public Builder deadLetterWindow(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("deadLetterWindow must be 0 or more, was " + n);
      }
      this.deadLetterWindow = n;
      return this;
    }

    /** Prefix of the runtime's thread names (default {@code cfn}). */
    public Builder name(String name) {
      AgentId.validateType(name);
      this.name = name;
      return this;
    }

    /** Whether to register JVM heap and process CPU meters (default true). */
    public Builder jvmMetrics(boolean enabled) {
      this.jvmMetrics = enabled;
      return this;
    }

    /** Starts the runtime's carrier threads and returns it. */
    public AgentRuntime build() {
      return new AgentRuntime(this);
    }
  }
}
