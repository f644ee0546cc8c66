package dev.cfn.ai.rollout;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentMetrics;
import dev.cfn.core.AgentRef;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The context a version's agent handles one message with: the agent's own, which it passes every
 * call to, noting the answer to that message on the way ({@link #reply(Object)}, or a send back to
 * its sender), so that {@link Canary} can record the task's outcome.
 */
final class ObservingContext implements AgentContext {
  private final AgentContext ctx;
  private final Envelope message;
  private Object answer;

  ObservingContext(AgentContext ctx, Envelope message) {
    this.ctx = ctx;
    this.message = message;
  }

  /** The answer given to the message, or null. */
  Object answer() {
    return answer;
  }

  @Override
  public AgentId self() {
    return ctx.self();
  }

  @Override
  public void reply(Object payload) {
    ctx.reply(payload);
    answer = payload;
  }

  @Override
  public void reply(Envelope request, Object payload) {
    ctx.reply(request, payload);
    if (request.id() == message.id()) {
      answer = payload;
    }
  }

  @Override
  public AgentRef spawn(AgentId id) {
    return ctx.spawn(id);
  }

  @Override
  public AgentRef spawn(AgentId id, Agent agent) {
    return ctx.spawn(id, agent);
  }

  @Override
  public void stopSelf() {
    ctx.stopSelf();
  }

  @Override
  public AgentMetrics metrics() {
    return ctx.metrics();
  }

  @Override
  public Effects effects() {
    return ctx.effects();
  }

  @Override
  public void send(AgentId to, Object payload) {
    ctx.send(to, payload);
    if (to.equals(message.sender())) {
      answer = payload;
    }
  }

  @Override
  public long send(Envelope.Builder envelope) {
    return ctx.send(envelope);
  }

  @Override
  public CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout) {
    return ctx.request(to, payload, timeout);
  }

  @Override
  public CompletableFuture<Envelope> request(Envelope.Builder envelope, Duration timeout) {
    return ctx.request(envelope, timeout);
  }

  @Override
  public void forward(Envelope envelope, AgentId to) {
    ctx.forward(envelope, to);
  }

  @Override
  public int broadcastToType(String agentType, Object payload) {
    return ctx.broadcastToType(agentType, payload);
  }

  @Override
  public int broadcastToSwarm(String swarm, Object payload) {
    return ctx.broadcastToSwarm(swarm, payload);
  }
}
