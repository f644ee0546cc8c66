package dev.cfn.cluster.node;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentFactory;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentMetrics;
import dev.cfn.core.AgentRef;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A cfn-core {@link Agent} run as a {@link ClusterAgent} ({@link ClusterAgent#running}): each
 * message gets an instance of its own from the factory, started, handed the message with an {@link
 * AgentContext} over the handling's {@link ClusterEffects}, and stopped.
 */
final class CoreAgentAdapter implements ClusterAgent {
  private final AgentFactory factory;

  CoreAgentAdapter(AgentFactory factory) {
    this.factory = Objects.requireNonNull(factory, "factory");
  }

  @Override
  public void handle(Envelope message, ClusterEffects effects) throws Exception {
    Agent agent = factory.create(message.recipient());
    if (agent == null) {
      throw new IllegalStateException(
          "the factory of agent type '"
              + message.recipient().type()
              + "' made no agent for "
              + message.recipient());
    }
    NodeContext ctx = new NodeContext(message, effects);
    agent.onStart(ctx);
    try {
      agent.onMessage(message, ctx);
    } finally {
      agent.onStop(ctx);
    }
  }

  /** The context of one handling on a node: what a node can do, and clear refusals otherwise. */
  private static final class NodeContext implements AgentContext {
    private final Envelope message;
    private final ClusterEffects effects;

    NodeContext(Envelope message, ClusterEffects effects) {
      this.message = message;
      this.effects = effects;
    }

    @Override
    public AgentId self() {
      return message.recipient();
    }

    @Override
    public void reply(Object payload) {
      if (!message.isRequest() || message.delivery() != DeliveryMode.RELIABLE) {
        throw new IllegalStateException(
            "message "
                + message.id()
                + " to "
                + self()
                + " is not a RELIABLE request, so there is nothing to reply to (fix: answer it"
                + " with send)");
      }
      effects.reply(message, payload);
    }

    @Override
    public void reply(Envelope request, Object payload) {
      effects.reply(request, payload);
    }

    @Override
    public AgentRef spawn(AgentId id) {
      throw unsupported("spawn", "an agent exists when a message reaches it: send to it");
    }

    @Override
    public AgentRef spawn(AgentId id, Agent agent) {
      throw unsupported("spawn", "an agent exists when a message reaches it: send to it");
    }

    @Override
    public void stopSelf() {
      // An agent on a node has no lifecycle to end: each message makes an instance of its own.
    }

    @Override
    public AgentMetrics metrics() {
      throw unsupported(
          "metrics", "the node's counters are ClusterNode.handledCount and its meters");
    }

    @Override
    public ClusterEffects effects() {
      return effects;
    }

    @Override
    public void send(AgentId to, Object payload) {
      effects.send(to, payload); // RELIABLE, with the acknowledgement: more than best effort
    }

    @Override
    public long send(Envelope.Builder builder) {
      throw unsupported(
          "send(Envelope.Builder)", "use send(to, payload) or publish(topic, payload)");
    }

    @Override
    public void publish(TopicId topic, Object payload) {
      effects.publish(topic, payload);
    }

    @Override
    public CompletableFuture<Envelope> request(AgentId to, Object payload, Duration timeout) {
      throw unsupported(
          "request with a future",
          "use effects().request(to, payload): its reply comes to this agent as a message");
    }

    @Override
    public CompletableFuture<Envelope> request(Envelope.Builder builder, Duration timeout) {
      throw unsupported(
          "request with a future",
          "use effects().request(to, payload): its reply comes to this agent as a message");
    }

    @Override
    public void forward(Envelope original, AgentId to) {
      throw unsupported("forward", "send the payload to the agent with send(to, payload)");
    }

    @Override
    public int broadcastToType(String agentType, Object payload) {
      throw unsupported("broadcastToType", "a node does not know which agents of a type exist");
    }

    @Override
    public int broadcastToSwarm(String swarm, Object payload) {
      throw unsupported("broadcastToSwarm", "swarms do not run on a cluster node");
    }

    private UnsupportedOperationException unsupported(String what, String fix) {
      return new UnsupportedOperationException(
          "agent "
              + self()
              + " runs on a cluster node, where "
              + what
              + " is not available (fix: "
              + fix
              + "; see docs/cluster.md)");
    }
  }
}
