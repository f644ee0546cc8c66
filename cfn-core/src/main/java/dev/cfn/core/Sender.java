package dev.cfn.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link MessageBus} verbs, written once: {@link AgentRuntime} (the sender {@link
 * AgentRuntime#EXTERNAL}) and {@link AgentCell} (an agent's context) inherit them, and an {@link
 * AgentRef} sends through the sender that is calling it. A sender is an id and whether it is inside
 * the runtime ({@code internal}: a handler's sends are still accepted while the runtime drains, and
 * are stamped with the carrier's clock).
 */
abstract class Sender implements MessageBus {
  final AgentId from;
  final boolean internal;

  Sender(AgentId from, boolean internal) {
    this.from = from;
    this.internal = internal;
  }

  /** The entrance of the message path these verbs use. */
  abstract Validate path();

  /**
   * The sender calling now on behalf of {@code rt}: the agent whose handler runs on this thread, if
   * it belongs to {@code rt}, else {@code rt} itself (sending as EXTERNAL).
   */
  static Sender current(Sender rt) {
    AgentCell me = AgentCell.running();
    return me != null && me.path() == rt.path() ? me : rt;
  }

  @Override
  public final void send(AgentId to, Object payload) {
    path().send(from, to, payload, internal);
  }

  @Override
  public final long send(Envelope.Builder message) {
    return path().send(from, message, internal);
  }

  @Override
  public final CompletableFuture<Envelope> request(Envelope.Builder message, Duration timeout) {
    return path().request(from, message, timeout, internal);
  }

  @Override
  public final CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout) {
    return path().request(from, to, null, payload, timeout, internal);
  }

  @Override
  public final void forward(Envelope message, AgentId to) {
    path().forward(message, to, internal);
  }

  @Override
  public final int broadcastToType(String agentType, Object payload) {
    return path().broadcastToType(from, agentType, payload, internal);
  }

  @Override
  public final int broadcastToSwarm(String swarm, Object payload) {
    return path().broadcastToSwarm(from, swarm, payload, internal);
  }

  /** {@link AgentRef#tell(Object)}: a send to a ref's cached cell. */
  final void tell(AgentRef to, Object payload) {
    path().tell(from, to, payload, internal);
  }

  /** {@link AgentRef#request}: a request to a ref's cached cell. */
  final CompletableFuture<Envelope> request(AgentRef to, Object payload, Duration timeout) {
    Objects.requireNonNull(to, "to");
    return path().request(from, to.id(), to.cell(), payload, timeout, internal);
  }
}
