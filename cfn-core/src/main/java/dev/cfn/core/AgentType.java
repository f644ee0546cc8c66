package dev.cfn.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How agents of one type are made and run: the factory, the mailbox bound and overflow policy, the
 * supervision strategy, whether handlers block, and the dispatcher throughput. Register it with
 * {@link AgentRuntime#register(AgentType)}.
 */
public final class AgentType {

  /** Default mailbox capacity per priority lane. */
  public static final int DEFAULT_MAILBOX_CAPACITY = 1024;

  /**
   * The lane capacity of an {@link Builder#unboundedMailbox() unbounded} mailbox: 2^30 messages,
   * more than any heap holds, so the heap is the real bound.
   */
  public static final int UNBOUNDED = 1 << 30;

  /** Default restart strategy: at most 10 restarts a minute, backoff 10 ms doubling to 1 s. */
  public static final SupervisionStrategy DEFAULT_SUPERVISION =
      SupervisionStrategy.restart(
          10, Duration.ofMinutes(1), Duration.ofMillis(10), Duration.ofSeconds(1));

  private final String name;
  private final AgentFactory factory;
  private final int mailboxCapacity;
  private final OverflowPolicy overflow;
  private final Duration sendDeadline;
  private final SupervisionStrategy supervision;
  private final boolean blocking;
  private final int throughput;
  private final int agingLimit;
  private final boolean unboundedMailbox;
  private final int reliableBatch;

  private AgentType(Builder b) {
    this.name = b.name;
    this.factory = b.factory;
    this.mailboxCapacity = b.mailboxCapacity;
    this.overflow = b.overflow;
    this.sendDeadline = b.sendDeadline;
    this.supervision = b.supervision;
    this.blocking = b.blocking;
    this.throughput = b.throughput;
    this.agingLimit = b.agingLimit;
    this.unboundedMailbox = b.unboundedMailbox;
    this.reliableBatch = b.reliableBatch;
  }

  /** A type with default settings. */
  public static AgentType of(String name, AgentFactory factory) {
    return builder(name, factory).build();
  }

  /** Starts a builder for type {@code name} whose instances {@code factory} creates. */
  public static Builder builder(String name, AgentFactory factory) {
    return new Builder(name, factory);
  }

  /** The type name, as in {@link AgentId#type()}. */
  public String name() {
    return name;
  }

  AgentFactory factory() {
    return factory;
  }

  /**
   * Capacity of each priority lane of the mailbox (a power of two); {@link #UNBOUNDED} when the
   * mailbox is {@link Builder#unboundedMailbox() unbounded}.
   */
  public int mailboxCapacity() {
    return mailboxCapacity;
  }

  /** True when the mailbox was made unbounded with {@link Builder#unboundedMailbox()}. */
  public boolean unboundedMailbox() {
    return unboundedMailbox;
  }

  /** What a send does when a lane is full. */
  public OverflowPolicy overflow() {
    return overflow;
  }

  /** How long a {@link OverflowPolicy#BLOCK} send waits for space. */
  public Duration sendDeadline() {
    return sendDeadline;
  }

  /** What happens when a handler throws. */
  public SupervisionStrategy supervision() {
    return supervision;
  }

  /** True when handlers run on virtual threads because they may block. */
  public boolean blocking() {
    return blocking;
  }

  /** Messages per agent per turn, or 0 for the runtime's default. */
  public int throughput() {
    return throughput;
  }

  /** How many higher-priority messages a waiting lower-priority message lets pass at most. */
  public int agingLimit() {
    return agingLimit;
  }

  /**
   * The most RELIABLE messages an agent of this type handles in one turn and acknowledges in one
   * journal transaction; 1 (the default) for one message per transaction. See {@link
   * Builder#reliableBatch(int)}.
   */
  public int reliableBatch() {
    return reliableBatch;
  }

  /** Builds an {@link AgentType}; every setter validates at once and names the fix. */
  public static final class Builder {
    private final String name;
    private final AgentFactory factory;
    private int mailboxCapacity = DEFAULT_MAILBOX_CAPACITY;
    private OverflowPolicy overflow = OverflowPolicy.BLOCK;
    private Duration sendDeadline = Duration.ofSeconds(5);
    private SupervisionStrategy supervision = DEFAULT_SUPERVISION;
    private boolean blocking;
    private int throughput;
    private int agingLimit = 16;
    private boolean unboundedMailbox;
    private int reliableBatch = 1;

    private Builder(String name, AgentFactory factory) {
      AgentId.validateType(name);
      if (AgentRuntime.EXTERNAL.type().equals(name)) {
        throw new IllegalArgumentException(
            "agent type '" + name + "' is reserved for callers outside the runtime");
      }
      this.name = name;
      this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * Bounds each priority lane at {@code capacity} messages: a power of two from 4 to 2^30. The
     * lane starts with room for 2 and grows as needed, so idle agents stay small.
     */
    public Builder mailboxCapacity(int capacity) {
      if (capacity < 4 || capacity > (1 << 30) || Integer.bitCount(capacity) != 1) {
        throw new IllegalArgumentException(
            "mailbox capacity "
                + capacity
                + " is not a power of two between 4 and 2^30; use e.g. "
                + Integer.highestOneBit(Math.max(4, Math.min(capacity, 1 << 30)) * 2 - 1));
      }
      this.mailboxCapacity = capacity;
      this.unboundedMailbox = false;
      return this;
    }

    /**
     * Makes the mailbox unbounded (each lane may grow to {@link #UNBOUNDED} messages), as Pekko's
     * default mailbox is: a send never blocks, is never rejected and never drops.
     *
     * <p><b>Risky:</b> nothing slows a sender that is faster than the agent, so its mailbox grows
     * until the heap runs out ({@link OutOfMemoryError}); the overflow policy never applies. Use it
     * only where the producer is bounded by other means (a request-reply protocol, a fixed batch)
     * and watch {@link CfnMetrics#MAILBOX_SIZE}. The runtime logs a warning when such a type is
     * registered and counts the live agents with one in {@link CfnMetrics#MAILBOX_UNBOUNDED}. A
     * lane's array grows by doubling and does not shrink while the agent lives.
     */
    public Builder unboundedMailbox() {
      this.mailboxCapacity = UNBOUNDED;
      this.unboundedMailbox = true;
      return this;
    }

    /** Sets the overflow policy (default {@link OverflowPolicy#BLOCK}). */
    public Builder overflow(OverflowPolicy policy) {
      this.overflow = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Sets how long a blocked send waits (default 5 s). */
    public Builder sendDeadline(Duration deadline) {
      if (deadline == null || deadline.isNegative()) {
        throw new IllegalArgumentException("send deadline must be zero or positive");
      }
      this.sendDeadline = deadline;
      return this;
    }

    /** Sets the supervision strategy (default {@link AgentType#DEFAULT_SUPERVISION}). */
    public Builder supervision(SupervisionStrategy strategy) {
      this.supervision = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** Runs handlers on virtual threads, for agents that block on I/O. */
    public Builder blocking() {
      this.blocking = true;
      return this;
    }

    /** Messages an agent handles per turn before its carrier serves another agent. */
    public Builder throughput(int messagesPerTurn) {
      if (messagesPerTurn < 1) {
        throw new IllegalArgumentException(
            "throughput is " + messagesPerTurn + " messages per turn; use 1 or more");
      }
      this.throughput = messagesPerTurn;
      return this;
    }

    /** Higher-priority messages a waiting lower lane lets pass before it is served (default 16). */
    public Builder agingLimit(int limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("aging limit is " + limit + "; use 1 or more");
      }
      this.agingLimit = limit;
      return this;
    }

    /** The most messages {@link #reliableBatch(int)} accepts: 4,096. */
    public static final int MAX_RELIABLE_BATCH = 4096;

    /**
     * Lets an agent take up to {@code max} queued RELIABLE messages in one turn and acknowledge
     * them together, with all their effects, in one journal transaction (one commit and one fsync
     * for the lot instead of one each). Meant for a busy stateful agent whose every message changes
     * its state, which otherwise waits for a commit per message (a graph's run coordinator).
     *
     * <p>Exactly-once holds as for single messages: the handlers of one turn share one {@link
     * Effects} (each sees what the earlier ones wrote), nothing is sent before the commit, and a
     * crash before it redelivers every message of the turn. When a handler throws, or the
     * transaction fails (a message of the turn was acknowledged before, a refused effect, a full
     * disk), nothing of the turn is acknowledged: the failing message takes the usual retry path
     * and the others are handled again, one per turn, by a fresh instance from the factory (its
     * memory may hold what was never committed); so the agent must keep in memory only what it can
     * reload from its committed state, as after a restart. (An agent given to {@code spawn} has no
     * factory and keeps its instance: it must reload by itself.) The batch also ends at a
     * BEST_EFFORT message, at a handler that left a send waiting, and when the mailbox is empty: a
     * batch never waits for more messages. Needs a journal that {@linkplain
     * dev.cfn.core.spi.Journal#acknowledgesTogether acknowledges together} (cfn's do); with
     * another, messages are acknowledged one at a time.
     */
    public Builder reliableBatch(int max) {
      if (max < 1 || max > MAX_RELIABLE_BATCH) {
        throw new IllegalArgumentException(
            "reliable batch is "
                + max
                + " messages; use 1 (no batching) to "
                + MAX_RELIABLE_BATCH
                + ", e.g. 256");
      }
      this.reliableBatch = max;
      return this;
    }

    /** The type. */
    public AgentType build() {
      return new AgentType(this);
    }
  }
}
