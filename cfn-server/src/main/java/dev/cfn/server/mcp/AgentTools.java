package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code agents_list} and {@code agent_validate}: the agent definitions of the server's agent
 * folders (read again on every call, so that an edited file counts at once), and the check of a
 * definition's text before it is written to a file.
 */
final class AgentTools {
  /** The longest definition text {@code agent_validate} takes, as the loader's file limit. */
  static final int MAX_DEFINITION_CHARS = DefinitionLoader.MAX_FILE_BYTES;

  private final McpSettings settings;

  AgentTools(McpSettings settings) {
    this.settings = settings;
  }

  List<ToolDef> tools() {
    return List.of(
        new ToolDef(
            "agents_list",
            "Lists the cfn agent definitions (Markdown files with YAML frontmatter, as Claude Code"
                + " writes them) in the server's agent folders: name, description, model, tools"
                + " and file of each valid one, and the files that could not be read.",
            schema("{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"),
            null,
            true,
            args -> list()),
        new ToolDef(
            "agent_validate",
            "Checks agent definitions and returns every problem with its file, line and fix."
                + " Without arguments it checks the server's agent folders; with 'definition' it"
                + " checks that text (a whole .md file) without writing anything.",
            schema(
                AgentTools.fill(
                    """
                    {"type": "object",
                     "properties": {
                       "definition": {"type": "string", "minLength": 1, "maxLength": {0},
                         "description": "The text of one agent file: --- frontmatter --- and prompt."}
                     },
                     "additionalProperties": false}
                    """,
                    MAX_DEFINITION_CHARS)),
            null,
            true,
            this::validate));
  }

  LoadResult load() {
    List<Path> existing = settings.agents().stream().filter(Files::exists).toList();
    return existing.isEmpty() ? new LoadResult(List.of(), List.of()) : load(existing);
  }

  private static LoadResult load(List<Path> paths) {
    return DefinitionLoader.load(paths);
  }

  private ToolDef.Answer list() {
    LoadResult r = load();
    ObjectNode out = ToolCatalog.object();
    ArrayNode folders = out.putArray("folders");
    settings.agents().forEach(p -> folders.add(p.toString()));
    ArrayNode agents = out.putArray("agents");
    for (AgentDefinition d : r.definitions()) {
      ObjectNode a = agents.addObject();
      a.put("name", d.name());
      a.put("description", d.description());
      a.put("model", d.model());
      ArrayNode tools = a.putArray("tools");
      if (d.tools() != null) {
        d.tools().forEach(tools::add);
      }
      a.put("file", String.valueOf(d.source()));
    }
    ArrayNode invalid = out.putArray("invalidFiles");
    r.invalidFiles().forEach(p -> invalid.add(p.toString()));
    if (r.definitions().isEmpty() && r.files().isEmpty()) {
      out.put(
          "note",
          "no agent files in "
              + settings.agents()
              + "; write one there (agent_validate checks its text first)");
    }
    return ToolDef.Answer.done(out, r.definitions().size() + " agents listed");
  }

  private ToolDef.Answer validate(JsonNode args) {
    LoadResult r =
        args.has("definition") ? DefinitionLoader.parse(args.get("definition").asText()) : load();
    ObjectNode out = ToolCatalog.JSON.valueToTree(r.report());
    return ToolDef.Answer.done(
        out, (r.hasErrors() ? "invalid" : "valid") + ", " + r.problems().size() + " problem(s)");
  }

  /** {@code template} with {@code {0}}, {@code {1}}... replaced by the values, in order. */
  static String fill(String template, Object... values) {
    String text = template;
    for (int i = 0; i < values.length; i++) {
      text = text.replace("{" + i + "}", String.valueOf(values[i]));
    }
    return text;
  }

  static JsonNode schema(String json) {
    try {
      return ToolCatalog.JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a built-in MCP tool schema is not JSON: " + e, e);
    }
  }
}
