package dev.cfn.flow.swarm;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRef;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Journal;
import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A named group of agents on one runtime, with a {@link Topology} the bus enforces, one {@link
 * Budget} for all its members, task assignment and coordination rounds.
 *
 * <pre>{@code
 * Swarm swarm = Swarm.builder("review", runtime).topology(Topology.AUTO).budget(budget).build();
 * swarm.join(AgentId.of("reviewer", "1"), definition);           // spawned if not live
 * Envelope r = swarm.submit(new Task("review PR 42"), Assignment.capability("review"),
 *     Duration.ofMinutes(5)).join();
 * RoundResult vote = swarm.round("Ship it? yes/no").reduce(Reduce.majority())
 *     .deadline(Duration.ofSeconds(30)).start().join();
 * }</pre>
 *
 * <p><b>Topology.</b> The swarm installs its rule on the runtime ({@link
 * AgentRuntime#enforce(String, dev.cfn.core.SwarmRule)}): a message from one member to another that
 * the topology forbids is refused on the route stage with a {@link dev.cfn.core.SwarmRuleException}
 * naming the rule, counted in {@link SwarmStatus#refused()} (and the meter {@value #REFUSED_METER},
 * tagged with the swarm), and its reason kept among the {@link SwarmStatus#recentRefusals()}. What
 * the swarm itself sends (tasks, rounds) comes from outside the swarm and is not governed.
 *
 * <p><b>Members</b> join and leave while the swarm runs. One agent belongs to one swarm. A member
 * that stops stays on the roster until it leaves; assignment and rounds skip it.
 *
 * <p><b>Budget.</b> Give each member's agent {@link #memberBudget(AgentId)} (a budget whose parent
 * is the swarm's): every model call then checks and charges the swarm's budget too, and {@link
 * #submit} and {@link #round} refuse to start once it is used up.
 *
 * <p><b>Durable.</b> A swarm built with {@link Builder#durable(Journal)} on a runtime with that
 * journal keeps what its members spent and what its topology refused in the journal (the state of
 * the agent {@code cfn-swarm-ledger/NAME}), and a swarm of the same name built again on it after a
 * restart, a crash included, starts from those counts: its budget refuses what would take it over
 * its limits across restarts. Spend is recorded by the members' budgets ({@link #memberBudget}):
 * each charge is journaled for the ledger before it returns, so before the call's answer is used,
 * whatever the task was (best effort or RELIABLE, its answers in a call log or not recorded at
 * all); an answer recorded with a RELIABLE request's acknowledgement has its charge committed in
 * that same acknowledgement. Every call whose answer was recorded or used is counted once after a
 * crash: a call replayed from a call log is not charged again, and a crash between a call's answer
 * and the first commit holding it loses the answer with its spend (the task, delivered again, calls
 * and is charged again: the ledger never counts more calls than the provider billed, and fewer by
 * at most one per task in flight at the crash). A commit that fails without a crash (a full disk)
 * loses no charge: the budget in memory keeps it, and the ledger journals it on its own once the
 * journal takes writes again, so a restart restores the count the budget had. The ledger holds a
 * few totals, not a row per call: it stays the same size however long the swarm runs. What is
 * restored: calls, tokens and the cost the budget's price table gives them; the wall time starts
 * again at the restart. Refusals are stored a moment after they happen (off the bus's route stage):
 * a crash may lose the last few. {@link #deleteLedger()} forgets them, for a name given up.
 *
 * <p>Thread-safe. One swarm object per name per runtime: a second one would replace the first's
 * rule. {@link #close()} removes the rule and takes the members out of the swarm (it does not stop
 * them).
 */
public final class Swarm implements AutoCloseable {
  /** The agent type of the round collectors, registered on the runtime by the first swarm. */
  public static final String ROUND_AGENT_TYPE = "cfn-swarm-round";

  /** The Micrometer counter of refused messages, tagged {@code swarm}. */
  public static final String REFUSED_METER = "cfn.swarm.refused";

  /** How many refusal reasons {@link SwarmStatus#recentRefusals()} keeps. */
  public static final int RECENT_REFUSALS = 10;

  /** How long a round waits for replies unless told otherwise. */
  public static final Duration DEFAULT_ROUND_DEADLINE = Duration.ofMinutes(1);

  private final String name;
  private final AgentRuntime runtime;
  private final Topology topology;
  private final Budget budget;
  private final Layout layout;
  private final Object lock = new Object(); // serializes join, leave and close
  private final ConcurrentHashMap<AgentId, Seat> seats = new ConcurrentHashMap<>();
  private volatile Seat[] roster = new Seat[0]; // join order, replaced on join and leave
  private final AtomicLong turn = new AtomicLong();
  private final AtomicLong rounds = new AtomicLong();
  private final LongAdder refused = new LongAdder();
  private final ArrayDeque<String> recent = new ArrayDeque<>(); // guarded by itself
  private final Counter refusedMeter;
  private volatile boolean closed;
  private volatile ScheduledThreadPoolExecutor timer; // created by the first round
  private final SwarmEvents events;
  private final Ledger ledger; // null unless durable

  /** A member's seat: its handle, what it offers, what it is doing for the swarm. */
  private record Seat(
      AgentId id, AgentRef ref, String type, List<String> capabilities, AtomicInteger inFlight) {
    int load() {
      return ref.metrics().queued() + inFlight.get();
    }

    boolean offers(String capability) {
      if (capability.equalsIgnoreCase(type)) {
        return true;
      }
      for (String c : capabilities) {
        if (c.equalsIgnoreCase(capability)) {
          return true;
        }
      }
      return false;
    }
  }

  private Swarm(Builder b) {
    this.name = b.name;
    this.runtime = b.runtime;
    this.topology = b.topology;
    this.budget = b.budget != null ? b.budget : Budget.builder("swarm " + b.name).build();
    this.layout = new Layout(topology);
    this.events = new SwarmEvents(runtime);
    if (b.journal != null) {
      this.ledger = new Ledger(runtime, b.journal, name, budget);
      Ledger.Restored was = ledger.restore();
      refused.add(was.refused());
      recent.addAll(
          was.recentRefusals()
              .subList(
                  Math.max(0, was.recentRefusals().size() - RECENT_REFUSALS),
                  was.recentRefusals().size()));
    } else {
      this.ledger = null;
    }
    this.refusedMeter =
        Counter.builder(REFUSED_METER)
            .description("messages between members of a swarm that its topology refused")
            .tag("swarm", name)
            .register(runtime.meterRegistry());
    registerRoundType(runtime);
    runtime.enforce(name, this::refusal);
  }

  private static void registerRoundType(AgentRuntime runtime) {
    try {
      runtime.register(
          AgentType.builder(ROUND_AGENT_TYPE, id -> new RoundCollector.LateReplies())
              .mailboxCapacity(1 << 20)
              .build());
    } catch (IllegalStateException alreadyRegistered) {
      // another swarm on this runtime registered it; the factory serves every swarm alike
    }
  }

  /** Starts a swarm named {@code name} (visible ASCII, as an agent key) on {@code runtime}. */
  public static Builder builder(String name, AgentRuntime runtime) {
    return new Builder(name, runtime);
  }

  /** The swarm's name. */
  public String name() {
    return name;
  }

  /** The topology it was built with ({@link SwarmStatus#effective()} resolves AUTO). */
  public Topology topology() {
    return topology;
  }

  /** The swarm's budget, the parent of every {@link #memberBudget}. */
  public Budget budget() {
    return budget;
  }

  /**
   * A budget for {@code member}'s agent, with no limits of its own and the swarm's budget as its
   * parent: its calls are checked against and charged to the swarm's budget, and, in a durable
   * swarm, each charge is journaled for the swarm's ledger before it returns (or committed with the
   * acknowledgement that records the call's answer, {@link Budget#charge(dev.cfn.ai.model.Usage,
   * String, dev.cfn.core.Effects)}).
   */
  public Budget memberBudget(AgentId member) {
    Objects.requireNonNull(member, "member");
    Budget.Builder b =
        Budget.builder("agent " + member + " of swarm " + name)
            .parent(budget)
            .prices(budget.prices());
    if (ledger != null) {
      b.onCharge(ledger.listener());
    }
    return b.build();
  }

  /** True when the swarm keeps its spend and refusals in the journal ({@link Builder#durable}). */
  public boolean durable() {
    return ledger != null;
  }

  /**
   * Deletes what a durable swarm's ledger holds (its spend and refusals), durable when this
   * returns, so that a swarm of this name built later on the journal starts from nothing: for a
   * swarm given up for good. This swarm's own counts in memory are left as they are. Nothing to do
   * for a swarm that is not durable.
   *
   * @throws IllegalStateException when the journal did not commit it in time
   */
  public void deleteLedger() {
    if (ledger == null) {
      return;
    }
    try {
      ledger.clear();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted deleting swarm " + name + "'s ledger", e);
    } catch (Exception e) {
      throw new IllegalStateException(
          "swarm " + name + "'s ledger was not deleted (" + e + "); repeat it", e);
    }
  }

  /**
   * Waits up to {@code timeout} until the refusals counted so far are in the ledger (they are
   * stored a moment after they happen) and the spend charged so far is applied to its totals (it is
   * durable as soon as it is charged, and applied a moment later); returns at once for a swarm that
   * is not durable.
   */
  public void awaitLedger(Duration timeout) throws InterruptedException {
    if (ledger != null) {
      ledger.awaitApplied(timeout);
    }
  }

  // ------------------------------------------------------------------ membership

  /**
   * Adds {@code id} to the swarm, spawning it first if it is not live (its type must be
   * registered). False when it is a member already.
   *
   * @throws IllegalStateException when it belongs to another swarm, or the swarm is closed
   */
  public boolean join(AgentId id) {
    return join(id, null, List.of());
  }

  /** Adds {@code id} with the {@code type} and {@code capabilities} of its agent definition. */
  public boolean join(AgentId id, AgentDefinition definition) {
    Objects.requireNonNull(definition, "definition");
    return join(id, definition.type(), definition.capabilities());
  }

  /**
   * Adds {@code id} offering {@code type} (may be null) and {@code capabilities}, for {@link
   * Assignment#capability(String)}; see {@link #join(AgentId)}.
   */
  public boolean join(AgentId id, String type, Collection<String> capabilities) {
    Objects.requireNonNull(id, "id");
    List<String> caps = List.copyOf(capabilities);
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException(
            "swarm '" + name + "' is closed; build a new one to add " + id);
      }
      if (seats.containsKey(id)) {
        return false;
      }
      layout.add(id); // placed before the bus sees it as a member, so the rule knows it
      try {
        Optional<AgentRef> live = runtime.lookup(id);
        AgentRef ref;
        if (live.isPresent()) {
          runtime.joinSwarm(id, name);
          ref = live.get();
        } else {
          ref = runtime.spawn(id, name);
        }
        Seat seat = new Seat(id, ref, type, caps, new AtomicInteger());
        seats.put(id, seat);
        Seat[] now = roster;
        Seat[] next = Arrays.copyOf(now, now.length + 1);
        next[now.length] = seat;
        roster = next;
      } catch (RuntimeException ex) {
        layout.remove(id);
        throw ex;
      }
    }
    if (events.listened(SwarmEvent.JOINED)) {
      Layout.Node n = layout.node(id);
      if (n != null) {
        events.publish(
            runtime,
            new SwarmEvent.Joined(
                name,
                id.toString(),
                n.role(),
                n.coordinator() == null ? null : n.coordinator().toString(),
                layout.size()));
      }
    }
    return true;
  }

  /** Takes {@code id} out of the swarm (it keeps running); false when it is not a member. */
  public boolean leave(AgentId id) {
    Objects.requireNonNull(id, "id");
    synchronized (lock) {
      Seat seat = seats.remove(id);
      if (seat == null) {
        return false;
      }
      runtime.leaveSwarm(id); // the bus stops asking the rule first, then the layout forgets it
      layout.remove(id);
      List<Seat> next = new ArrayList<>(roster.length);
      for (Seat s : roster) {
        if (s != seat) {
          next.add(s);
        }
      }
      roster = next.toArray(Seat[]::new);
    }
    if (events.listened(SwarmEvent.LEFT)) {
      events.publish(runtime, new SwarmEvent.Left(name, id.toString(), layout.size()));
    }
    return true;
  }

  /** The members, in join order, with their roles and loads. */
  public List<SwarmMember> members() {
    Seat[] r = roster;
    List<SwarmMember> out = new ArrayList<>(r.length);
    for (Seat s : r) {
      Layout.Node n = layout.node(s.id());
      if (n != null) {
        out.add(
            new SwarmMember(
                s.id(),
                n.role(),
                n.coordinator(),
                s.type(),
                s.capabilities(),
                s.inFlight().get(),
                s.ref().metrics().queued()));
      }
    }
    return out;
  }

  /** The member {@code id}'s place, or empty when it is not a member. */
  public Optional<SwarmMember> member(AgentId id) {
    Seat s = seats.get(id);
    Layout.Node n = layout.node(id);
    if (s == null || n == null) {
      return Optional.empty();
    }
    return Optional.of(
        new SwarmMember(
            id,
            n.role(),
            n.coordinator(),
            s.type(),
            s.capabilities(),
            s.inFlight().get(),
            s.ref().metrics().queued()));
  }

  /** A snapshot of the swarm: layout, refusals, rounds, spending. */
  public SwarmStatus status() {
    List<String> reasons;
    synchronized (recent) {
      reasons = List.copyOf(recent);
    }
    int size = layout.size();
    return new SwarmStatus(
        name,
        topology,
        topology.effective(size),
        size,
        layout.lead(),
        layout.coordinators(),
        refused.sum(),
        reasons,
        rounds.get(),
        budget.spent());
  }

  /**
   * True when the topology in force lets member {@code from} message member {@code to} now (what
   * the bus would answer, without counting a refusal): for showing who may talk to whom. False when
   * either is not a member.
   */
  public boolean allows(AgentId from, AgentId to) {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    return seats.containsKey(from) && seats.containsKey(to) && layout.refusal(from, to) == null;
  }

  /** The swarm's rule, as the bus asks it: the layout's verdict, counted when it refuses. */
  private String refusal(AgentId from, AgentId to) {
    String reason = layout.refusal(from, to);
    if (reason != null) {
      refused.increment();
      refusedMeter.increment();
      synchronized (recent) {
        if (recent.size() == RECENT_REFUSALS) {
          recent.removeFirst();
        }
        recent.addLast(reason);
      }
      if (ledger != null) {
        ledger.refused(reason);
      }
      if (events.listened(SwarmEvent.REFUSED)) {
        events.publish(
            runtime,
            new SwarmEvent.Refused(
                name,
                from.toString(),
                to.toString(),
                topology.effective(layout.size()),
                reason,
                refused.sum()));
      }
    }
    return reason;
  }

  // ------------------------------------------------------------------ assignment

  /**
   * The member {@code how} picks now, among the live members.
   *
   * @throws IllegalStateException when the swarm has no live member
   * @throws IllegalArgumentException when no member offers the capability asked for
   */
  public AgentId assign(Assignment how) {
    return pick(Objects.requireNonNull(how, "how")).id();
  }

  /**
   * Sends {@code task} as a request to the member {@code how} picks and returns the reply; the
   * member counts one task in flight until it answers or {@code timeout} passes.
   *
   * @throws dev.cfn.ai.budget.BudgetExhaustedException when the swarm's budget is used up
   */
  public CompletableFuture<Envelope> submit(Object task, Assignment how, Duration timeout) {
    return submit(task, how, timeout, null);
  }

  /**
   * As {@link #submit(Object, Assignment, Duration)}, the request carrying {@code idempotencyKey}
   * (null: none): an agent that records its calls under it ({@code LlmAgent} with a durable call
   * log) answers the same task sent again with the same key from its records, without asking its
   * model again. What makes a supervised run resumable after a crash.
   */
  public CompletableFuture<Envelope> submit(
      Object task, Assignment how, Duration timeout, String idempotencyKey) {
    Objects.requireNonNull(task, "task");
    budget.check();
    Seat seat = pick(Objects.requireNonNull(how, "how"));
    seat.inFlight().incrementAndGet();
    CompletableFuture<Envelope> reply;
    try {
      Envelope.Builder message = Envelope.to(seat.id()).payload(task);
      if (idempotencyKey != null) {
        message.idempotencyKey(idempotencyKey);
      }
      reply = runtime.request(message, timeout);
    } catch (RuntimeException ex) {
      seat.inFlight().decrementAndGet();
      throw ex;
    }
    reply.whenComplete((r, ex) -> seat.inFlight().decrementAndGet());
    return reply;
  }

  /**
   * True when {@code member} is a live member of this swarm offering {@code capability} (its
   * definition lists it or has it as its type, ignoring case): whether a task may stay with the
   * member it was given before, as a task graph's retries do.
   */
  public boolean offers(AgentId member, String capability) {
    Seat s = seats.get(Objects.requireNonNull(member, "member"));
    return s != null && s.ref().isAlive() && s.offers(Objects.requireNonNull(capability));
  }

  /**
   * Counts one task in flight at {@code member} (part of its load for least-loaded picks, and of
   * {@link SwarmMember#inFlight}) until the returned action runs; running it again does nothing.
   * For tasks given to a member other than by {@link #submit}, such as a task graph's attempts. A
   * member that is not in the swarm is not counted (the action does nothing); one that leaves and
   * joins again before the action runs starts its new membership from its own count.
   */
  public Runnable countInFlight(AgentId member) {
    Seat seat = seats.get(Objects.requireNonNull(member, "member"));
    if (seat == null) {
      return () -> {};
    }
    seat.inFlight().incrementAndGet();
    java.util.concurrent.atomic.AtomicBoolean done =
        new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (done.compareAndSet(false, true)) {
        seat.inFlight().decrementAndGet();
      }
    };
  }

  private Seat pick(Assignment how) {
    Seat[] all = live();
    return switch (how) {
      case Assignment.Capability c -> {
        Seat[] able = Arrays.stream(all).filter(s -> s.offers(c.capability())).toArray(Seat[]::new);
        if (able.length == 0) {
          throw new IllegalArgumentException(
              "no live member of swarm '"
                  + name
                  + "' offers capability '"
                  + c.capability()
                  + "'; its members offer "
                  + offered(all)
                  + " (fix: join a member whose definition lists it, or ask for one of these)");
        }
        yield among(able, c.among());
      }
      default -> among(all, how);
    };
  }

  /** The member {@code how} (least-loaded, round-robin or sticky) picks of {@code seats}. */
  private Seat among(Seat[] seats, Assignment how) {
    return switch (how) {
      case Assignment.RoundRobin rr ->
          seats[(int) Math.floorMod(turn.getAndIncrement(), seats.length)];
      case Assignment.Sticky s -> rendezvous(seats, s.key());
      default -> leastLoaded(seats);
    };
  }

  private Seat[] live() {
    Seat[] r = roster;
    int alive = 0;
    for (Seat s : r) {
      if (s.ref().isAlive()) {
        alive++;
      }
    }
    if (alive == r.length && alive > 0) {
      return r;
    }
    if (alive == 0) {
      throw new IllegalStateException(
          "swarm '"
              + name
              + "' has no live member"
              + (r.length == 0 ? "" : " (" + r.length + " on the roster have stopped)")
              + "; join members before assigning tasks");
    }
    Seat[] out = new Seat[alive];
    int i = 0;
    for (Seat s : r) {
      if (s.ref().isAlive()) {
        out[i++] = s;
      }
    }
    return out;
  }

  private Seat leastLoaded(Seat[] among) {
    int start = (int) Math.floorMod(turn.getAndIncrement(), among.length);
    Seat best = null;
    int lowest = Integer.MAX_VALUE;
    for (int k = 0; k < among.length; k++) {
      Seat s = among[(start + k) % among.length];
      int load = s.load();
      if (load < lowest) {
        best = s;
        lowest = load;
      }
    }
    return best;
  }

  /** Highest-random-weight hashing: the member scoring highest for {@code key} wins. */
  private static Seat rendezvous(Seat[] among, String key) {
    long k = hash64(key);
    Seat best = null;
    long top = Long.MIN_VALUE;
    for (Seat s : among) {
      long score = mix64(k ^ hash64(s.id().toString()));
      if (best == null || score > top) {
        best = s;
        top = score;
      }
    }
    return best;
  }

  /** FNV-1a over the UTF-8 bytes: stable across JVMs, unlike String.hashCode's 32 bits. */
  private static long hash64(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** The 64-bit finalizer of MurmurHash3: spreads every input bit over the output. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }

  private static String offered(Seat[] all) {
    TreeSet<String> caps = new TreeSet<>();
    for (Seat s : all) {
      if (s.type() != null) {
        caps.add(s.type().toLowerCase(Locale.ROOT));
      }
      for (String c : s.capabilities()) {
        caps.add(c.toLowerCase(Locale.ROOT));
      }
    }
    return caps.isEmpty() ? "no capabilities" : caps.toString();
  }

  // ------------------------------------------------------------------ rounds

  /** A coordination round sending {@code task} to the members; configure it, then start it. */
  public Round round(Object task) {
    return new Round(Objects.requireNonNull(task, "task"));
  }

  /**
   * One coordination round, before it starts: by default to every live member, {@link
   * Reduce#all()}, and a deadline of {@link Swarm#DEFAULT_ROUND_DEADLINE}.
   */
  public final class Round {
    private final Object task;
    private Reduce reduce = Reduce.all();
    private Duration deadline = DEFAULT_ROUND_DEADLINE;
    private List<AgentId> to;

    private Round(Object task) {
      this.task = task;
    }

    /** How the replies are reduced (default {@link Reduce#all()}). */
    public Round reduce(Reduce reduce) {
      this.reduce = Objects.requireNonNull(reduce, "reduce");
      return this;
    }

    /** How long to wait for replies; what arrived by then is reduced. */
    public Round deadline(Duration deadline) {
      if (deadline == null || deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("a round's deadline must be positive, was " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Asks only {@code members} (each a member of this swarm, asked once however often it is
     * listed) instead of every live member.
     */
    public Round to(Collection<AgentId> members) {
      List<AgentId> list = List.copyOf(new LinkedHashSet<>(members));
      for (AgentId id : list) {
        if (!seats.containsKey(id)) {
          throw new IllegalArgumentException(
              id + " is not a member of swarm '" + name + "' (fix: join it first)");
        }
      }
      this.to = list;
      return this;
    }

    /**
     * Sends the task to the members and returns the result, completed when every member replied, at
     * the first reply under {@link Reduce#first()}, or at the deadline. The future completes on a
     * carrier thread: keep its callbacks short, or continue with an {@code ...Async} method.
     *
     * @throws dev.cfn.ai.budget.BudgetExhaustedException when the swarm's budget is used up
     */
    public CompletableFuture<RoundResult> start() {
      budget.check();
      AgentId[] targets;
      if (to != null) {
        targets = to.toArray(AgentId[]::new);
      } else {
        Seat[] r = roster;
        List<AgentId> ids = new ArrayList<>(r.length);
        for (Seat s : r) {
          if (s.ref().isAlive()) {
            ids.add(s.id());
          }
        }
        targets = ids.toArray(AgentId[]::new);
      }
      double[] weights = null;
      if (reduce instanceof Reduce.Weighted w) {
        weights = new double[targets.length];
        for (int i = 0; i < targets.length; i++) {
          double x = w.weight().applyAsDouble(targets[i]);
          if (!Double.isFinite(x) || x < 0) {
            throw new IllegalArgumentException(
                "the weight of "
                    + targets[i]
                    + " is "
                    + x
                    + "; weights are finite and not negative");
          }
          weights[i] = x;
        }
      }
      ScheduledThreadPoolExecutor deadlines = timer();
      long n = rounds.incrementAndGet();
      AgentId collector = AgentId.of(ROUND_AGENT_TYPE, name + "." + n);
      CompletableFuture<RoundResult> result = new CompletableFuture<>();
      runtime.spawn(
          collector,
          new RoundCollector(
              name, n, targets, weights, task, reduce, deadline.toMillis(), result, events));
      ScheduledFuture<?> timeout =
          deadlines.schedule(
              () -> {
                if (!result.isDone()) {
                  try {
                    runtime.send(collector, RoundCollector.Signal.DEADLINE);
                  } catch (RuntimeException ex) {
                    result.completeExceptionally(ex); // the runtime shut down meanwhile
                  }
                }
              },
              deadline.toNanos(),
              TimeUnit.NANOSECONDS);
      // a round that ends early drops its deadline task, and with it the round's replies
      result.whenComplete((r, ex) -> timeout.cancel(false));
      return result;
    }
  }

  /**
   * The one thread that runs the rounds' deadline tasks, started by the first round: a task only
   * sends its round's collector one message.
   */
  private ScheduledThreadPoolExecutor timer() {
    ScheduledThreadPoolExecutor t = timer;
    if (t != null) {
      return t;
    }
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("swarm '" + name + "' is closed; build a new one");
      }
      if (timer == null) {
        ScheduledThreadPoolExecutor fresh =
            new ScheduledThreadPoolExecutor(
                1,
                r -> {
                  Thread th = new Thread(r, "cfn-swarm-" + name + "-deadlines");
                  th.setDaemon(true);
                  return th;
                });
        fresh.setRemoveOnCancelPolicy(true);
        timer = fresh;
      }
      return timer;
    }
  }

  /**
   * Removes the swarm's rule, takes every member out of the swarm (they keep running) and lets the
   * deadline thread end once the rounds under way have ended.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (timer != null) {
        timer.shutdown(); // deadlines already set still fire; the thread ends after the last
      }
      runtime.enforce(name, null);
      for (Seat s : roster) {
        runtime.leaveSwarm(s.id());
      }
      layout.clear();
      seats.clear();
      roster = new Seat[0];
    }
  }

  @Override
  public String toString() {
    return "Swarm[" + name + ", " + topology + ", " + layout.size() + " members]";
  }

  /** Configures a swarm. */
  public static final class Builder {
    private final String name;
    private final AgentRuntime runtime;
    private Topology topology = Topology.AUTO;
    private Budget budget;
    private Journal journal;

    private Builder(String name, AgentRuntime runtime) {
      this.name = Objects.requireNonNull(name, "name");
      this.runtime = Objects.requireNonNull(runtime, "runtime");
    }

    /** The topology (default {@link Topology#AUTO}). */
    public Builder topology(Topology topology) {
      this.topology = Objects.requireNonNull(topology, "topology");
      return this;
    }

    /** The swarm's budget (default: one without limits, which still counts what is spent). */
    public Builder budget(Budget budget) {
      this.budget = Objects.requireNonNull(budget, "budget");
      return this;
    }

    /**
     * Keeps the swarm's spend and refusals in {@code journal}, which must be the runtime's own
     * journal (its ledger is written by RELIABLE messages and read from the journal), and starts
     * from what it holds for a swarm of this name; see the class comment.
     */
    public Builder durable(Journal journal) {
      this.journal = Objects.requireNonNull(journal, "journal");
      return this;
    }

    /** Builds the swarm and installs its rule on the runtime. */
    public Swarm build() {
      return new Swarm(this);
    }
  }
}
