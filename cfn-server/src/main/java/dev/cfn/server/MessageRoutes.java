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
   * holding the agent's partition. An {@code idempotencyKey} is taken in the cluster's database
   * with the message: a send with a key used before (within the retention) returns the first
   * message's id and stores nothing.
   */
  private static Map<String, Object> sendOnCluster(Call call, AgentId to, ClusterPath cluster) {
    String key = call.text("idempotencyKey", null);
    Object payload = payload(call);
    long id = accept(() -> cluster.send(to, payload, key));
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
    java.util.Optional<ClusterPath> cluster = node.clusterFor(to.type());
    if (cluster.isPresent()) {
      return requestOnCluster(call, to, cluster.get());
    }
    if (call.text("idempotencyKey", null) != null) {
      throw Problem.badRequest(
          "idempotencyKey is taken on a request only for agents that run on a cluster (fix: drop"
              + " it; see docs/cluster.md)");
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

  /**
   * A request to an agent whose type runs on the cluster: a RELIABLE request of the cluster, stored
   * in its database before anything is answered, handled once on the node holding the agent's
   * partition, whose reply is stored in the database with its acknowledgement. Waits for that reply
   * at most {@code timeoutMs}: 200 with it, or 504 with the request's {@code id}, by which {@code
   * GET /v1/messages/{id}/answer} fetches the reply later, on any server of the cluster. An {@code
   * idempotencyKey} makes a repeated request (a caller whose connection dropped, asking again) the
   * first one, and its reply the first one's.
   */
  private static Map<String, Object> requestOnCluster(Call call, AgentId to, ClusterPath cluster)
      throws InterruptedException {
    Duration timeout = Duration.ofMillis(call.body.path("timeoutMs").asLong());
    String key = call.text("idempotencyKey", null);
    Object payload = payload(call);
    long id = accept(() -> cluster.request(to, payload, key));
    Envelope answer;
    try {
      answer = cluster.answer(id, timeout).get(timeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw answerLater(to, id, timeout);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TimeoutException) {
        throw answerLater(to, id, timeout);
      }
      throw new Problem(
              502,
              "No reply",
              "request "
                  + id
                  + " to "
                  + to
                  + " is stored, but its reply could not be read: "
                  + e.getCause().getMessage()
                  + " (fix: GET /v1/messages/"
                  + id
                  + "/answer later)")
          .with("id", id);
    }
    return answered(id, answer);
  }

  private static Map<String, Object> answered(long id, Envelope answer) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", id);
    r.put("from", String.valueOf(answer.sender()));
    r.put("payload", json(answer.payload()));
    r.put("path", "cluster");
    return r;
  }

  private static Problem answerLater(AgentId to, long id, Duration timeout) {
    return new Problem(
            504,
            "Request timed out",
            "no reply from "
                + to
                + " within "
                + timeout.toMillis()
                + " ms; request "
                + id
                + " is stored and will be handled (fix: GET /v1/messages/"
                + id
                + "/answer later, or a longer timeoutMs)")
        .with("id", id);
  }

  /**
   * {@code GET /v1/messages/{id}/answer}: the reply to request {@code id} made to an agent that
   * runs on the cluster, from any server of the cluster: 200 with it, 202 while the request waits
   * to be handled; with {@code waitMs} (up to 600,000), waits that long for it first.
   */
  Object answer(Call call) throws InterruptedException {
    String text = call.path("id");
    call.target("request:" + text);
    long id;
    try {
      id = Long.parseLong(text);
    } catch (NumberFormatException e) {
      id = 0;
    }
    if (id < 1) {
      throw Problem.badRequest(
          "request id '" + text + "' is not a positive whole number (fix: the id a request gave)");
    }
    long waitMs = 0;
    String wait = call.ctx == null ? null : call.ctx.queryParam("waitMs");
    if (wait != null) {
      try {
        waitMs = Long.parseLong(wait);
      } catch (NumberFormatException e) {
        waitMs = -1;
      }
      if (waitMs < 0 || waitMs > 600_000) {
        throw Problem.badRequest(
            "waitMs '" + wait + "' must be a whole number from 0 to 600000 (fix: such as 30000)");
      }
    }
    ClusterPath cluster = node.cluster;
    if (cluster == null) {
      throw Problem.notFound(
          "this server keeps no answers: only requests to agents that run on a cluster (cfn serve"
              + " --cluster) are answered later");
    }
    long requestId = id;
    java.util.Optional<Envelope> answer = accept(() -> cluster.answerOf(requestId));
    if (answer.isEmpty()) {
      java.util.Optional<Envelope> pending = accept(() -> cluster.pendingRequest(requestId));
      if (pending.isEmpty()) {
        answer = accept(() -> cluster.answerOf(requestId)); // answered meanwhile?
      }
      if (answer.isEmpty() && pending.isEmpty()) {
        throw Problem.notFound(
            "no answer to request "
                + id
                + " is stored: it is not a request to an agent on the cluster, it was handled"
                + " without a reply or dead-lettered, or its answer is older than the retention");
      }
      if (answer.isEmpty()) {
        call.requireScope("agent", pending.get().recipient().type());
        if (waitMs > 0) {
          try {
            answer =
                java.util.Optional.of(
                    cluster
                        .answer(id, Duration.ofMillis(waitMs))
                        .get(waitMs + 30_000, TimeUnit.MILLISECONDS));
          } catch (TimeoutException | ExecutionException e) {
            // still pending
          }
        }
        if (answer.isEmpty()) {
          call.status(202);
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("id", id);
          r.put("to", pending.get().recipient().toString());
          r.put("status", "pending");
          return r;
        }
      }
    }
    call.requireScope("agent", answer.get().sender().type());
    return answered(id, answer.get());
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
