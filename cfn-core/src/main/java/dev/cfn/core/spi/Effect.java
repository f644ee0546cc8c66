package dev.cfn.core.spi;

import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import java.util.Objects;

/**
 * A change a handler commits together with the acknowledgement of the {@link DeliveryMode#RELIABLE}
 * message it handles: all of them or none, exactly once per message. Built through {@link Effects}.
 */
public sealed interface Effect permits Effect.Put, Effect.Delete, Effect.Send {

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
}
