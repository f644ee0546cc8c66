package dev.cfn.server.audit;

import dev.cfn.store.audit.AuditLog;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's audit events written to cfn-store's append-only, hash-chained {@link AuditLog}
 * ({@code .cfn/audit/audit.log}, checked by {@code cfn audit verify}). Each event is durable when
 * {@link #record} returns, so a route answers only after its audit entry is on disk. An event the
 * log refuses (a full disk, a closed log) is logged at ERROR with the event, and the route goes on:
 * auditing never turns a refusal into a success. The event's kind goes in the entry's details as
 * {@code kind}, its free text as {@code detail}.
 */
public final class StoreAuditTrail implements AuditTrail {
  private static final Logger LOG = LoggerFactory.getLogger("cfn.audit");

  private final AuditLog log;

  /** Writes to {@code log}, which the caller opens and closes. */
  public StoreAuditTrail(AuditLog log) {
    this.log = Objects.requireNonNull(log, "log");
  }

  @Override
  public void record(AuditEvent event) {
    try {
      log.append(toStore(event));
    } catch (RuntimeException e) {
      LOG.error("the audit log refused an event ({}): {}", e.getMessage(), event);
    }
  }

  static dev.cfn.store.audit.AuditEvent toStore(AuditEvent event) {
    Map<String, String> detail = new LinkedHashMap<>();
    detail.put("kind", event.kind().name().toLowerCase(java.util.Locale.ROOT));
    if (!event.detail().isEmpty()) {
      detail.put("detail", clip(event.detail(), 1000));
    }
    return new dev.cfn.store.audit.AuditEvent(
        event.at(),
        clip(event.actor(), 200),
        clip(event.action(), 200),
        "-".equals(event.target()) ? "" : clip(event.target(), 200),
        switch (event.outcome()) {
          case SUCCESS -> dev.cfn.store.audit.AuditEvent.Outcome.SUCCESS;
          case DENIED -> dev.cfn.store.audit.AuditEvent.Outcome.DENIED;
          case FAILED -> dev.cfn.store.audit.AuditEvent.Outcome.FAILURE;
        },
        detail);
  }

  /**
   * At most {@code max} characters, control characters replaced by '?', so that a hostile target or
   * detail (a client chooses some of them) never makes the log refuse the event.
   */
  static String clip(String s, int max) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), max + 1));
    for (int i = 0; i < s.length() && b.length() < max; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    if (s.length() > max) {
      b.append('…');
    }
    return b.toString();
  }
}
