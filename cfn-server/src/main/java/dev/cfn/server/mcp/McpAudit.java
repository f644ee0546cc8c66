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

  /**
   * An audit that appends each call to cfn-store's hash-chained {@link
   * dev.cfn.store.audit.AuditLog} (action {@code mcp.TOOL}, the principal's name, the outcome, the
   * detail and the duration), durable when the call answers. A call the log refuses is logged at
   * ERROR and still answered.
   */
  static McpAudit store(dev.cfn.store.audit.AuditLog log) {
    java.util.Objects.requireNonNull(log, "log");
    Logger logger = LoggerFactory.getLogger("cfn.mcp.audit");
    return call -> {
      try {
        String detail = call.detail();
        if (detail.length() > 1000) {
          detail = detail.substring(0, 1000) + "…";
        }
        log.append(
            new dev.cfn.store.audit.AuditEvent(
                call.at(),
                call.principal().toString().replaceAll("\\p{Cntrl}", "?"),
                "mcp." + call.tool(),
                "",
                switch (call.outcome()) {
                  case DONE -> dev.cfn.store.audit.AuditEvent.Outcome.SUCCESS;
                  case DENIED, INVALID -> dev.cfn.store.audit.AuditEvent.Outcome.DENIED;
                  case FAILED -> dev.cfn.store.audit.AuditEvent.Outcome.FAILURE;
                },
                java.util.Map.of(
                    "outcome", call.outcome().name().toLowerCase(java.util.Locale.ROOT),
                    "detail", detail.replaceAll("\\p{Cntrl}", " "),
                    "ms", Long.toString(call.duration().toMillis()))));
      } catch (RuntimeException e) {
        logger.error("the audit log refused an MCP call ({}): {}", e.getMessage(), call);
      }
    };
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
