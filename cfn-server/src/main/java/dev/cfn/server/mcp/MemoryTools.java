package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryWrite;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code memory_get}, {@code memory_search} (reading, always allowed) and {@code memory_put} (needs
 * {@link McpPermission#MEMORY_WRITE}) on the server's {@link SqliteMemoryStore}, as the principal
 * of {@link McpSettings#memoryAs()}: the store's access levels decide what the client reads and
 * changes, exactly as for an agent of that id. An entry the client may not read is absent to it.
 */
final class MemoryTools {
  static final int MAX_SEARCH_LIMIT = 100;
  static final int MAX_TAGS = 32;

  private static final String NAME =
      "{\"type\": \"string\", \"minLength\": 1, \"maxLength\": "
          + SqliteMemoryStore.MAX_NAME_LENGTH
          + ", \"pattern\": \"\\\\S\"";

  private final MemoryFile memory;
  private final MemoryAccessor who;

  MemoryTools(MemoryFile memory, MemoryAccessor who) {
    this.memory = memory;
    this.who = who;
  }

  List<ToolDef> tools() {
    return List.of(
        new ToolDef(
            "memory_get",
            "Reads one entry of cfn's agent memory: its value, level, owner, tags and times."
                + " An entry that does not exist, has expired or may not be read is reported as"
                + " not found.",
            AgentTools.schema(
                AgentTools.fill(
                    """
                    {"type": "object",
                     "properties": {"namespace": {0}, "description": "Default: default."},
                                    "key": {1}}},
                     "required": ["key"], "additionalProperties": false}
                    """,
                    NAME, NAME)),
            null,
            true,
            this::get,
            args -> new ToolDef.Target("memory", namespace(args))),
        new ToolDef(
            "memory_search",
            "Full-text search of cfn's agent memory (words; a trailing * matches a prefix),"
                + " among the entries this client may read, best first.",
            AgentTools.schema(
                AgentTools.fill(
                    """
                    {"type": "object",
                     "properties": {
                       "query": {"type": "string", "minLength": 1, "maxLength": 1000},
                       "namespace": {0}, "description": "Only this namespace (default: all)."},
                       "limit": {"type": "integer", "minimum": 1, "maximum": {1},
                         "description": "At most this many matches (default: 10)."}},
                     "required": ["query"], "additionalProperties": false}
                    """,
                    NAME, MAX_SEARCH_LIMIT)),
            null,
            true,
            this::search,
            args ->
                new ToolDef.Target(
                    "memory", args.has("namespace") ? args.get("namespace").asText() : "*")),
        new ToolDef(
            "memory_put",
            "Writes one entry of cfn's agent memory (replacing its value, tags and expiry). A new"
                + " entry belongs to this client and is private unless 'level' says otherwise.",
            AgentTools.schema(
                AgentTools.fill(
                    """
                    {"type": "object",
                     "properties": {
                       "namespace": {0}, "description": "Default: default."},
                       "key": {1}},
                       "value": {"type": "string"},
                       "level": {"enum": ["private", "swarm", "project", "public"]},
                       "tags": {"type": "array", "maxItems": {2},
                         "items": {"type": "string", "minLength": 1, "maxLength": 128}},
                       "ttlSeconds": {"type": "integer", "minimum": 1, "maximum": {3},
                         "description": "Expire after this many seconds (default: never)."}},
                     "required": ["key", "value"], "additionalProperties": false}
                    """,
                    NAME, NAME, MAX_TAGS, MemoryWrite.MAX_TTL.toSeconds())),
            McpPermission.MEMORY_WRITE,
            false,
            this::put,
            args -> new ToolDef.Target("memory", namespace(args))));
  }

  private static String namespace(JsonNode args) {
    return args.path("namespace").asText("default");
  }

  private ToolDef.Answer get(JsonNode args) {
    String namespace = namespace(args);
    String key = args.get("key").asText();
    Optional<MemoryEntry> entry =
        memory.ifExists().flatMap(store -> store.get(ToolCatalog.memoryAs(who), namespace, key));
    ObjectNode out = ToolCatalog.object();
    out.put("found", entry.isPresent());
    entry.ifPresent(e -> out.set("entry", entry(e)));
    return ToolDef.Answer.done(
        out, namespace + "/" + key + (entry.isPresent() ? " found" : " not found"));
  }

  private ToolDef.Answer search(JsonNode args) {
    String namespace = args.has("namespace") ? args.get("namespace").asText() : null;
    int limit = args.path("limit").asInt(10);
    List<MemoryMatch> matches =
        memory
            .ifExists()
            .map(
                store ->
                    store.search(
                        ToolCatalog.memoryAs(who), args.get("query").asText(), namespace, limit))
            .orElse(List.of());
    ObjectNode out = ToolCatalog.object();
    ArrayNode list = out.putArray("matches");
    for (MemoryMatch m : matches) {
      ObjectNode o = entry(m.entry());
      o.put("relevance", m.relevance());
      list.add(o);
    }
    return ToolDef.Answer.done(out, matches.size() + " match(es)");
  }

  private ToolDef.Answer put(JsonNode args) {
    String namespace = namespace(args);
    String key = args.get("key").asText();
    MemoryAccessLevel level =
        args.has("level")
            ? MemoryAccessLevel.valueOf(args.get("level").asText().toUpperCase(Locale.ROOT))
            : null;
    List<String> tags = new ArrayList<>();
    args.path("tags").forEach(t -> tags.add(t.asText()));
    Duration ttl =
        args.has("ttlSeconds") ? Duration.ofSeconds(args.get("ttlSeconds").asLong()) : null;
    MemoryEntry written =
        memory
            .open()
            .put(
                ToolCatalog.memoryAs(who),
                namespace,
                key,
                args.get("value").asText(),
                new MemoryWrite(level, ttl, Map.of(), tags));
    ObjectNode out = ToolCatalog.object();
    out.put("written", true);
    out.set("entry", entry(written));
    return ToolDef.Answer.done(out, namespace + "/" + key + " written");
  }

  private static ObjectNode entry(MemoryEntry e) {
    ObjectNode o = ToolCatalog.object();
    o.put("namespace", e.namespace());
    o.put("key", e.key());
    o.put("value", e.value());
    o.put("level", e.level().name().toLowerCase(Locale.ROOT));
    o.put("owner", e.owner());
    if (e.swarm() != null) {
      o.put("swarm", e.swarm());
    }
    if (e.project() != null) {
      o.put("project", e.project());
    }
    ArrayNode tags = o.putArray("tags");
    e.tags().forEach(tags::add);
    if (!e.metadata().isEmpty()) {
      ObjectNode meta = o.putObject("metadata");
      e.metadata().forEach(meta::put);
    }
    o.put("createdAt", e.createdAt().toString());
    o.put("updatedAt", e.updatedAt().toString());
    if (e.expiresAt() != null) {
      o.put("expiresAt", e.expiresAt().toString());
    }
    return o;
  }
}
