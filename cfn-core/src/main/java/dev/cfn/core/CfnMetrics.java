package dev.cfn.core;

/**
 * The names of the meters a runtime registers in its Micrometer registry. Every value comes from
 * the real message path.
 */
public final class CfnMetrics {
  private CfnMetrics() {}

  /** Counter: messages accepted into mailboxes (sends, publications, broadcasts). */
  public static final String MESSAGES_SENT = "cfn.messages.sent";

  /** Counter: messages whose handler has returned (or thrown). */
  public static final String MESSAGES_DELIVERED = "cfn.messages.delivered";

  /**
   * Timer with P50/P95/P99/P99.9: creation to handler start. Sampled one message in {@link
   * AgentRuntime.Builder#latencySampleEvery(int)} per dispatcher thread.
   */
  public static final String MESSAGE_LATENCY = "cfn.message.latency";

  /** Gauge: messages waiting in all mailboxes. */
  public static final String MAILBOX_SIZE = "cfn.mailbox.size";

  /** Gauge: live agents. */
  public static final String AGENTS_LIVE = "cfn.agents.live";

  /** Gauge, tagged {@code carrier}: fraction of time the carrier ran agents since the last read. */
  public static final String DISPATCHER_UTILIZATION = "cfn.dispatcher.utilization";

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

  /** Gauge: resident set size of the process in bytes (Linux; NaN elsewhere). */
  public static final String PROCESS_MEMORY_RSS = "cfn.process.memory.rss";
}
