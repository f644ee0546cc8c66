package dev.cfn.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where messages that cannot be delivered end, from any stage: the dead-letter log, its counter per
 * reason, and, for a request, the requester's future (failed with {@link UndeliverableException} at
 * once rather than at its timeout).
 */
final class DeadLetterSink {
  private final DeadLetterLog log;
  private final Replies replies;
  private final Admit admit;
  private final Map<DeadLetter.Reason, Counter> counters = new EnumMap<>(DeadLetter.Reason.class);

  DeadLetterSink(DeadLetterLog log, Replies replies, Admit admit, MeterRegistry registry) {
    this.log = log;
    this.replies = replies;
    this.admit = admit;
    for (DeadLetter.Reason r : DeadLetter.Reason.values()) {
      counters.put(
          r, Counter.builder(CfnMetrics.DEAD_LETTERS).tag("reason", r.name()).register(registry));
    }
  }

  void add(Envelope e, DeadLetter.Reason reason, String detail) {
    log.add(e, reason, detail);
    counters.get(reason).increment();
    if (e.isRequest()) {
      replies.fail(e.correlationId(), new UndeliverableException(reason, detail));
    }
  }

  /** Dead-letters a message that had been accepted into a mailbox. */
  void queued(Envelope e, DeadLetter.Reason reason, String detail) {
    admit.finishedElsewhere.increment();
    add(e, reason, detail);
  }
}
