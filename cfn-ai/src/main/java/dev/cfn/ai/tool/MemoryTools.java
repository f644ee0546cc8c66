package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryStore;
import dev.cfn.core.spi.MemoryWrite;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code memory_get}, {@code memory_put}, {@code memory_search} and {@code memory_delete} on a
 * {@link MemoryStore}. Each call runs as the calling agent's {@link MemoryAccessor} (its id, swarm
 * and project from the {@link ToolContext}), so the entries' access levels apply to the model
 * exactly as to the agent: a refusal comes back as an error result naming the entry and the rule.
 */
final class MemoryTools {
  static final String GET = "memory_get";
  static final String PUT = "memory_put";
  static final String SEARCH = "memory_search";
  static final String DELETE = "memory_delete";
  static final int MAX_SEARCH_LIMIT = 100;

  private static final String NAME_PROPERTIES =
      """
        "namespace": {"type": "string", "minLength": 1, "maxLength": 512,
          "description": "The namespace, such as 'notes' or 'plans'."},
        "key": {"type": "string", "minLength": 1, "maxLength": 512,
          "description": "The key within the namespace."}
      """;

  private MemoryTools() {}

  static List<Tool> create(MemoryStore store) {
    return List.of(get(store), put(store), search(store), delete(store));
  }

  private static Tool get(MemoryStore store) {
    return Tool.readOnly(
        GET,
        "Reads one entry of the shared agent memory by namespace and key. Returns the entry as"
            + " JSON (value, tags, metadata, level, owner, times) or says there is none.",
        BuiltinSchemas.parse(
            "{\"type\": \"object\", \"properties\": {"
                + NAME_PROPERTIES
                + "}, \"required\": [\"namespace\", \"key\"], \"additionalProperties\": false}"),
        (args, ctx) ->
            refusalsAsErrors(
                GET,
                () -> {
                  String namespace = args.get("namespace").asText();
                  String key = args.get("key").asText();
                  Optional<MemoryEntry> entry = store.get(accessor(ctx), namespace, key);
                  return entry
                      .map(e -> ToolResult.json(entryJson(e, true)))
                      .orElseGet(() -> ToolResult.text("no entry " + namespace + "/" + key));
                }));
  }

  private static Tool put(MemoryStore store) {
    return Tool.of(
        PUT,
        "Stores a text value (often JSON) in the shared agent memory under namespace and key,"
            + " replacing what was there. A new entry is private to you unless you give a level:"
            + " 'swarm' or 'project' share it with your swarm or project (they may change it too),"
            + " 'public' lets every agent read it.",
        BuiltinSchemas.parse(
            "{\"type\": \"object\", \"properties\": {"
                + NAME_PROPERTIES
                + """
                ,
                "value": {"type": "string", "description": "The value to store."},
                "level": {"type": "string", "enum": ["private", "swarm", "project", "public"],
                  "description": "Who may reach the entry; kept as is when omitted (private for a new entry)."},
                "ttl_seconds": {"type": "integer", "minimum": 1,
                  "description": "Seconds until the entry expires; it lives until deleted when omitted."},
                "tags": {"type": "array", "items": {"type": "string", "minLength": 1},
                  "description": "Words to find the entry by."},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "String pairs about the value, such as source or confidence."}
              },
              "required": ["namespace", "key", "value"],
              "additionalProperties": false}
              """),
        (args, ctx) ->
            refusalsAsErrors(
                PUT,
                () -> {
                  MemoryWrite write = MemoryWrite.defaults();
                  if (args.hasNonNull("level")) {
                    write =
                        write.level(
                            MemoryAccessLevel.valueOf(
                                args.get("level").asText().toUpperCase(Locale.ROOT)));
                  }
                  if (args.hasNonNull("ttl_seconds")) {
                    write = write.ttl(Duration.ofSeconds(args.get("ttl_seconds").asLong()));
                  }
                  if (args.hasNonNull("tags")) {
                    List<String> tags = new ArrayList<>();
                    args.get("tags").forEach(t -> tags.add(t.asText()));
                    write = write.tags(tags.toArray(String[]::new));
                  }
                  if (args.hasNonNull("metadata")) {
                    Map<String, String> metadata = new LinkedHashMap<>();
                    args.get("metadata")
                        .properties()
                        .forEach(e -> metadata.put(e.getKey(), e.getValue().asText()));
                    write = write.metadata(metadata);
                  }
                  MemoryEntry stored =
                      store.put(
                          accessor(ctx),
                          args.get("namespace").asText(),
                          args.get("key").asText(),
                          args.get("value").asText(),
                          write);
                  return ToolResult.json(entryJson(stored, false));
                }));
  }

  private static Tool search(MemoryStore store) {
    return Tool.readOnly(
        SEARCH,
        "Full-text search of the shared agent memory you may read: keys, values and tags. All"
            + " words must match; word* matches a prefix, \"two words\" a phrase, a OR b either."
            + " Returns the best matches first, as JSON.",
        BuiltinSchemas.parse(
            """
            {"type": "object", "properties": {
              "query": {"type": "string", "minLength": 1, "description": "What to look for."},
              "namespace": {"type": "string", "minLength": 1, "maxLength": 512,
                "description": "Search only this namespace; every namespace when omitted."},
              "limit": {"type": "integer", "minimum": 1, "maximum": 100,
                "description": "At most this many results; 10 when omitted."}
            },
            "required": ["query"], "additionalProperties": false}
            """),
        (args, ctx) ->
            refusalsAsErrors(
                SEARCH,
                () -> {
                  String namespace =
                      args.hasNonNull("namespace") ? args.get("namespace").asText() : null;
                  int limit = args.hasNonNull("limit") ? args.get("limit").asInt() : 10;
                  List<MemoryMatch> matches =
                      store.search(accessor(ctx), args.get("query").asText(), namespace, limit);
                  ArrayNode results = ToolJson.array();
                  for (MemoryMatch m : matches) {
                    results.add(entryJson(m.entry(), true).put("relevance", m.relevance()));
                  }
                  return ToolResult.json(results);
                }));
  }

  private static Tool delete(MemoryStore store) {
    return Tool.of(
        DELETE,
        "Deletes one entry of the shared agent memory, if you may change it.",
        BuiltinSchemas.parse(
            "{\"type\": \"object\", \"properties\": {"
                + NAME_PROPERTIES
                + "}, \"required\": [\"namespace\", \"key\"], \"additionalProperties\": false}"),
        (args, ctx) ->
            refusalsAsErrors(
                DELETE,
                () -> {
                  String namespace = args.get("namespace").asText();
                  String key = args.get("key").asText();
                  boolean deleted = store.delete(accessor(ctx), namespace, key);
                  return ToolResult.text(
                      (deleted ? "deleted " : "no entry ") + namespace + "/" + key);
                }));
  }

  private static MemoryAccessor accessor(ToolContext ctx) {
    return MemoryAccessor.of(ctx.agent(), ctx.swarm(), ctx.project());
  }

  /** The store's refusals (access levels, bad names) as error results with the store's words. */
  private static ToolResult refusalsAsErrors(String tool, Body body) {
    try {
      return body.run();
    } catch (MemoryAccessException e) {
      return ToolResult.error(tool + " refused: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      return ToolResult.error(tool + " cannot do that: " + e.getMessage());
    }
  }

  private interface Body {
    ToolResult run();
  }

  static ObjectNode entryJson(MemoryEntry e, boolean withValue) {
    ObjectNode node = ToolJson.object().put("namespace", e.namespace()).put("key", e.key());
    if (withValue) {
      node.put("value", e.value());
    }
    ObjectNode metadata = node.putObject("metadata");
    e.metadata().forEach(metadata::put);
    ArrayNode tags = node.putArray("tags");
    e.tags().forEach(tags::add);
    node.put("level", e.level().name().toLowerCase(Locale.ROOT));
    node.put("owner", e.owner());
    putIfPresent(node, "swarm", e.swarm());
    putIfPresent(node, "project", e.project());
    node.put("createdAt", e.createdAt().toString());
    node.put("updatedAt", e.updatedAt().toString());
    if (e.expiresAt() != null) {
      node.put("expiresAt", e.expiresAt().toString());
    }
    return node;
  }

  private static void putIfPresent(ObjectNode node, String field, String value) {
    if (value != null) {
      node.put(field, value);
    }
  }
}
