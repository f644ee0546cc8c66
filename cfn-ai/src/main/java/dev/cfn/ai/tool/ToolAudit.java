package dev.cfn.ai.tool;

import dev.cfn.core.AgentId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record of every tool call an agent asked for, allowed or not: the most recent calls in memory
 * ({@link #recent()}), one SLF4J line each at INFO (logger {@code dev.cfn.ai.tool.ToolAudit}), and
 * the counter {@value #CALLS} tagged {@code agent-type}, {@code tool} and {@code outcome} when a
 * {@link MeterRegistry} is given.
 *
 * <p>Every field of a log line is escaped ({@code \n} and other control characters, see {@code
 * ControlChars}): a call id, tool name or detail holding a line break cannot forge a line.
 *
 * <p>Argument values and result texts are never recorded: they may hold anything the model saw,
 * secrets included. A record says who called what, how it ended, and why in words that name schema
 * keywords, locations or exception types only. Tool names the model invented (denied or unknown)
 * are counted under the tag {@code tool=(unknown)} so that a model cannot grow the meter registry.
 *
 * <p>Thread-safe; one audit may serve every agent's {@link ToolExecutor}.
 */
public final class ToolAudit {
  /** The counter of tool calls. */
  public static final String CALLS = "cfn.tool.calls";

  /** Tool tag of calls whose tool is not registered. */
  static final String UNKNOWN_TOOL = "(unknown)";

  private static final Logger LOG = LoggerFactory.getLogger(ToolAudit.class);
  private static final int DEFAULT_CAPACITY = 1000;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final int capacity;
  private final MeterRegistry meters;
  private final ArrayDeque<Entry> recent = new ArrayDeque<>();

  /** How a call ended. */
  public enum Outcome {
    /** The tool ran and returned a result that is not an error. */
    OK,
    /** The tool ran and failed: it threw, timed out or returned an error result. */
    ERROR,
    /**
     * The agent may not use the tool, so it did not run; or a built-in tool refused what was asked
     * (a workspace path outside, through a link, or to cfn's own files) and did nothing.
     */
    DENIED,
    /** The arguments were not valid (or not JSON), or no such tool exists; it did not run. */
    INVALID;

    /** The tag value: the name in lower case. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One call.
   *
   * @param at when the call was asked for
   * @param agent the calling agent
   * @param callId the model's id of the call
   * @param tool the tool name as the model gave it
   * @param outcome how it ended
   * @param detail why, without argument values: empty for OK
   * @param elapsed from the request to the result
   */
  public record Entry(
      Instant at,
      AgentId agent,
      String callId,
      String tool,
      Outcome outcome,
      String detail,
      Duration elapsed) {

    /** Checks the required parts. */
    public Entry {
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(outcome, "outcome");
      detail = detail == null ? "" : detail;
    }
  }

  /** An audit keeping the last 1000 calls, without metrics. */
  public ToolAudit() {
    this(DEFAULT_CAPACITY, null);
  }

  /**
   * An audit keeping the last 1000 calls and counting every call in {@code meters}, such as the
   * runtime's {@code AgentRuntime.meterRegistry()}.
   *
   * @param meters where to count calls, or null for no metrics
   */
  public ToolAudit(MeterRegistry meters) {
    this(DEFAULT_CAPACITY, meters);
  }

  /**
   * An audit keeping the last {@code capacity} calls and counting every call in {@code meters}.
   *
   * @param meters where to count calls, or null for no metrics
   */
  public ToolAudit(int capacity, MeterRegistry meters) {
    if (capacity < 1) {
      throw new IllegalArgumentException("audit capacity must be 1 or more, got " + capacity);
    }
    this.capacity = capacity;
    this.meters = meters;
  }

  /** Records one call; {@code knownTool} is false when the tool is not registered. */
  void record(Entry entry, boolean knownTool) {
    synchronized (recent) {
      if (recent.size() == capacity) {
        recent.removeFirst();
      }
      recent.addLast(entry);
    }
    String toolTag = knownTool ? entry.tool() : UNKNOWN_TOOL;
    // Every field is escaped: a model-supplied call id or tool name (or anything else) holding a
    // line break must not forge a line of the log.
    String logName =
        NAME.matcher(entry.tool()).matches()
            ? entry.tool()
            : "(malformed name \"" + field(entry.tool()) + "\")";
    String callId = field(String.valueOf(entry.callId()));
    String agent = ControlChars.escape(entry.agent().toString());
    if (entry.detail().isEmpty()) {
      LOG.info(
          "tool call {} by {}: {} -> {} in {} ms",
          callId,
          agent,
          logName,
          entry.outcome().tag(),
          entry.elapsed().toMillis());
    } else {
      LOG.info(
          "tool call {} by {}: {} -> {} in {} ms: {}",
          callId,
          agent,
          logName,
          entry.outcome().tag(),
          entry.elapsed().toMillis(),
          ControlChars.escape(entry.detail()));
    }
    if (meters != null) {
      Counter.builder(CALLS)
          .description("Tool calls asked for by agents, by outcome")
          .tag("agent-type", entry.agent().type())
          .tag("tool", toolTag)
          .tag("outcome", entry.outcome().tag())
          .register(meters)
          .increment();
    }
  }

  /** {@code value} escaped and cut to 200 characters, for one field of a log line. */
  private static String field(String value) {
    String cut = value.length() > 200 ? value.substring(0, 200) + "..." : value;
    return ControlChars.escape(cut);
  }

  /** The recorded calls, oldest first, at most the capacity. */
  public List<Entry> recent() {
    synchronized (recent) {
      return List.copyOf(recent);
    }
  }

  /** The recorded calls of {@code agent}, oldest first. */
  public List<Entry> recent(AgentId agent) {
    List<Entry> mine = new ArrayList<>();
    for (Entry e : recent()) {
      if (e.agent().equals(agent)) {
        mine.add(e);
      }
    }
    return mine;
  }
}
