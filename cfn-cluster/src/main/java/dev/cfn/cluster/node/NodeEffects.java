package dev.cfn.cluster.node;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.TopicId;
import dev.cfn.core.spi.BufferedEffects;
import dev.cfn.core.spi.Journal;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link ClusterEffects} of one handling on a cluster node: cfn-core's {@link BufferedEffects}
 * (the agent's state as the partition's journal view serves it, overlaid with this handler's own
 * writes, and the {@code Effect}s the acknowledgement commits) with the node's message ids, plus
 * replies, publications and best-effort requests, and the actions of {@link #whenDiscarded}, run by
 * the node on every path where these effects are not committed ({@link #discarded}).
 */
final class NodeEffects extends BufferedEffects implements ClusterEffects {
  /** The header that marks a reply, as the embedded runtime sets it. */
  static final Map<String, String> REPLY_HEADERS = Map.of("cfn-reply", "true");

  private final ClusterNode node;

  // firstDelivery() stays false, the safe answer: a node cannot tell a first delivery from one
  // whose earlier handling died before recording anything.
  NodeEffects(AgentId agent, Journal journal, ClusterNode node) {
    super(agent, journal);
    this.node = node;
  }

  @Override
  protected long nextMessageId() {
    return node.nextId();
  }

  /**
   * These effects will not be committed (the handler threw, the acknowledgement's transaction
   * failed and the message is still pending, or it applied nothing): runs the actions given to
   * {@link #whenDiscarded}, once. Called by the node on every such path, on the partition
   * consumer's thread.
   */
  void discarded() {
    runDiscardedActions();
  }

  @Override
  public long reply(Envelope request, Object payload) {
    Objects.requireNonNull(request, "request");
    if (!request.isRequest() || request.delivery() != DeliveryMode.RELIABLE) {
      throw new IllegalStateException(
          "message "
              + request.id()
              + " of type '"
              + request.type()
              + "' is not a RELIABLE request; only messages sent with request(...) can be replied"
              + " to (fix: answer it with send(...))");
    }
    if (!agent().equals(request.recipient())) {
      throw new IllegalStateException(
          "agent "
              + agent()
              + " cannot reply to request "
              + request.id()
              + ": it was delivered to "
              + request.recipient()
              + " (fix: reply from the agent that received it)");
    }
    Envelope reply =
        new Envelope(
            nextMessageId(),
            typeOf(payload),
            agent(),
            request.sender(),
            null,
            request.correlationId(),
            request.priority(),
            DeliveryMode.RELIABLE,
            REPLY_HEADERS,
            payload,
            System.nanoTime());
    outbox(reply);
    return reply.id();
  }

  @Override
  public long publish(TopicId topic, Object payload) {
    Objects.requireNonNull(topic, "topic");
    Envelope publication =
        new Envelope(
            nextMessageId(),
            typeOf(payload),
            agent(),
            null,
            topic,
            0,
            Priority.NORMAL,
            DeliveryMode.RELIABLE,
            Map.of(),
            payload,
            System.nanoTime());
    outbox(publication);
    return publication.id();
  }

  @Override
  public CompletableFuture<String> requestBestEffort(AgentId to, String body, Duration timeout) {
    return node.request(to, body, timeout);
  }

  @Override
  public String node() {
    return node.node();
  }

  private static String typeOf(Object payload) {
    return payload == null ? "null" : payload.getClass().getName();
  }
}
