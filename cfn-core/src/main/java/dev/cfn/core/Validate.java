package dev.cfn.core;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Stage 1 of the message path, and its entrance: every {@link MessageBus} verb of every sender
 * comes here (through {@link Sender}). It checks the arguments, builds the {@link Envelope} (id,
 * type, sender, creation stamp) and hands it to {@link Route}. A plain send builds the envelope
 * without a builder or a header map, so the best-effort hot path allocates the envelope only.
 */
final class Validate {
  private static final Map<String, String> REPLY_HEADERS = Map.of(Envelope.REPLY_HEADER, "true");

  private final Ids ids;
  private final Route route;
  private final Directory directory;
  private final Replies replies;

  Validate(Ids ids, Route route, Directory directory, Replies replies) {
    this.ids = ids;
    this.route = route;
    this.directory = directory;
    this.replies = replies;
  }

  private static String typeOf(Object payload) {
    return payload == null ? "null" : payload.getClass().getName();
  }

  /** A plain message: point-to-point, NORMAL, BEST_EFFORT, no headers (the hot path). */
  private Envelope plain(AgentId sender, AgentId to, Object payload, boolean internal) {
    return new Envelope(
        ids.next(),
        typeOf(payload),
        sender,
        to,
        null,
        0,
        Priority.NORMAL,
        DeliveryMode.BEST_EFFORT,
        Map.of(),
        payload,
        ids.stamp(internal));
  }

  void send(AgentId sender, AgentId to, Object payload, boolean internal) {
    Objects.requireNonNull(to, "to");
    route.deliverTo(plain(sender, to, payload, internal), internal);
  }

  void send(AgentId sender, Envelope.Builder message, boolean internal) {
    Objects.requireNonNull(message, "message");
    long id = message.delivery == DeliveryMode.RELIABLE ? ids.nextReliable() : ids.next();
    route.route(message.build(id, sender), internal);
  }

  /** A send to a ref's cached cell, skipping the directory lookup. */
  void tell(AgentId sender, AgentRef ref, Object payload, boolean internal) {
    route.toCell(ref.cell(), plain(sender, ref.id(), payload, internal), internal);
  }

  /**
   * Sends a request; {@code cell} is the recipient's cell when the caller already holds it (an
   * {@link AgentRef}), else null and the id is looked up.
   */
  CompletableFuture<Envelope> request(
      AgentId sender,
      AgentId to,
      AgentCell cell,
      Object payload,
      Duration timeout,
      boolean internal) {
    Objects.requireNonNull(to, "to");
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("request timeout must be positive, was " + timeout);
    }
    long id = ids.next();
    CompletableFuture<Envelope> future = replies.open(id, to, timeout);
    Envelope e =
        new Envelope(
            id,
            typeOf(payload),
            sender,
            to,
            null,
            id,
            Priority.NORMAL,
            DeliveryMode.BEST_EFFORT,
            Map.of(),
            payload,
            System.nanoTime());
    try {
      if (cell != null && !cell.isStopped()) {
        route.toCell(cell, e, internal);
      } else {
        route.deliverTo(e, internal);
      }
    } catch (RuntimeException ex) {
      replies.fail(id, ex);
    }
    return future;
  }

  /**
   * Passes {@code m} on to {@code to} unchanged but for its recipient: same id, sender and
   * correlation, so a request stays a request and the agent that finally replies completes the
   * original requester's future.
   */
  void forward(Envelope m, AgentId to, boolean internal) {
    Objects.requireNonNull(m, "message");
    Objects.requireNonNull(to, "to");
    if (m.delivery() == DeliveryMode.RELIABLE) {
      throw new IllegalArgumentException(
          "RELIABLE message "
              + m.id()
              + " cannot be forwarded: it is acknowledged when its handler returns (fix: send a new"
              + " RELIABLE message, or ctx.effects().send(...) to pass it on exactly once)");
    }
    if (m.isReply()) {
      throw new IllegalArgumentException(
          "message "
              + m.id()
              + " is a reply; it completed its requester's future and cannot be forwarded (fix:"
              + " send its payload on with send(...))");
    }
    route.deliverTo(
        new Envelope(
            m.id(),
            m.type(),
            m.sender(),
            to,
            null,
            m.correlationId(),
            m.priority(),
            DeliveryMode.BEST_EFFORT,
            m.headers(),
            m.payload(),
            ids.stamp(internal)),
        internal);
  }

  void reply(AgentId from, Envelope request, Object payload) {
    Objects.requireNonNull(request, "request");
    if (!request.isRequest()) {
      throw new IllegalStateException(
          "message "
              + request.id()
              + " of type '"
              + request.type()
              + "' is not a request; only messages sent with request(...) can be replied to"
              + " (fix: reply to the request itself, or answer this one with send(...))");
    }
    if (!from.equals(request.recipient())) {
      throw new IllegalStateException(
          "agent "
              + from
              + " cannot reply to request "
              + request.id()
              + ": it was delivered to "
              + request.recipient()
              + " (fix: reply from the agent that received it, or forward(request, "
              + from
              + ") so that this agent answers it)");
    }
    route.reply(
        new Envelope(
            ids.next(),
            typeOf(payload),
            from,
            request.sender(),
            null,
            request.correlationId(),
            request.priority(),
            DeliveryMode.BEST_EFFORT,
            REPLY_HEADERS,
            payload,
            System.nanoTime()));
  }

  int broadcastToType(AgentId sender, String agentType, Object payload, boolean internal) {
    AgentId.validateType(agentType);
    return broadcast(sender, directory.liveOf(agentType), payload, internal);
  }

  int broadcastToSwarm(AgentId sender, String swarm, Object payload, boolean internal) {
    return broadcast(sender, directory.swarm(swarm), payload, internal);
  }

  private int broadcast(AgentId sender, List<AgentId> targets, Object payload, boolean internal) {
    int n = 0;
    SwarmRuleException refused = null; // the targets a swarm rule allows still get it
    for (AgentId to : targets) {
      if (directory.live(to) != null) {
        try {
          send(sender, to, payload, internal);
          n++;
        } catch (SwarmRuleException ex) {
          refused = refused == null ? ex : refused;
        }
      }
    }
    if (refused != null) {
      throw refused;
    }
    return n;
  }
}
