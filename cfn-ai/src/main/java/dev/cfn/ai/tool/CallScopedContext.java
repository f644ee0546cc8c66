package dev.cfn.ai.tool;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentMetrics;
import dev.cfn.core.AgentRef;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The calling agent's {@link AgentContext} as a tool sees it: usable only while the call is
 * running. {@link ToolExecutor} runs a tool on a virtual thread of its own while the agent's thread
 * waits for it, so the context passes from one thread to the other and back (thread start and the
 * task's completion order every access); once the call has returned, or timed out and left the tool
 * running, the agent has moved on and every method here throws {@link IllegalStateException}.
 */
final class CallScopedContext implements AgentContext {
  private final AgentContext delegate;
  private final String tool;
  private volatile boolean open = true;

  CallScopedContext(AgentContext delegate, String tool) {
    this.delegate = delegate;
    this.tool = tool;
  }

  /** Ends the call: from now on the tool may not act as the agent. */
  void close() {
    open = false;
  }

  private AgentContext live() {
    if (!open) {
      throw new IllegalStateException(
          "tool '"
              + tool
              + "' used the agent's context after its call ended (it timed out or outlived it);"
              + " a tool may act as the agent only until its call returns");
    }
    return delegate;
  }

  @Override
  public AgentId self() {
    return delegate.self();
  }

  @Override
  public void send(AgentId to, Object payload) {
    live().send(to, payload);
  }

  @Override
  public long send(Envelope.Builder message) {
    return live().send(message);
  }

  @Override
  public CompletableFuture<Envelope> request(Envelope.Builder message, Duration timeout) {
    return live().request(message, timeout);
  }

  @Override
  public void publish(TopicId topic, Object payload) {
    live().publish(topic, payload);
  }

  @Override
  public CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout) {
    return live().request(to, payload, timeout);
  }

  @Override
  public void forward(Envelope message, AgentId to) {
    live().forward(message, to);
  }

  @Override
  public void reply(Object payload) {
    live().reply(payload);
  }

  @Override
  public void reply(Envelope request, Object payload) {
    live().reply(request, payload);
  }

  @Override
  public int broadcastToType(String agentType, Object payload) {
    return live().broadcastToType(agentType, payload);
  }

  @Override
  public int broadcastToSwarm(String swarm, Object payload) {
    return live().broadcastToSwarm(swarm, payload);
  }

  @Override
  public AgentRef spawn(AgentId id) {
    return live().spawn(id);
  }

  @Override
  public AgentRef spawn(AgentId id, Agent agent) {
    return live().spawn(id, agent);
  }

  @Override
  public void stopSelf() {
    live().stopSelf();
  }

  @Override
  public AgentMetrics metrics() {
    return live().metrics();
  }

  @Override
  public Effects effects() {
    return live().effects();
  }
}
