package dev.cfn.core;

import dev.cfn.core.spi.Journal;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent runtime: registers agent types, spawns agents (explicitly, or lazily on their first
 * message), routes messages between them and shuts down without losing accepted messages.
 *
 * <p>The runtime is a facade: it wires the stages of the message path (validate, admit, route,
 * journal for RELIABLE, enqueue, dispatch, invoke, acknowledge; see the package documentation) and
 * offers registration, lookup, subscriptions and shutdown. The messaging verbs come from {@link
 * MessageBus}. Non-blocking agents run on carrier threads (one per core by default); blocking agent
 * types run each turn on a virtual thread.
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
  /** One shutdown at a time; private, so a caller holding the runtime's monitor cannot block it. */
  private final Object shutdownLock = new Object();

  private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

  /** The sender of messages sent by code outside any agent. */
  public static final AgentId EXTERNAL = new AgentId("external", "caller");

  /** The sender of the runtime's own lifecycle events. */
  public static final AgentId SYSTEM = new AgentId("cfn", "system");

  /** The default {@link Builder#unclaimedReplyRetention}: 7 days. */
  public static final Duration DEFAULT_UNCLAIMED_REPLY_RETENTION = Duration.ofDays(7);

  private final RuntimeSettings settings;
  private final MeterRegistry registry;
  private final Carrier[] carriers;
  private final VirtualDispatcher virtual;
  private final ScheduledThreadPoolExecutor timer;
  // RELIABLE appends of handlers on carriers wait for their fsync here, not on the carrier.
  private final ExecutorService appends;
  private final DeadLetterLog deadLetterLog;
  private final TopicRouter router = new TopicRouter();
  private final Admit admit = new Admit();
  private final Replies replies;
  private final Directory directory;
  private final JournalAppend journal; // null without a journal
  private final ReliableLedger ledger; // null without a journal
  private final SwarmRules swarmRules;
  private final Validate validate;
  private final Stages stages;
  private volatile ShutdownReport shutdownReport;
  private final LatencySampler latency;

  private AgentRuntime(Builder b) {
    super(EXTERNAL, false);
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
    this.registry = b.registry != null ? b.registry : new SimpleMeterRegistry();
    LatencySampler sampler = new LatencySampler(b.latencySampleEvery, b.carriers);
    this.latency = sampler;
    this.carriers = new Carrier[b.carriers];
    AtomicInteger spinning = new AtomicInteger();
    int maxSpinning = Math.max(1, b.carriers / 2);
    for (int i = 0; i < carriers.length; i++) {
      carriers[i] = new Carrier(i, b.idle, sampler, b.name + "-carrier-", spinning, maxSpinning);
    }
    this.virtual = new VirtualDispatcher(sampler, b.name + "-vt-");
    this.timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, b.name + "-timer"));
    timer.setRemoveOnCancelPolicy(true);
    this.appends =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name(b.name + "-append-", 0).factory());
    this.deadLetterLog = new DeadLetterLog(b.deadLetterWindow);

    // The message path, wired from its end to its entrance (see package-info.java).
    Ids ids = new Ids(carriers);
    this.replies = new Replies(b.name);
    DeadLetterSink deadLetters = new DeadLetterSink(deadLetterLog, replies, admit, registry);
    Lifecycle lifecycle = new Lifecycle(router, ids);
    this.directory = new Directory(carriers, virtual, admit, lifecycle);
    Enqueue enqueue = new Enqueue(carriers, admit, directory, deadLetters, timer, registry);
    ReliableLedger ledger = b.journal == null ? null : new ReliableLedger();
    this.ledger = ledger;
    this.journal =
        b.journal == null
            ? null
            : new JournalAppend(
                b.journal,
                ledger,
                directory,
                enqueue,
                admit,
                b.retry,
                timer,
                appends,
                new ReliableReplies(replies, b.journal, ledger, timer, b.unclaimedReplyRetention),
                b.earlyDelivery);
    Acknowledge acknowledge =
        b.journal == null
            ? null
            : new Acknowledge(b.journal, ledger, journal, deadLetters, b.retry);
    this.swarmRules = new SwarmRules(directory);
    Route route =
        new Route(directory, router, replies, deadLetters, admit, journal, enqueue, swarmRules);
    lifecycle.bind(route);
    this.validate = new Validate(ids, route, directory, replies);
    Invoke invoke = new Invoke(deadLetters, lifecycle, acknowledge, ids, registry, swarmRules);
    this.stages =
        new Stages(validate, invoke, directory, lifecycle, deadLetters, journal, timer, this);

    RuntimeMeters.bind(this, registry, b.jvmMetrics, sampler);
    if (ledger != null) {
      RuntimeMeters.bindReliable(ledger, registry);
    }
    if (b.journal != null) {
      RuntimeMeters.bindQuarantine(b.journal, registry);
    }
    for (Carrier c : carriers) {
      c.start(carriers);
    }
    for (AgentType t : b.types) {
      register(t);
    }
    if (journal != null) {
      ids.startAbove(b.journal.highestId());
      journal.recover();
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  Validate path() {
    return validate;
  }

  Directory directory() {
    return directory;
  }

  /** The requests waiting for a reply (for tests of its bookkeeping). */
  Replies replies() {
    return replies;
  }

  /** A builder with defaults: one carrier per core, the default idle strategy. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- registration and lifecycle

  /** Registers an agent type; throws if a type with that name is already registered. */
  public AgentRuntime register(AgentType type) {
    Objects.requireNonNull(type, "type");
    directory.register(new RegisteredType(type, stages, settings.throughput()));
    if (type.unboundedMailbox()) {
      log.warn(
          "agent type '{}' has an unbounded mailbox: a sender faster than its agents grows it until"
              + " the heap runs out; watch {} and prefer a bounded mailbox",
          type.name(),
          CfnMetrics.MAILBOX_SIZE);
    }
    if (journal != null) {
      journal.typeRegistered(type.name());
    }
    return this;
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
    return directory.unregister(Objects.requireNonNull(type, "type"));
  }

  /**
   * True when an agent type named {@code type} is registered, so messages to it can be delivered.
   */
  public boolean isRegistered(String type) {
    return directory.isRegistered(Objects.requireNonNull(type, "type"));
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
    return new AgentRef(this, directory, id, directory.spawn(id, swarm, agent));
  }

  /**
   * Makes the live agent {@code id} a member of {@code swarm} at run time (as {@link
   * #spawn(AgentId, String)} does at spawn), for {@link #broadcastToSwarm} and the swarm's {@link
   * SwarmRule}. An agent belongs to at most one swarm; it stays a member until it leaves or stops.
   *
   * @throws IllegalArgumentException when {@code id} is not live
   * @throws IllegalStateException when it is a member of another swarm
   */
  public void joinSwarm(AgentId id, String swarm) {
    directory.join(Objects.requireNonNull(id, "id"), Objects.requireNonNull(swarm, "swarm"));
  }

  /** Takes the live agent {@code id} out of its swarm; false when it is in none or not live. */
  public boolean leaveSwarm(AgentId id) {
    return directory.leave(Objects.requireNonNull(id, "id"));
  }

  /**
   * Enforces {@code rule} on every message between two members of {@code swarm} from now on (see
   * {@link SwarmRule}); a later call replaces it, and {@code null} removes it.
   */
  public void enforce(String swarm, SwarmRule rule) {
    AgentId.validateKey(Objects.requireNonNull(swarm, "swarm"));
    swarmRules.put(swarm, rule);
  }

  /** A handle to the live agent {@code id}, if there is one. */
  public Optional<AgentRef> lookup(AgentId id) {
    AgentCell cell = directory.live(id);
    return cell == null ? Optional.empty() : Optional.of(new AgentRef(this, directory, id, cell));
  }

  /** A handle to {@code id} that activates the agent lazily on the first send. */
  public AgentRef ref(AgentId id) {
    Objects.requireNonNull(id, "id");
    return new AgentRef(this, directory, id, directory.live(id));
  }

  /** Stops the agent {@code id}; its queued mail goes to dead letters. False if it is not live. */
  public boolean stop(AgentId id) {
    AgentCell cell = directory.live(id);
    if (cell == null) {
      return false;
    }
    cell.stop("stopped by the runtime");
    return true;
  }

  /** The number of live agents. */
  public int liveAgents() {
    return directory.size();
  }

  /** The settings this runtime was built with. */
  public RuntimeSettings settings() {
    return settings;
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
   * True when a publication on a topic of type {@code topicType} would reach a subscriber now (one
   * cached lookup). A publisher of frequent events nobody may be listening to (a task graph's
   * transitions) asks first and skips building them; subscriptions made later see the events
   * published after them, as always.
   */
  public boolean hasSubscribers(String topicType) {
    return router.match(Objects.requireNonNull(topicType, "topicType")).length > 0;
  }

  /**
   * Delivers dead-lettered RELIABLE message {@code id} again, with a fresh attempt count: it moves
   * back to the journal's pending messages and on to its recipient. False when the journal has no
   * such dead letter. Throws {@link IllegalStateException} without a journal.
   */
  public boolean replayDeadLetter(long id) {
    if (journal == null) {
      throw new IllegalStateException(
          "this runtime has no journal, so it has no durable dead letters to replay");
    }
    return journal.replay(id);
  }

  /**
   * Reliable messages in flight now: journaled (or being journaled) and neither acknowledged nor
   * dead-lettered. It counts messages waiting in mailboxes, being handled, waiting for a retry or
   * for their agent type to be registered, and replies on their way to a requester; not replies
   * held for an external caller to claim ({@link #awaitReply}). 0 without a journal. After a
   * restart it starts at what recovery found.
   */
  public int pendingCount() {
    return ledger == null ? 0 : ledger.pending.size();
  }

  /**
   * Waits until the runtime is drained: no reliable message is pending ({@link #pendingCount()} is
   * 0) and every message accepted so far, BEST_EFFORT ones included, has been handled or otherwise
   * finished, with no handler running; seen twice in a row, so that a message sent by the last
   * handler is not missed. Unlike {@link #shutdown}, it changes nothing: messages are still
   * accepted meanwhile, and a steady stream of them keeps it waiting. A reliable message waiting
   * for a retry or for its type to be registered keeps it waiting too.
   *
   * @return true when drained, false when {@code timeout} passed first
   * @throws IllegalStateException when called from a handler of this runtime (it would wait for
   *     itself)
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public boolean awaitDrained(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    AgentCell caller = AgentCell.running();
    if (caller != null && caller.path() == validate) {
      throw new IllegalStateException(
          "agent "
              + caller.id
              + " called awaitDrained from its handler, which would wait for itself (fix: wait"
              + " from outside the runtime)");
    }
    long end = System.nanoTime() + timeout.toNanos();
    int stableChecks = 0;
    while (true) {
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while waiting for the runtime to drain");
      }
      if (pendingCount() == 0 && isQuiet()) {
        if (++stableChecks >= 2) {
          return true;
        }
      } else {
        stableChecks = 0;
      }
      if (System.nanoTime() - end >= 0) {
        return false;
      }
      LockSupport.parkNanos(200_000);
    }
  }

  /**
   * The reply to the RELIABLE request {@code requestId} (the id {@link #request(Envelope.Builder,
   * Duration)} journaled it under, found in the reply's {@link Envelope#correlationId()}), for a
   * caller outside the runtime re-attaching, after a restart or a timeout: completes at once when
   * the reply is already held, else when it arrives; fails with {@link
   * java.util.concurrent.TimeoutException} after {@code timeout}. A reply is claimed once: the
   * first waiter receives it and it is acknowledged. A reply nobody claims expires {@link
   * Builder#unclaimedReplyRetention} after it was made (7 days by default); waiting for it then
   * times out.
   *
   * @throws IllegalStateException without a journal
   */
  public java.util.concurrent.CompletableFuture<Envelope> awaitReply(
      long requestId, Duration timeout) {
    if (journal == null) {
      throw new IllegalStateException(
          "this runtime has no journal, so it has no RELIABLE requests to await replies for");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return journal.replies().attach(requestId, null, timeout);
  }

  /**
   * The reply to the RELIABLE request sent with idempotency key {@code idempotencyKey}, as {@link
   * #awaitReply(long, Duration)}: how a caller that knows only its key re-attaches after a restart.
   * (Sending the request again with the same key does the same, and also sends it if it was never
   * stored.)
   *
   * @throws IllegalStateException without a journal
   * @throws IllegalArgumentException when the journal holds no such key (never sent, or expired)
   */
  public java.util.concurrent.CompletableFuture<Envelope> awaitReply(
      String idempotencyKey, Duration timeout) {
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    if (journal == null) {
      throw new IllegalStateException(
          "this runtime has no journal, so it has no RELIABLE requests to await replies for");
    }
    long id =
        journal
            .journal()
            .idempotencyKeyId(idempotencyKey)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "the journal holds no message with idempotency key '"
                            + idempotencyKey
                            + "' (never sent, or older than the retention period); send the"
                            + " request again with that key"));
    return awaitReply(id, timeout);
  }

  /**
   * Replies to RELIABLE requests from outside the runtime that are held, not yet claimed with
   * {@link #awaitReply} (0 without a journal). Each stays pending in the journal until claimed, or
   * until it expires ({@link Builder#unclaimedReplyRetention}).
   */
  public int unclaimedReplies() {
    return journal == null ? 0 : journal.replies().unclaimedCount();
  }

  /** Reliable messages the recovery at build redelivered (0 without a journal). */
  public long recoveredMessages() {
    return journal == null ? 0 : journal.recoveredCount();
  }

  /** The dead-letter log. */
  public DeadLetters deadLetters() {
    return deadLetterLog;
  }

  /**
   * How long messages wait before their handler: from the message's creation (just before it is
   * validated and enqueued; for RELIABLE ones, before the journal append) to the start of its
   * handler, as the {@code percentile} (0 to 100) of the messages timed over the latest interval
   * (at least a second, refreshed on read, shared with the {@link CfnMetrics#MESSAGE_LATENCY}
   * gauges), in seconds; 0 when none was timed. One message in {@link
   * Builder#latencySampleEvery(int)} is timed.
   */
  public double waitPercentileSeconds(double percentile) {
    return latency.waitPercentileSeconds(percentile);
  }

  /**
   * Time the carriers have spent running agents since they started, in nanoseconds, summed over the
   * carriers: between two reads, its growth over the elapsed time times {@link
   * RuntimeSettings#carriers()} is the carrier pool's utilization.
   */
  public long carrierBusyNanos() {
    long now = System.nanoTime();
    long busy = 0;
    for (Carrier c : carriers) {
      busy += c.busyNanos(now);
    }
    return busy;
  }

  /** Messages whose wait ({@link #waitPercentileSeconds}) was timed since the runtime started. */
  public long waitSampleCount() {
    return latency.waitCount();
  }

  /** The sum of the timed waits ({@link #waitPercentileSeconds}) since the start, in seconds. */
  public double waitSumSeconds() {
    return latency.waitSumSeconds();
  }

  /** The registry the runtime's meters are in (see {@link CfnMetrics}). */
  public MeterRegistry meterRegistry() {
    return registry;
  }

  // ---------------------------------------------------------------- metrics support

  /**
   * Messages accepted so far: those counted by senders off the carriers plus each carrier's own
   * count (see {@link Carrier#countAccepted}). Read after the finished counts by the drain.
   */
  long acceptedCount() {
    long n = admit.accepted.sum();
    for (Carrier c : carriers) {
      n += c.accepted.get();
    }
    return n;
  }

  long deliveredCount() {
    long n = virtual.delivered.sum();
    for (Carrier c : carriers) {
      n += c.delivered.get() + c.deliveredElsewhere.sum();
    }
    return n;
  }

  /** Times the carriers found themselves preempted while spinning (see {@link SpinBudget}). */
  long preemptionCount() {
    long n = 0;
    for (Carrier c : carriers) {
      n += c.preemptions();
    }
    return n;
  }

  /** Messages accepted and not yet handled or otherwise finished. */
  long queuedCount() {
    long done = deliveredCount() + admit.finishedElsewhere.sum();
    return Math.max(0, acceptedCount() - done);
  }

  Carrier[] carriers() {
    return carriers;
  }

  long unboundedMailboxAgents() {
    return directory.unboundedMailboxes();
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stops accepting messages from outside, lets the agents handle everything already accepted (and
   * what they send each other meanwhile), then stops them. If the deadline passes first, the
   * messages still queued go to the dead-letter log with reason {@code SHUTDOWN}, counted in the
   * report: nothing accepted disappears unaccounted.
   *
   * <p>Drain detection (see {@link Admit}): the check reads the finished count, then the accepted
   * count: if they are equal, nothing accepted by then is pending, and no handler is running (a
   * running handler's message is not yet finished), so nothing inside can send more.
   */
  public ShutdownReport shutdown(Duration deadline) {
    synchronized (shutdownLock) {
      return shutdownOnce(deadline);
    }
  }

  private ShutdownReport shutdownOnce(Duration deadline) {
    if (shutdownReport != null) {
      return shutdownReport;
    }
    AgentCell caller = AgentCell.running();
    if (caller != null && caller.path() == validate) {
      throw new IllegalStateException(
          "agent "
              + caller.id
              + " called shutdown from its handler; shutdown waits for every handler, its own"
              + " included (fix: shut the runtime down from outside it, e.g. from the thread that"
              + " built it)");
    }
    long start = System.nanoTime();
    long end = start + Objects.requireNonNull(deadline, "deadline").toNanos();
    admit.draining();
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
    admit.terminated();
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
    for (AgentCell cell : directory.cells()) {
      left += cell.drainTo(DeadLetter.Reason.SHUTDOWN);
      for (Runnable waiting : cell.takeRoomWaiters()) {
        if (waiting instanceof Enqueue.RoomWait deferred) {
          left += deferred.abandon();
        } else {
          waiting.run(); // a blocked sender outside: it wakes, sees the shutdown and is refused
        }
      }
    }
    for (AgentCell cell : directory.cells()) {
      cell.shutdownStop();
    }
    directory.clear();
    replies.failAll();
    timer.shutdownNow();
    appends.shutdown(); // an append under way finishes; the journal closes after it below
    try {
      appends.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (journal != null) {
      journal.journal().close(); // drains acknowledgements still queued for commit
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
    long finished = deliveredCount() + admit.finishedElsewhere.sum();
    if (finished != acceptedCount()) {
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
    private boolean earlyDelivery;
    private Duration unclaimedReplyRetention = DEFAULT_UNCLAIMED_REPLY_RETENTION;
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

    /**
     * Whether a RELIABLE message sent from outside the runtime without an idempotency key may reach
     * its handler while its append is still on its way to disk (default false: a message is
     * delivered once durable). With it, the handler runs during the fsync, and if that append then
     * fails (a full disk, an I/O error) nothing of that handling commits (no acknowledgement, no
     * {@link Effects}, no outbox, no reply) but what the handler did outside the journal happened,
     * as when a crash interrupts a handler; see {@link DeliveryMode}. It saves at most the
     * handler's time per message, on a caller that waits for each message in turn. Needs a journal
     * whose {@link Journal#appendQueued} orders acknowledgements after appends (cfn's do).
     */
    public Builder earlyDelivery(boolean enabled) {
      this.earlyDelivery = enabled;
      return this;
    }

    /**
     * How long the reply to a RELIABLE request from outside the runtime is held for its caller to
     * claim ({@link AgentRuntime#awaitReply}) when no future waited for it (default {@link
     * #DEFAULT_UNCLAIMED_REPLY_RETENTION}, 7 days, as the journals' idempotency keys). It counts
     * from the reply's creation, kept in the journal, so it holds across restarts: once it passed,
     * the reply is acknowledged without being delivered (it leaves the journal and {@link
     * AgentRuntime#unclaimedReplies()}) and waiting for it times out. Keep it no longer than the
     * journal's key retention if callers re-attach by key.
     *
     * @throws IllegalArgumentException unless positive and at most 3,650 days
     */
    public Builder unclaimedReplyRetention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isNegative()
          || retention.isZero()
          || retention.compareTo(Duration.ofDays(3650)) > 0) {
        throw new IllegalArgumentException(
            "unclaimedReplyRetention must be positive and at most 3650 days, was "
                + retention
                + " (default "
                + DEFAULT_UNCLAIMED_REPLY_RETENTION
                + ")");
      }
      this.unclaimedReplyRetention = retention;
      return this;
    }

    /** Starts the runtime's carrier threads and returns it. */
    public AgentRuntime build() {
      return new AgentRuntime(this);
    }
  }
}
