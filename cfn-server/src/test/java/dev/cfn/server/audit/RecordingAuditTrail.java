package dev.cfn.server.audit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A test double of {@link AuditTrail}: keeps every event, in order, for assertions. */
public final class RecordingAuditTrail implements AuditTrail {
  private final List<AuditEvent> events = new CopyOnWriteArrayList<>();

  @Override
  public void record(AuditEvent event) {
    events.add(event);
  }

  /** Every event recorded so far. */
  public List<AuditEvent> events() {
    return List.copyOf(events);
  }

  /** The events of {@code kind}. */
  public List<AuditEvent> of(AuditEvent.Kind kind) {
    return events.stream().filter(e -> e.kind() == kind).toList();
  }

  /** Forgets what was recorded. */
  public void clear() {
    events.clear();
  }
}
