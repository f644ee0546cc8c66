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

  long send(AgentId sender, Envelope.Builder message, boolean internal) {
    Objects.requireNonNull(message, "message");
    long id = message.delivery == DeliveryMode.RELIABLE ? ids.nextReliable() : ids.next();
    return route.route(message.build(id, sender), internal);
  }

  /**
   * A request built with {@link Envelope#to}: its headers, priority, type, delivery mode and
   * idempotency key. A RELIABLE one is journaled; when its idempotency key was journaled before,
   * nothing is sent and the future waits for the first request's reply instead.
   */
  CompletableFuture<Envelope> request(
      AgentId sender, Envelope.Builder message, Duration timeout, boolean internal) {
    Objects.requireNonNull(message, "message");
    requirePositive(timeout);
    if (message.recipient == null) {
      throw new IllegalArgumentException(
          "a request goes to one agent, not a topic (fix: build it with Envelope.to(agentId), or"
              + " publish without expecting a reply)");
    }
    if (message.correlationId != 0) {
      throw new IllegalArgumentException(
          "a request's correlation id is its own id; do not set one (it was "
              + message.correlationId
              + ")");
    }
    boolean reliable = message.delivery == DeliveryMode.RELIABLE;
    long id = reliable ? ids.nextReliable() : ids.next();
    Envelope e = message.build(id, sender, id);
    CompletableFuture<Envelope> future = replies.open(id, e.recipient(), timeout);
    try {
      long stored = route.route(e, internal);
      if (stored != id) {
        replies.take(id); // a duplicate: nothing was sent; wait for the first request's reply
        return route.reliableReplies().attach(stored, e.recipient(), timeout);
      }
    } catch (RuntimeException ex) {
      replies.fail(id, ex);
    }
    return future;
  }

  private static void requirePositive(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("request timeout must be positive, was " + timeout);
    }
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
    requirePositive(timeout);
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

  /**
   * Replies to {@code request} as {@code from}. The reply to a RELIABLE request is itself RELIABLE:
   * with {@code outbox} (the effects of that request's handler, replying during its turn) it is
   * journaled in the transaction that acknowledges the request, so a crash loses or repeats
   * neither; without (a reply from a callback, after the turn) it is journaled on its own, as a
   * RELIABLE send. {@link ReliableReplies} then hands it to the requester.
   */
  void reply(AgentId from, Envelope request, Object payload, EffectsBuffer outbox) {
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
    if (request.delivery() == DeliveryMode.RELIABLE) {
      Envelope reply =
          new Envelope(
              ids.nextReliable(),
              typeOf(payload),
              from,
              request.sender(),
              null,
              request.correlationId(),
              request.priority(),
              DeliveryMode.RELIABLE,
              REPLY_HEADERS,
              payload,
              System.nanoTime());
      if (outbox != null) {
        outbox.outbox(reply);
      } else {
        route.route(reply, true);
      }
      return;
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
