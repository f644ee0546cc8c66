package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.ProviderTrust;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolAudit;
import dev.cfn.ai.tool.ToolPermissions;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * {@code run_task} (needs {@link McpPermission#RUN}): runs one task through an agent definition as
 * an {@link LlmAgent} on an embedded {@link AgentRuntime}, as {@code cfn run} does: the providers
 * of {@code home/.cfn/providers.yaml} and the environment (read on every call, under the user's
 * provider trust), the built-in tools (memory, messaging, files inside {@code home/workspace})
 * under the definition's permissions, and a budget from the arguments, each bounded by the schema.
 * The definition's own hooks never run. Each call gets a runtime of its own, closed when it
 * answers, so that concurrent runs never share a budget.
 */
final class RunTool {
  static final int MAX_CALLS = 200;
  static final int DEFAULT_CALLS = 20;
  static final long MAX_TOKENS = 5_000_000;
  static final long DEFAULT_TOKENS = 500_000;
  static final BigDecimal MAX_COST_USD = new BigDecimal("10");
  static final BigDecimal DEFAULT_COST_USD = new BigDecimal("1");
  static final int MAX_TIMEOUT_SECONDS = 3600;
  static final int DEFAULT_TIMEOUT_SECONDS = 600;
  static final int MAX_TASK_CHARS = 100_000;

  private final McpSettings settings;
  private final AgentTools agents;
  private final MemoryFile memory;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicLong finished = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong modelCalls = new AtomicLong();

  RunTool(McpSettings settings, AgentTools agents, MemoryFile memory) {
    this.settings = settings;
    this.agents = agents;
    this.memory = memory;
  }

  List<ToolDef> tools() {
    return List.of(
        new ToolDef(
            "run_task",
            "Runs a task through a cfn agent (an LLM agent with the tools its definition allows)"
                + " and returns its answer with the model calls, tokens and cost it spent. The"
                + " budget is bounded: at most maxCalls model calls, maxTokens tokens, maxCostUsd"
                + " US dollars and timeoutSeconds of wall time (defaults "
                + DEFAULT_CALLS
                + ", "
                + DEFAULT_TOKENS
                + ", "
                + DEFAULT_COST_USD
                + ", "
                + DEFAULT_TIMEOUT_SECONDS
                + ").",
            AgentTools.schema(
                AgentTools.fill(
                    """
                    {"type": "object",
                     "properties": {
                       "agent": {"type": "string", "minLength": 1, "maxLength": 128,
                         "description": "The agent's name (agents_list shows them)."},
                       "task": {"type": "string", "minLength": 1, "maxLength": {0}, "pattern": "\\\\S"},
                       "maxCalls": {"type": "integer", "minimum": 1, "maximum": {1}},
                       "maxTokens": {"type": "integer", "minimum": 1, "maximum": {2}},
                       "maxCostUsd": {"type": "number", "exclusiveMinimum": 0, "maximum": {3}},
                       "timeoutSeconds": {"type": "integer", "minimum": 1, "maximum": {4}}},
                     "required": ["agent", "task"], "additionalProperties": false}
                    """,
                    MAX_TASK_CHARS,
                    MAX_CALLS,
                    MAX_TOKENS,
                    MAX_COST_USD.toPlainString(),
                    MAX_TIMEOUT_SECONDS)),
            McpPermission.RUN,
            false,
            this::run,
            args -> new ToolDef.Target("agent", args.get("agent").asText())));
  }

  /** Runs in progress now. */
  int running() {
    return running.get();
  }

  /** Runs whose task finished. */
  long finished() {
    return finished.get();
  }

  /** Runs whose task failed (budget, turns, model error, no answer). */
  long failed() {
    return failed.get();
  }

  /** Model calls of every run so far. */
  long modelCalls() {
    return modelCalls.get();
  }

  private ToolDef.Answer run(JsonNode args) throws Exception {
    String name = args.get("agent").asText();
    AgentDefinition definition =
        agents
            .load()
            .find(name)
            .orElseThrow(
                () ->
                    new ToolFailure(
                        "no valid agent named '"
                            + name
                            + "'; the agents: "
                            + agents.load().definitions().stream()
                                .map(AgentDefinition::name)
                                .collect(Collectors.joining(", "))
                            + " (fix: agents_list shows them, agent_validate what is wrong with a"
                            + " file)"));
    ModelConfig config;
    try {
      config =
          ModelConfig.discover(
              settings.home(), settings.environment(), ProviderTrust.load(settings.environment()));
    } catch (ModelConfigException e) {
      throw new ToolFailure(
          "no model provider: "
              + e.getMessage()
              + " (fix: the user configures "
              + settings.home().resolve(ModelConfig.DEFAULT_FILE)
              + " or OPENAI_API_KEY / ANTHROPIC_API_KEY for the server)");
    }
    Duration timeout =
        Duration.ofSeconds(args.path("timeoutSeconds").asInt(DEFAULT_TIMEOUT_SECONDS));
    Budget budget =
        Budget.builder("mcp run_task " + name)
            .maxWallTime(timeout)
            .maxCalls(args.path("maxCalls").asLong(DEFAULT_CALLS))
            .maxTokens(args.path("maxTokens").asLong(DEFAULT_TOKENS))
            .maxCostUsd(
                args.has("maxCostUsd")
                    ? new BigDecimal(args.get("maxCostUsd").asText()) // 0.1, not its double
                    : DEFAULT_COST_USD)
            .build();
    running.incrementAndGet();
    try {
      Object outcome = runOn(config, definition, budget, args.get("task").asText(), timeout);
      Budget.Spent spent = budget.spent();
      modelCalls.addAndGet(spent.calls());
      ObjectNode out = ToolCatalog.object();
      out.put("agent", definition.name());
      boolean done = outcome instanceof TaskResult;
      switch (outcome) {
        case TaskResult r -> {
          out.put("outcome", "done");
          out.put("text", r.text());
          out.put("turns", r.turns());
          out.put("toolCalls", r.toolCalls());
          out.put("stopReason", r.stopReason().name());
        }
        case TaskFailed f -> {
          out.put("outcome", "failed");
          out.put("kind", f.kind().name());
          out.put("reason", f.reason());
        }
        default -> {
          out.put("outcome", "failed");
          out.put("reason", "unexpected answer " + outcome);
        }
      }
      out.put("modelCalls", spent.calls());
      out.put("inputTokens", spent.inputTokens());
      out.put("outputTokens", spent.outputTokens());
      out.put("costUsd", spent.costUsd());
      (done ? finished : failed).incrementAndGet();
      return new ToolDef.Answer(
          out,
          !done,
          definition.name()
              + ": "
              + (done ? "done" : "failed")
              + ", "
              + spent.calls()
              + " model call(s), $"
              + spent.costUsd().toPlainString());
    } catch (RuntimeException e) {
      failed.incrementAndGet();
      throw e;
    } finally {
      running.decrementAndGet();
    }
  }

  private Object runOn(
      ModelConfig config, AgentDefinition definition, Budget budget, String task, Duration timeout)
      throws Exception {
    try (ModelRouter router = ModelRouter.create(config);
        AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).build()) {
      ToolRegistry tools = new ToolRegistry();
      BuiltinTools.Builder builtins = BuiltinTools.builder().memory(memory.open()).messaging();
      if (BuiltinTools.FILES.stream()
          .anyMatch(ToolPermissions.forDefinition(definition)::permits)) {
        Path workspace = Files.createDirectories(settings.workspace());
        builtins.workspace(workspace);
      }
      builtins.registerIn(tools);
      rt.register(
          LlmAgent.builder(definition)
              .router(router)
              .tools(tools)
              .audit(new ToolAudit())
              .budget(budget)
              .type(definition.name()));
      try {
        return rt.request(
                AgentId.of(definition.name(), "mcp"), new Task(task), timeout.plusSeconds(30))
            .join()
            .payload();
      } catch (CompletionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        throw new ToolFailure(
            "no answer from agent '"
                + definition.name()
                + "': "
                + cause.getMessage()
                + " (fix: a longer timeoutSeconds, or check the model provider)");
      }
    }
  }
}
