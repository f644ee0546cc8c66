package dev.cfn.core;

/**
 * The names of the meters a runtime registers in its Micrometer registry. Every value comes from
 * the real message path.
 */
public final class CfnMetrics {
  private CfnMetrics() {}

  /**
   * Counter: messages offered to mailboxes (sends, publications, broadcasts, one per recipient),
   * including those then refused by a full mailbox ({@link #MAILBOX_REJECTIONS}) or a shutdown.
   */
  public static final String MESSAGES_SENT = "cfn.messages.sent";

  /** Counter: messages whose handler has returned (or thrown). */
  public static final String MESSAGES_DELIVERED = "cfn.messages.delivered";

  /**
   * Gauges tagged {@code quantile} (0.5, 0.95, 0.99, 0.999), in seconds: message creation to
   * handler completion, over the messages delivered since the previous refresh (at most once a
   * second). One message in {@link AgentRuntime.Builder#latencySampleEvery(int)} is timed, per
   * dispatcher thread, into HdrHistograms. Messages sent by handlers are timed from their {@link
   * Envelope#createdNanos()}, which may be early by up to 8 of the sender's handler calls.
   */
  public static final String MESSAGE_LATENCY = "cfn.message.latency";

  /** Gauge, seconds: the largest sampled latency since the previous refresh. */
  public static final String MESSAGE_LATENCY_MAX = "cfn.message.latency.max";

  /** Counter: messages whose latency was sampled. */
  public static final String MESSAGE_LATENCY_COUNT = "cfn.message.latency.count";

  /** Gauge: messages waiting in all mailboxes. */
  public static final String MAILBOX_SIZE = "cfn.mailbox.size";

  /** Gauge: live agents whose mailbox is unbounded ({@link AgentType.Builder#unboundedMailbox}). */
  public static final String MAILBOX_UNBOUNDED = "cfn.mailbox.unbounded";

  /** Gauge: live agents. */
  public static final String AGENTS_LIVE = "cfn.agents.live";

  /** Gauge, tagged {@code carrier}: fraction of time the carrier ran agents since the last read. */
  public static final String DISPATCHER_UTILIZATION = "cfn.dispatcher.utilization";

  /**
   * Counter: times an idle carrier found itself preempted while spinning (the operating system gave
   * its core to another thread for more than 50 µs between two spin passes), a sign of an
   * oversubscribed machine; each one cuts that carrier's spin budget (see {@link IdleStrategy}).
   */
  public static final String CARRIER_PREEMPTIONS = "cfn.carrier.preemptions";

  /** Counter: handler invocations that threw. */
  public static final String HANDLER_FAILURES = "cfn.handler.failures";

  /** Counter, tagged {@code reason}: dead letters. */
  public static final String DEAD_LETTERS = "cfn.deadletters";

  /** Counter: sends refused with {@link MailboxFullException}. */
  public static final String MAILBOX_REJECTIONS = "cfn.mailbox.rejections";

  /** Counter: messages dropped under {@link OverflowPolicy#DROP_OLDEST}. */
  public static final String MAILBOX_DROPPED = "cfn.mailbox.dropped";

  /** Counter: agent restarts by supervision. */
  public static final String AGENT_RESTARTS = "cfn.agent.restarts";

  /** Gauge: open remote connections (0 for a purely in-process runtime). */
  public static final String CONNECTIONS = "cfn.connections";

  /** Gauge, seconds: how long the last recovery from the journal took. */
  public static final String RECOVERY_SECONDS = "cfn.recovery.seconds";

  /** Gauge: messages the last recovery redelivered. */
  public static final String RECOVERY_MESSAGES = "cfn.recovery.messages";

  /** Counter: reliable messages acknowledged (their effects committed). */
  public static final String RELIABLE_ACKNOWLEDGED = "cfn.reliable.acknowledged";

  /** Counter: reliable redeliveries (after a failure, a full mailbox or a stopped agent). */
  public static final String RELIABLE_REDELIVERIES = "cfn.reliable.redeliveries";

  /**
   * Counter: damaged pending records the journal set aside in its quarantine instead of delivering
   * them ({@code cfn store quarantine list} shows them).
   */
  public static final String RELIABLE_QUARANTINED = "cfn.reliable.quarantined";

  /** Gauge: resident set size of the process in bytes (Linux; NaN elsewhere). */
  public static final String PROCESS_MEMORY_RSS = "cfn.process.memory.rss";
}
