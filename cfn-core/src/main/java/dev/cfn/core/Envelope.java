package dev.cfn.core;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One message on the bus, immutable. Exactly one of {@link #recipient()} (point-to-point) and
 * {@link #topic()} (publish) is set.
 *
 * <p>{@code createdNanos} is {@link System#nanoTime()} at creation: it is what end-to-end latency
 * is measured from, and it cannot jump with the wall clock. For a message sent by a handler on a
 * carrier thread it is the carrier's clock reading taken at most 8 handler calls earlier (a clock
 * read costs as much as a send), so it may be early by that much. {@link #createdAt()} maps it to
 * an instant through an anchor taken once per JVM.
 *
 * @param id unique within this runtime, assigned by the runtime on send
 * @param type what kind of message this is; defaults to the payload's class name
 * @param sender who sent it ({@link AgentRuntime#EXTERNAL} for code outside any agent)
 * @param recipient the addressee of a point-to-point message, else {@code null}
 * @param topic the topic of a publication, else {@code null}
 * @param correlationId links a reply to its request; {@code 0} when there is none
 * @param priority the mailbox lane
 * @param delivery how hard the bus tries
 * @param headers free-form string metadata, immutable
 * @param payload the message body, never {@code null}
 * @param createdNanos {@link System#nanoTime()} when the message was created
 */
public record Envelope(
    long id,
    String type,
    AgentId sender,
    AgentId recipient,
    TopicId topic,
    long correlationId,
    Priority priority,
    DeliveryMode delivery,
    Map<String, String> headers,
    Object payload,
    long createdNanos) {

  /** Validates the envelope; see the class comment for the rules. */
  public Envelope {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(priority, "priority");
    Objects.requireNonNull(delivery, "delivery");
    if (payload == null) {
      throw new IllegalArgumentException(
          "message payload is null; send a value (an empty record or string if there is nothing"
              + " to say)");
    }
    if ((recipient == null) == (topic == null)) {
      throw new IllegalArgumentException(
          "a message needs exactly one of recipient (send) or topic (publish)");
    }
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  /** The wall-clock instant this message was created, derived from {@link #createdNanos()}. */
  public Instant createdAt() {
    return MonotonicAnchor.toInstant(createdNanos);
  }

  /** True when this message is a reply to a request. */
  public boolean isReply() {
    return correlationId != 0 && headers.containsKey(REPLY_HEADER);
  }

  /**
   * True when this message is a request: sent with {@code request(...)} (its correlation id is its
   * own id) and not a reply, so exactly one {@code reply} to it completes the requester's future. A
   * request passed on with {@link AgentContext#forward} stays a request.
   */
  public boolean isRequest() {
    return correlationId != 0 && correlationId == id && !headers.containsKey(REPLY_HEADER);
  }

  /** The payload cast to {@code type}; throws {@link ClassCastException} naming both types. */
  public <T> T payload(Class<T> as) {
    if (!as.isInstance(payload)) {
      throw new ClassCastException(
          "message "
              + id
              + " of type '"
              + type
              + "' carries "
              + payload.getClass().getName()
              + ", not "
              + as.getName());
    }
    return as.cast(payload);
  }

  /** Header marking a reply envelope. */
  static final String REPLY_HEADER = "cfn-reply";

  /**
   * The header carrying a producer's idempotency key (set with {@link Builder#idempotencyKey}). A
   * RELIABLE message with a key is journaled at most once per key within the journal's retention
   * period; see {@link MessageBus#send(Builder)}.
   */
  public static final String IDEMPOTENCY_KEY_HEADER = "cfn-idempotency-key";

  /** The longest idempotency key accepted, in characters. */
  public static final int MAX_IDEMPOTENCY_KEY_CHARS = 512;

  /** The producer's idempotency key ({@link #IDEMPOTENCY_KEY_HEADER}), if it gave one. */
  public java.util.Optional<String> idempotencyKey() {
    return java.util.Optional.ofNullable(headers.get(IDEMPOTENCY_KEY_HEADER));
  }

  /** A builder for messages with headers, priorities or an explicit type. */
  public static Builder to(AgentId recipient) {
    return new Builder(Objects.requireNonNull(recipient, "recipient"), null);
  }

  /** A builder for a publication on {@code topic}. */
  public static Builder on(TopicId topic) {
    return new Builder(null, Objects.requireNonNull(topic, "topic"));
  }

  /**
   * Builds a message for {@link AgentRuntime#send(Builder)} or {@link AgentContext#send(Builder)};
   * the runtime fills in id, sender and creation time.
   */
  public static final class Builder {
    final AgentId recipient;
    final TopicId topic;
    String type;
    Priority priority = Priority.NORMAL;
    DeliveryMode delivery = DeliveryMode.BEST_EFFORT;
    Map<String, String> headers = Map.of();
    long correlationId;
    Object payload;
    String idempotencyKey;

    Builder(AgentId recipient, TopicId topic) {
      this.recipient = recipient;
      this.topic = topic;
    }

    /** Sets the message type (default: the payload's class name). */
    public Builder type(String type) {
      this.type = Objects.requireNonNull(type, "type");
      return this;
    }

    /** Sets the lane (default {@link Priority#NORMAL}). */
    public Builder priority(Priority priority) {
      this.priority = Objects.requireNonNull(priority, "priority");
      return this;
    }

    /** Sets the delivery mode (default {@link DeliveryMode#BEST_EFFORT}). */
    public Builder delivery(DeliveryMode delivery) {
      this.delivery = Objects.requireNonNull(delivery, "delivery");
      return this;
    }

    /** Sets the headers (copied). */
    public Builder headers(Map<String, String> headers) {
      this.headers = Map.copyOf(headers);
      return this;
    }

    /**
     * Sets the producer's idempotency key (as Kafka's idempotent producer or JetStream's {@code
     * Nats-Msg-Id}): a RELIABLE message sent again with the same key within the journal's retention
     * period (7 days by default) appends nothing, and its send returns the id of the first message
     * with that key. So a producer that does not know whether its send was stored (it crashed, or
     * the call failed after the append) retries with the same key and never duplicates the message.
     * Keys are compared exactly; make them unique per logical message (an order id, a request id of
     * your own). On a BEST_EFFORT message the key is only a header for the handler (an LLM agent
     * keys its call log by it). Stored as the header {@link #IDEMPOTENCY_KEY_HEADER}.
     *
     * @throws IllegalArgumentException when the key is blank or longer than {@value
     *     #MAX_IDEMPOTENCY_KEY_CHARS} characters
     */
    public Builder idempotencyKey(String key) {
      Objects.requireNonNull(key, "key");
      if (key.isBlank() || key.length() > MAX_IDEMPOTENCY_KEY_CHARS) {
        throw new IllegalArgumentException(
            "an idempotency key must be 1 to "
                + MAX_IDEMPOTENCY_KEY_CHARS
                + " characters and not blank, was "
                + (key.isBlank() ? "blank" : key.length() + " characters")
                + " (fix: use a short unique id of the logical message, e.g. an order id)");
      }
      this.idempotencyKey = key;
      return this;
    }

    /** Sets the correlation id linking this message to another. */
    public Builder correlationId(long correlationId) {
      this.correlationId = correlationId;
      return this;
    }

    /** Sets the payload. */
    public Builder payload(Object payload) {
      this.payload = payload;
      return this;
    }

    Envelope build(long id, AgentId sender) {
      return build(id, sender, correlationId);
    }

    /** The message with {@code correlation} as its correlation id (a request's is its own id). */
    Envelope build(long id, AgentId sender, long correlation) {
      Object body = payload;
      String t = type != null ? type : body == null ? "null" : body.getClass().getName();
      Map<String, String> h = headers;
      if (idempotencyKey != null) {
        Map<String, String> withKey = new java.util.HashMap<>(headers);
        withKey.put(IDEMPOTENCY_KEY_HEADER, idempotencyKey);
        h = withKey;
      }
      return new Envelope(
          id,
          t,
          sender,
          recipient,
          topic,
          correlation,
          priority,
          delivery,
          h,
          body,
          System.nanoTime());
    }
  }
}
