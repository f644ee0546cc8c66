package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryWrite;
import dev.cfn.server.auth.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agents' memory ({@code .cfn/memory.db}): get, put and full-text search, within the token's
 * {@code memory:NAMESPACE} scopes. An operator or admin token acts as the operator (every entry,
 * whatever its access level); an agent token acts as the agent {@code api/TOKEN-ID}, under the
 * entries' access levels.
 */
final class MemoryRoutes {
  static final int MAX_SEARCH_RESULTS = 100;
  static final int MAX_LIST_RESULTS = 1000;

  private final Node node;

  MemoryRoutes(Node node) {
    this.node = node;
  }

  /** {@code GET /v1/memory/{namespace}/{key}}. */
  Object get(Call call) {
    String ns = call.path("namespace");
    String key = call.path("key");
    call.target(ns + "/" + key);
    call.requireScope("memory", ns);
    try {
      MemoryEntry e =
          node.memory
              .get(who(call), ns, key)
              .orElseThrow(
                  () -> Problem.notFound("no memory entry " + ns + "/" + key + " you may read"));
      return json(e);
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  /** {@code PUT /v1/memory/{namespace}/{key}}. */
  Object put(Call call) {
    String ns = call.path("namespace");
    String key = call.path("key");
    call.target(ns + "/" + key);
    call.requireScope("memory", ns);
    MemoryWrite write = MemoryWrite.defaults();
    if (call.body.has("level")) {
      write = write.level(MemoryAccessLevel.valueOf(call.text("level").toUpperCase(Locale.ROOT)));
    }
    if (call.body.has("ttlSeconds")) {
      write = write.ttl(Duration.ofSeconds(call.body.get("ttlSeconds").asLong()));
    }
    if (call.body.has("metadata")) {
      Map<String, String> meta = new LinkedHashMap<>();
      call.body
          .get("metadata")
          .properties()
          .forEach(m -> meta.put(m.getKey(), m.getValue().asText()));
      write = write.metadata(meta);
    }
    if (call.body.has("tags")) {
      List<String> tags = new ArrayList<>();
      for (JsonNode t : call.body.get("tags")) {
        tags.add(t.asText());
      }
      write = write.tags(tags.toArray(String[]::new));
    }
    try {
      return json(node.memory.put(who(call), ns, key, call.text("value"), write));
    } catch (MemoryAccessException e) {
      throw Problem.forbidden(e.getMessage());
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  /** {@code DELETE /v1/memory/{namespace}/{key}}. */
  Object delete(Call call) {
    String ns = call.path("namespace");
    String key = call.path("key");
    call.target(ns + "/" + key);
    call.requireScope("memory", ns);
    try {
      if (!node.memory.delete(who(call), ns, key)) {
        throw Problem.notFound("no memory entry " + ns + "/" + key);
      }
      return Map.of("namespace", ns, "key", key, "deleted", true);
    } catch (MemoryAccessException e) {
      throw Problem.forbidden(e.getMessage());
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  /** {@code GET /v1/memory/{namespace}?prefix=P&limit=N}: the entries in key order. */
  Object list(Call call) {
    String ns = call.path("namespace");
    call.requireScope("memory", ns);
    int limit = limit(call, 100, MAX_LIST_RESULTS);
    try {
      List<Map<String, Object>> entries = new ArrayList<>();
      for (MemoryEntry e : node.memory.list(who(call), ns, call.ctx.queryParam("prefix"), limit)) {
        entries.add(json(e));
      }
      return Map.of("entries", entries);
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  private static int limit(Call call, int fallback, int max) {
    String l = call.ctx.queryParam("limit");
    if (l == null) {
      return fallback;
    }
    int limit;
    try {
      limit = Integer.parseInt(l);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > max) {
      throw Problem.badRequest("limit must be a number from 1 to " + max + ", was '" + l + "'");
    }
    return limit;
  }

  /** {@code GET /v1/memory?q=TEXT&namespace=NS&limit=N}: full-text search. */
  Object search(Call call) {
    String q = call.ctx.queryParam("q");
    if (q == null || q.isBlank()) {
      throw Problem.badRequest("give the search text as ?q=... (fix: /v1/memory?q=deploy)");
    }
    String ns = call.ctx.queryParam("namespace");
    if (ns == null) {
      call.requireScope("memory", "*");
    } else {
      call.requireScope("memory", ns);
    }
    int limit = 20;
    String l = call.ctx.queryParam("limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_SEARCH_RESULTS) {
        throw Problem.badRequest(
            "limit must be a number from 1 to " + MAX_SEARCH_RESULTS + ", was '" + l + "'");
      }
    }
    try {
      List<Map<String, Object>> hits = new ArrayList<>();
      for (MemoryMatch m : node.memory.search(who(call), q, ns, limit)) {
        Map<String, Object> hit = json(m.entry());
        hit.put("relevance", m.relevance());
        hits.add(hit);
      }
      return Map.of("matches", hits);
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  private static MemoryAccessor who(Call call) {
    return call.token.role().includes(Role.OPERATOR)
        ? MemoryAccessor.operator()
        : MemoryAccessor.agent("api/" + call.token.id());
  }

  private static Map<String, Object> json(MemoryEntry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("namespace", e.namespace());
    m.put("key", e.key());
    m.put("value", e.value());
    m.put("level", e.level().name().toLowerCase(Locale.ROOT));
    m.put("owner", e.owner());
    m.put("swarm", e.swarm());
    m.put("project", e.project());
    m.put("tags", e.tags());
    m.put("metadata", e.metadata());
    m.put("createdAt", e.createdAt().toString());
    m.put("updatedAt", e.updatedAt().toString());
    m.put("expiresAt", e.expiresAt() == null ? null : e.expiresAt().toString());
    return m;
  }
}
