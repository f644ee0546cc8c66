package dev.cfn.server.mcp;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where every MCP tool call is recorded, allowed or not: who called which tool, the outcome and
 * why. Argument values are never recorded whole (a memory value or a task may hold secrets); a
 * detail may name an agent, a namespace or a key. The server calls {@link #record} once per call,
 * after the call, on the thread that handled it; an implementation must be thread-safe and should
 * not block long. An exception it throws is logged and does not fail the call.
 */
@FunctionalInterface
public interface McpAudit {

  /** Records one tool call. */
  void record(Call call);

  /** An audit that writes each call as one INFO line of the logger {@code cfn.mcp.audit}. */
  static McpAudit log() {
    Logger logger = LoggerFactory.getLogger("cfn.mcp.audit");
    return call ->
        logger.info(
            "{} {} {} {} in {} ms: {}",
            call.at(),
            call.principal(),
            call.tool(),
            call.outcome(),
            call.duration().toMillis(),
            call.detail());
  }

  /** How a call ended. */
  enum Outcome {
    /** The tool ran and answered. */
    DONE,
    /** The tool ran and reported an error (a task that failed, an entry the store refused). */
    FAILED,
    /** The arguments did not match the tool's input schema; nothing ran. */
    INVALID,
    /** The principal may not use the tool; nothing ran. */
    DENIED
  }

  /**
   * One tool call.
   *
   * @param at when it started
   * @param principal who called
   * @param tool the tool's name (as the client sent it, for an unknown tool)
   * @param outcome how it ended
   * @param detail a short summary: the refusal or error, or what was done; never a memory value nor
   *     a task's text
   * @param duration how long it took
   */
  record Call(
      Instant at,
      McpPrincipal principal,
      String tool,
      Outcome outcome,
      String detail,
      Duration duration) {
    /** Requires every value. */
    public Call {
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(principal, "principal");
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(detail, "detail");
      Objects.requireNonNull(duration, "duration");
    }
  }
}
