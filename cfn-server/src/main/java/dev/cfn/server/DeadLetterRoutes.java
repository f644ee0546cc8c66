package dev.cfn.server;

import dev.cfn.core.Envelope;
import dev.cfn.store.journal.DeadLetterRecord;
import dev.cfn.store.journal.RawPayload;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reliable dead letters of the node's journal: list (ids, recipients and causes, no payload),
 * show (with the payload and every attempt), replay on the live runtime (delivered again at once,
 * attempts reset), remove one, purge all.
 */
final class DeadLetterRoutes {
  private final Node node;

  DeadLetterRoutes(Node node) {
    this.node = node;
  }

  /** {@code GET /v1/dead-letters}. */
  Object list(Call call) {
    List<Map<String, Object>> all = new ArrayList<>();
    for (DeadLetterRecord r : node.journal.deadLetterQueue().list()) {
      all.add(summary(r));
    }
    return Map.of("deadLetters", all);
  }

  /** {@code GET /v1/dead-letters/{id}}. */
  Object show(Call call) {
    long id = id(call);
    DeadLetterRecord r = node.journal.deadLetterQueue().find(id).orElseThrow(() -> missing(id));
    Map<String, Object> m = summary(r);
    Envelope e = r.envelope();
    m.put("from", String.valueOf(e.sender()));
    m.put("headers", e.headers());
    m.put("createdAt", String.valueOf(e.createdAt()));
    Object p = e.payload();
    m.put("payload", p instanceof RawPayload raw ? raw.json() : Gate.JSON.valueToTree(p));
    List<Map<String, Object>> history = new ArrayList<>();
    for (DeadLetterRecord.Attempt a : r.history()) {
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("attempt", a.attempt());
      h.put("at", a.at().toString());
      h.put("error", a.error());
      history.add(h);
    }
    m.put("history", history);
    return m;
  }

  /** {@code POST /v1/dead-letters/{id}/replay}: on the live runtime, delivered at once. */
  Object replay(Call call) {
    long id = id(call);
    if (!node.runtime.replayDeadLetter(id)) {
      throw missing(id);
    }
    call.status(202);
    return Map.of("id", id, "replayed", true);
  }

  /** {@code DELETE /v1/dead-letters/{id}}. */
  Object remove(Call call) {
    long id = id(call);
    if (!node.journal.deadLetterQueue().remove(id)) {
      throw missing(id);
    }
    return Map.of("id", id, "deleted", true);
  }

  /** {@code DELETE /v1/dead-letters}: every one. */
  Object purge(Call call) {
    call.target("*");
    return Map.of("deleted", node.journal.deadLetterQueue().purge());
  }

  private static long id(Call call) {
    String text = call.path("id");
    call.target("dead-letter:" + text);
    try {
      long id = Long.parseLong(text);
      if (id >= 1) {
        return id;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Problem.badRequest(
        "'"
            + text
            + "' is not a dead-letter id (fix: a positive number from GET /v1/dead-letters)");
  }

  private static Problem missing(long id) {
    return Problem.notFound("no dead letter with id " + id + " (fix: GET /v1/dead-letters)");
  }

  private static Map<String, Object> summary(DeadLetterRecord r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.envelope().id());
    m.put("to", String.valueOf(r.envelope().recipient()));
    m.put("type", String.valueOf(r.envelope().type()));
    m.put("deadAt", r.deadAt().toString());
    m.put("attempts", r.attempts());
    m.put("cause", r.cause());
    return m;
  }
}
