package dev.cfn.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.Task;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.MailboxFullException;
import dev.cfn.core.TopicId;
import dev.cfn.core.UndeliverableException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The message routes: send to an agent (best effort, or RELIABLE: journaled before the answer),
 * publish on a topic, and request with a timeout. Bodies carry any JSON value as {@code payload}
 * (delivered as maps, lists, strings, numbers and booleans), or a {@code task} text for an LLM
 * agent. Each goes through the runtime's one message path, as a message from outside any agent.
 */
final class MessageRoutes {
  private final Node node;

  MessageRoutes(Node node) {
    this.node = node;
  }

  /** {@code POST /v1/messages/send}. */
  Object send(Call call) {
    AgentId to = recipient(call);
    java.util.Optional<ClusterPath> cluster = node.clusterFor(to.type());
    if (cluster.isPresent()) {
      return sendOnCluster(call, to, cluster.get());
    }
    Envelope.Builder message = Envelope.to(to).payload(payload(call));
    if (call.body.path("reliable").asBoolean(false)) {
      message.delivery(DeliveryMode.RELIABLE);
    }
    String key = call.text("idempotencyKey", null);
    if (key != null) {
      if (!call.body.path("reliable").asBoolean(false)) {
        throw Problem.badRequest(
            "idempotencyKey needs \"reliable\": true (only RELIABLE messages are deduplicated)");
      }
      message.idempotencyKey(key);
    }
    long id = accept(() -> node.runtime.send(message));
    call.status(202);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", id);
    r.put("to", to.toString());
    r.put("delivery", call.body.path("reliable").asBoolean(false) ? "RELIABLE" : "BEST_EFFORT");
    return r;
  }

  /**
   * A send to an agent whose type runs on the cluster ({@link CfnServer#runOnCluster}): a RELIABLE
   * message of the cluster, stored in its database before the answer, handled once on the node
   * holding the agent's partition.
   */
  private static Map<String, Object> sendOnCluster(Call call, AgentId to, ClusterPath cluster) {
    if (call.text("idempotencyKey", null) != null) {
      throw Problem.badRequest(
          "agents of type '"
              + to.type()
              + "' run on the cluster, which takes no idempotencyKey yet (fix: send without it;"
              + " each message is handled once)");
    }
    Object payload = payload(call);
    long id = accept(() -> cluster.send(to, payload));
    call.status(202);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", id);
    r.put("to", to.toString());
    r.put("delivery", "RELIABLE");
    r.put("path", "cluster");
    return r;
  }

  /** {@code POST /v1/messages/publish}. */
  Object publish(Call call) {
    String type = call.text("topic");
    call.requireScope("topic", type);
    TopicId topic;
    try {
      topic = TopicId.of(type, call.text("source"));
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
    Object payload = payload(call);
    long id = accept(() -> node.runtime.send(Envelope.on(topic).payload(payload)));
    call.status(202);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", id);
    r.put("topic", topic.toString());
    return r;
  }

  /** {@code POST /v1/messages/request}: waits for the reply, at most {@code timeoutMs}. */
  Object request(Call call) throws InterruptedException {
    AgentId to = recipient(call);
    if (node.clusterFor(to.type()).isPresent()) {
      throw Problem.conflict(
          "agents of type '"
              + to.type()
              + "' run on the cluster, where requests with a reply are not served yet (fix: POST"
              + " /v1/messages/send; see docs/cluster.md)");
    }
    Duration timeout = Duration.ofMillis(call.body.path("timeoutMs").asLong());
    Object payload = payload(call);
    CompletableFuture<Envelope> reply =
        accept(() -> node.runtime.request(Envelope.to(to).payload(payload), timeout));
    Envelope answer;
    try {
      answer = reply.get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw timedOut(to, timeout);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof TimeoutException) {
        throw timedOut(to, timeout);
      }
      throw new Problem(502, "No reply", "the request to " + to + " failed: " + cause.getMessage());
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("from", String.valueOf(answer.sender()));
    r.put("payload", json(answer.payload()));
    return r;
  }

  private static Problem timedOut(AgentId to, Duration timeout) {
    return new Problem(
        504,
        "Request timed out",
        "no reply from " + to + " within " + timeout.toMillis() + " ms (fix: a longer timeoutMs)");
  }

  private AgentId recipient(Call call) {
    AgentId to;
    try {
      to = AgentId.parse(call.text("to"));
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
    call.target(to.toString());
    call.requireScope("agent", to.type());
    return to;
  }

  private static Object payload(Call call) {
    if (call.body.has("task")) {
      return new Task(call.text("task"));
    }
    JsonNode p = call.body.get("payload");
    if (p == null || p.isNull()) {
      throw Problem.badRequest("payload must not be null (fix: send a JSON value, or a task)");
    }
    try {
      return Gate.JSON.treeToValue(p, Object.class);
    } catch (JsonProcessingException e) {
      throw Problem.badRequest("payload cannot be read: " + e.getOriginalMessage());
    }
  }

  private static Object json(Object payload) {
    try {
      return Gate.JSON.valueToTree(payload);
    } catch (IllegalArgumentException e) {
      return String.valueOf(payload);
    }
  }

  private interface Accept<T> {
    T get();
  }

  private static <T> T accept(Accept<T> send) {
    try {
      return send.get();
    } catch (MailboxFullException e) {
      throw new Problem(503, "Mailbox full", e.getMessage() + " (fix: retry later)");
    } catch (UndeliverableException e) {
      throw new Problem(409, "Undeliverable", e.getMessage());
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    } catch (IllegalStateException e) {
      throw new Problem(503, "Not accepting messages", e.getMessage());
    }
  }
}
