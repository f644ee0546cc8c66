package dev.cfn.core.spi;

import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import java.util.Objects;

/**
 * A change a handler commits together with the acknowledgement of the {@link DeliveryMode#RELIABLE}
 * message it handles: all of them or none, exactly once per message. Built through {@link Effects}.
 *
 * <p>The state table holds text values. The typed values of {@link Effects} are encodings of that
 * text: a counter is a decimal {@code long} ({@link Increment}), bytes are Base64 (RFC 4648, with
 * padding) and JSON is its validated text, all written with {@link Put}. {@link Increment} and
 * {@link CompareAndSet} are evaluated by the journal inside the acknowledging transaction, against
 * the value committed at that moment.
 */
public sealed interface Effect
    permits Effect.Put,
        Effect.Delete,
        Effect.Send,
        Effect.Increment,
        Effect.CompareAndSet,
        Effect.RecordCall {

  /**
   * Sets {@code key} to {@code value} in the agent's namespace of the journal's state table.
   *
   * @param namespace the agent id, as a string
   * @param key the key
   * @param value the value
   */
  record Put(String namespace, String key, String value) implements Effect {
    /** Validates the parts. */
    public Put {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /**
   * Removes {@code key} from the agent's namespace.
   *
   * @param namespace the agent id, as a string
   * @param key the key
   */
  record Delete(String namespace, String key) implements Effect {
    /** Validates the parts. */
    public Delete {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Sends a RELIABLE message once the acknowledgement commits (the outbox).
   *
   * @param envelope the message to journal in the same transaction
   */
  record Send(Envelope envelope) implements Effect {
    /** Validates the message. */
    public Send {
      Objects.requireNonNull(envelope, "envelope");
    }
  }

  /**
   * Adds {@code delta} to the counter {@code key} (a decimal {@code long}; a missing key counts as
   * 0). The journal fails the whole acknowledgement (nothing applied, the message stays pending)
   * when the key holds text that is not a decimal {@code long} or the sum overflows.
   *
   * @param namespace the agent id, as a string
   * @param key the key
   * @param delta what to add, negative to subtract
   */
  record Increment(String namespace, String key, long delta) implements Effect {
    /** Validates the parts. */
    public Increment {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Sets {@code key} to {@code value} only if it holds {@code expected} when the acknowledgement
   * commits (null: only if the key is absent). When it does not, the journal fails the whole
   * acknowledgement: nothing is applied, the message stays pending and is handled again, and its
   * handler then sees the value that won.
   *
   * @param namespace the agent id, as a string
   * @param key the key
   * @param expected the value the key must hold, or null for "absent"
   * @param value the new value
   */
  record CompareAndSet(String namespace, String key, String expected, String value)
      implements Effect {
    /** Validates the parts. */
    public CompareAndSet {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /**
   * Records {@code result} as the outcome of the call named {@code key} (a model call the handler
   * made, say) in the journal's call records, so that the call is found instead of made again by
   * whoever asks the journal for {@code key} later ({@link Journal#findCall}). The first record of
   * a key wins: a key that already has one keeps it. Kept for the journal's retention period. Only
   * journals that {@linkplain Journal#recordsCalls() record calls} are given this effect.
   *
   * @param key the call's idempotency key
   * @param result what the call returned, as the caller encodes it (JSON for cfn-ai)
   */
  record RecordCall(String key, String result) implements Effect {
    /** Validates the parts. */
    public RecordCall {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(result, "result");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("a call record's key must not be empty");
      }
    }
  }
}
