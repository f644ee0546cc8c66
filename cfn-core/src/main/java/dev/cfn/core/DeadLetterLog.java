package dev.cfn.core;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-memory dead-letter log: a counter per reason and a bounded window of the most recent
 * letters. Every letter is logged at DEBUG; the first of each reason also at WARN, so a
 * misconfiguration shows up without flooding the log.
 */
final class DeadLetterLog implements DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetterLog.class);

  private final Map<DeadLetter.Reason, LongAdder> counts = new EnumMap<>(DeadLetter.Reason.class);
  private final Map<DeliveryMode, LongAdder> byMode = new EnumMap<>(DeliveryMode.class);
  private final ArrayDeque<DeadLetter> recent;
  private final int window;

  DeadLetterLog(int window) {
    if (window < 0) {
      throw new IllegalArgumentException("dead-letter window must be 0 or more, was " + window);
    }
    this.window = window;
    this.recent = new ArrayDeque<>(Math.min(window, 1024));
    for (DeadLetter.Reason r : DeadLetter.Reason.values()) {
      counts.put(r, new LongAdder());
    }
    for (DeliveryMode m : DeliveryMode.values()) {
      byMode.put(m, new LongAdder());
    }
  }

  void add(Envelope envelope, DeadLetter.Reason reason, String detail) {
    // The letter joins the window before it is counted, so a reader that sees the count also
    // finds the letter in recent().
    if (window > 0) {
      DeadLetter letter = new DeadLetter(envelope, reason, detail, Instant.now());
      synchronized (recent) {
        if (recent.size() == window) {
          recent.pollFirst();
        }
        recent.addLast(letter);
      }
    }
    byMode.get(envelope.delivery()).increment();
    LongAdder c = counts.get(reason);
    c.increment();
    if (c.sum() == 1) {
      log.warn(
          "dead letter ({}): message {} of type '{}' from {} to {}: {} (further ones at DEBUG)",
          reason,
          envelope.id(),
          envelope.type(),
          envelope.sender(),
          envelope.recipient() != null ? envelope.recipient() : envelope.topic(),
          detail);
    } else if (log.isDebugEnabled()) {
      log.debug("dead letter ({}): message {}: {}", reason, envelope.id(), detail);
    }
  }

  @Override
  public long count() {
    long n = 0;
    for (LongAdder c : counts.values()) {
      n += c.sum();
    }
    return n;
  }

  @Override
  public long count(DeadLetter.Reason reason) {
    return counts.get(reason).sum();
  }

  @Override
  public long count(DeliveryMode mode) {
    return byMode.get(mode).sum();
  }

  @Override
  public List<DeadLetter> recent() {
    synchronized (recent) {
      return List.copyOf(recent);
    }
  }
}
