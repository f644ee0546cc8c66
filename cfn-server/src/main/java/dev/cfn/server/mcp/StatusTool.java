package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfig;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code status}: the server (who it serves, what is allowed, the calls so far by outcome), the
 * store (the memory file, whether it exists and is open), the agents (how many valid, invalid
 * files) and the runtime (runs in progress, finished, failed, model calls). Reading, allowed.
 */
final class StatusTool {
  private final McpSettings settings;
  private final McpPrincipal principal;
  private final AgentTools agents;
  private final MemoryFile memory;
  private final RunTool runs;
  private final Supplier<ToolCatalog> catalog;
  private final Instant started = Instant.now();

  StatusTool(
      McpSettings settings,
      McpPrincipal principal,
      AgentTools agents,
      MemoryFile memory,
      RunTool runs,
      Supplier<ToolCatalog> catalog) {
    this.settings = settings;
    this.principal = principal;
    this.agents = agents;
    this.memory = memory;
    this.runs = runs;
    this.catalog = catalog;
  }

  List<ToolDef> tools() {
    return List.of(
        new ToolDef(
            "status",
            "The cfn node's status: the server (principal, allowed permissions, calls so far),"
                + " the memory store, the agent definitions and the runtime's task runs.",
            AgentTools.schema(
                "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"),
            null,
            true,
            args -> status()));
  }

  private ToolDef.Answer status() {
    ObjectNode out = ToolCatalog.object();
    ObjectNode server = out.putObject("server");
    server.put("principal", principal.name());
    server.put("transport", principal.transport());
    server.put("home", settings.home().toString());
    server.put("startedAt", started.toString());
    server.put("uptimeSeconds", Duration.between(started, Instant.now()).toSeconds());
    ArrayNode allowed = server.putArray("allowed");
    for (McpPermission p : McpPermission.values()) {
      if (settings.allows(p)) {
        allowed.add(p.label());
      }
    }
    ObjectNode calls = server.putObject("calls");
    catalog.get().counts().forEach((k, v) -> calls.put(k.name().toLowerCase(Locale.ROOT), v));

    ObjectNode store = out.putObject("store");
    store.put("memoryFile", memory.path().toString());
    store.put("exists", Files.exists(memory.path()));
    store.put("open", memory.isOpen());
    store.put("memoryPrincipal", settings.memoryAs().agentId());

    LoadResult loaded = agents.load();
    ObjectNode defs = out.putObject("agents");
    defs.put("valid", loaded.definitions().size());
    defs.put("invalidFiles", loaded.invalidFiles().size());

    ObjectNode runtime = out.putObject("runtime");
    runtime.put("kind", "embedded, one in-process runtime per task run");
    runtime.put("running", runs.running());
    runtime.put("finished", runs.finished());
    runtime.put("failed", runs.failed());
    runtime.put("modelCalls", runs.modelCalls());
    runtime.put(
        "providersFile",
        Files.isRegularFile(settings.home().resolve(ModelConfig.DEFAULT_FILE))
            ? settings.home().resolve(ModelConfig.DEFAULT_FILE).toString()
            : "none (providers from the environment)");
    return ToolDef.Answer.done(out, "status");
  }
}
