package dev.cfn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.ProviderTrust;
import dev.cfn.ai.tool.BuiltinTools;
import dev.cfn.ai.tool.ToolAudit;
import dev.cfn.ai.tool.ToolPermissions;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.store.memory.SqliteMemoryStore;
import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Protocol;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn run AGENT TASK...}: runs one task through an agent definition as an {@link LlmAgent}
 * on an embedded runtime, with the providers of {@code .cfn/providers.yaml} and the {@code
 * OPENAI_*} / {@code ANTHROPIC_*} environment, the built-in tools (memory, messaging, files inside
 * the workspace) under the definition's permissions, and a budget from the flags. Prints the answer
 * on stdout and the usage, cost and tool calls on stderr ({@code --json}: one object on stdout).
 * Exit status: 0 when the task finished, 1 when it failed (budget, turns, model error), 2 for bad
 * input. The project's hooks file ({@code .cfn/hooks.yaml} of {@code --project}, or {@code
 * --hooks}) and the definition's own {@code hooks:} run only with {@code --trust-hooks}, as for the
 * other commands that run agents ({@link HookOptions}).
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Runs a task through an agent definition (an LLM agent with its tools) and prints the"
            + " answer.")
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "AGENT", description = "The agent's name.")
  String agent;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "TASK", description = "The task.")
  List<String> task;

  @Option(
      names = "--agents",
      paramLabel = "PATH",
      description = "Agent files or folders, repeatable (default: .claude/agents).")
  List<Path> agents;

  @Option(
      names = "--project",
      paramLabel = "DIR",
      description = "Where .cfn/providers.yaml is looked up (default: the current folder).")
  Path project = Path.of(".");

  /**
   * The file tools' folder when {@code --workspace} is not given: {@code workspace} in the {@code
   * --project} folder, created when the agent may use a file tool. Never the project folder itself,
   * which holds {@code .cfn} and {@code .claude} (the file tools refuse those in any workspace as
   * well), and nothing cfn loads as configuration lives under it.
   */
  static final Path DEFAULT_WORKSPACE = Path.of("workspace");

  @Option(
      names = "--workspace",
      paramLabel = "DIR",
      description =
          "The only folder the file tools may touch (default: workspace in the project folder,"
              + " created on first use)."
              + " .cfn, .claude, .git and store files are refused in any workspace.")
  Path workspace;

  @Option(
      names = "--memory",
      paramLabel = "FILE",
      description = "The agents' memory (default: .cfn/memory.db).")
  Path memory = SqliteMemoryStore.DEFAULT_FILE;

  @Option(names = "--max-calls", paramLabel = "N", description = "At most N model calls.")
  Long maxCalls;

  @Option(names = "--max-tokens", paramLabel = "N", description = "At most N tokens in all.")
  Long maxTokens;

  @Option(names = "--max-cost", paramLabel = "USD", description = "At most this many US dollars.")
  BigDecimal maxCost;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Wall-time limit, such as 90s or 10m (default: 10m).")
  Duration timeout = Duration.ofMinutes(10);

  @Option(
      names = "--trust-providers",
      description =
          "Trust the project's .cfn/providers.yaml as it is now (read it first): it may then send"
              + " keys from the environment to the hosts it names. Recorded by the file's SHA-256"
              + " in ~/.config/cfn/trusted-providers; any later change withdraws the trust.")
  boolean trustProviders;

  /** {@code --trust-hooks} and {@code --hooks}: the project's hooks file and the definition's. */
  @Mixin HookOptions hooks = new HookOptions();

  @Option(names = "--json", description = "Print the outcome as one JSON object.")
  boolean json;

  @Option(
      names = "--replay",
      paramLabel = "CASSETTE",
      description =
          "Answer the model calls from a cassette (cfn testkit record) instead of a provider:"
              + " offline, no key; e.g. examples/quickstart/cassette.json.")
  Path replay;

  @Option(
      names = "--stream",
      description = "Print the model's text as it arrives (not with --json).")
  boolean stream;

  /** The environment the providers are configured from (tests replace it). */
  static Map<String, String> environment = System.getenv();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (stream && json) {
      throw CommandFailure.usage("--stream and --json do not go together", "pick one");
    }
    ValueConverters.positive("--timeout", timeout);
    if (maxCalls != null) {
      ValueConverters.atLeast("--max-calls", maxCalls, 1);
    }
    if (maxTokens != null) {
      ValueConverters.atLeast("--max-tokens", maxTokens, 1);
    }
    if (maxCost != null && maxCost.signum() <= 0) {
      throw CommandFailure.usage(
          "--max-cost must be above 0, was " + maxCost.toPlainString(), "such as --max-cost 0.50");
    }
    for (Path dir : new Path[] {project, workspace}) {
      if (dir != null && !Files.isDirectory(dir)) { // no --workspace: the default, made on use
        throw CommandFailure.usage(
            (dir == project ? "--project " : "--workspace ") + dir + " is not a folder",
            "give an existing folder");
      }
    }
    if (Files.isDirectory(memory)) {
      throw CommandFailure.usage(
          "--memory " + memory + " is a folder, not a memory file",
          "give the file, e.g. --memory " + memory.resolve("memory.db"));
    }
    List<Path> paths = AgentCommand.pathsOrDefault(agents, "cfn run");
    LoadResult loaded = DefinitionLoader.load(paths);
    AgentDefinition definition = loaded.find(agent).orElse(null);
    if (definition == null) {
      int unreadable = loaded.invalidFiles().size();
      throw CommandFailure.usage(
          "no valid agent named '"
              + agent
              + "' in "
              + paths.stream().map(Path::toString).collect(Collectors.joining(" "))
              + "; the agents there: "
              + (loaded.definitions().isEmpty()
                  ? "none"
                  : loaded.definitions().stream()
                      .map(AgentDefinition::name)
                      .collect(Collectors.joining(", ")))
              + (unreadable == 0
                  ? ""
                  : "; " + AgentCommand.plural(unreadable, "file") + " could not be read"),
          "check the name; cfn agent validate shows what is wrong with a file");
    }
    Hooks projectHooks =
        hooks.load(project, "cfn run", err); // a malformed file: exit 2, nothing ran
    ModelServer replayServer = null;
    ModelConfig config;
    if (replay != null) {
      PathChecks.existingFile("--replay", replay, "cassette");
      Cassette cassette = TestkitCommand.load(replay);
      if (cassette.size() == 0) {
        throw CommandFailure.usage(
            replay + " holds no recorded calls", "record some with cfn testkit record");
      }
      // Replayed calls cost nothing: the price table's "no price for this model" warning would be
      // the only line a newcomer sees beside the answer (slf4j-simple reads this when the
      // PriceTable class makes its logger, which happens below).
      System.setProperty(
          "org.slf4j.simpleLogger.log.dev.cfn.ai.budget.PriceTable",
          System.getProperty("org.slf4j.simpleLogger.log.dev.cfn.ai.budget.PriceTable", "error"));
      replayServer = ModelServer.start(cassette);
      config = replayConfig(cassette, replayServer);
    } else {
      ProviderTrust trust = ProviderTrust.load(environment);
      Path providersFile = project.resolve(ModelConfig.DEFAULT_FILE);
      if (trustProviders && Files.isRegularFile(providersFile)) {
        trust = trust.trust(providersFile);
      }
      config = ModelConfig.discover(project, environment, trust); // refusals exit 2 (ErrorReport)
      for (String warning : config.warnings()) {
        err.println("cfn run: warning: " + warning);
      }
    }
    try {
      return run(config, definition, projectHooks, out, err);
    } finally {
      if (replayServer != null) {
        replayServer.close();
      }
    }
  }

  /**
   * One provider, {@code replay}, at the loopback server that plays the cassette, speaking the
   * protocol and defaulting to the model of its first recorded call.
   */
  static ModelConfig replayConfig(Cassette cassette, ModelServer server) {
    Cassette.Interaction first = cassette.interactions().getFirst();
    boolean anthropic = first.protocol() == Protocol.ANTHROPIC;
    String model = first.request().path("model").asText("");
    String yaml =
        "providers:\n  replay:\n    kind: "
            + (anthropic ? "anthropic" : "openai")
            + "\n    base-url: "
            + (anthropic ? server.anthropicBaseUrl() : server.openAiBaseUrl())
            + "\n    api-key: ${CFN_REPLAY_KEY}\n"
            + (model.isEmpty() ? "" : "    model: '" + model.replace("'", "''") + "'\n");
    // the key is a variable, as a providers file should have it; the player ignores it
    return ModelConfig.parse(yaml, "--replay", Map.of("CFN_REPLAY_KEY", "replay"));
  }

  private int run(
      ModelConfig config,
      AgentDefinition definition,
      Hooks projectHooks,
      PrintWriter out,
      PrintWriter err)
      throws Exception {
    Budget.Builder limits = Budget.builder("cfn run " + agent).maxWallTime(timeout);
    if (maxCalls != null) {
      limits.maxCalls(maxCalls);
    }
    if (maxTokens != null) {
      limits.maxTokens(maxTokens);
    }
    if (maxCost != null) {
      limits.maxCostUsd(maxCost);
    }
    Budget budget = limits.build();
    ToolAudit audit = new ToolAudit();
    Path memoryFile = memory.toAbsolutePath();
    Path memoryFolder = memoryFile.getParent();
    if (memoryFolder != null) {
      Files.createDirectories(memoryFolder);
    }
    Object outcome;
    try (ModelRouter router = ModelRouter.create(config);
        SqliteMemoryStore store = SqliteMemoryStore.open(memoryFile);
        AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).build()) {
      ToolRegistry tools = new ToolRegistry();
      BuiltinTools.Builder builtins = BuiltinTools.builder().memory(store).messaging();
      Path files = workspace;
      if (files == null
          && BuiltinTools.FILES.stream()
              .anyMatch(ToolPermissions.forDefinition(definition)::permits)) {
        files = Files.createDirectories(project.resolve(DEFAULT_WORKSPACE));
      }
      if (files != null) {
        builtins.workspace(files);
      }
      builtins.registerIn(tools);
      LlmAgent.Builder agentBuilder =
          LlmAgent.builder(definition).router(router).tools(tools).audit(audit).budget(budget);
      hooks.apply(agentBuilder, projectHooks);
      if (stream) {
        agentBuilder.streamTo(
            delta -> {
              out.print(delta);
              out.flush();
            });
      }
      rt.register(agentBuilder.type(definition.name()));
      try {
        outcome =
            rt.request(
                    AgentId.of(definition.name(), "cli"),
                    new Task(String.join(" ", task)),
                    timeout.plusSeconds(30))
                .join()
                .payload();
      } catch (CompletionException e) {
        throw CommandFailure.failed(
            "no answer from the agent: " + e.getCause().getMessage(),
            "--debug shows the model calls; --timeout gives it longer");
      }
    }
    Budget.Spent spent = budget.spent();
    long denied =
        audit.recent().stream().filter(e -> e.outcome() == ToolAudit.Outcome.DENIED).count();
    if (json) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("agent", definition.name());
      switch (outcome) {
        case TaskResult done -> {
          r.put("outcome", "done");
          r.put("text", done.text());
          r.put("turns", done.turns());
          r.put("toolCalls", done.toolCalls());
          r.put("stopReason", done.stopReason().name());
        }
        case TaskFailed failed -> {
          r.put("outcome", "failed");
          r.put("kind", failed.kind().name());
          r.put("reason", failed.reason());
        }
        default -> r.put("outcome", String.valueOf(outcome));
      }
      r.put("inputTokens", spent.inputTokens());
      r.put("outputTokens", spent.outputTokens());
      r.put("cachedTokens", spent.cachedTokens());
      r.put("modelCalls", spent.calls());
      r.put("costUsd", spent.costUsd());
      r.put("deniedToolCalls", denied);
      out.println(
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r));
    } else {
      switch (outcome) {
        case TaskResult done -> out.println(stream ? "" : done.text());
        case TaskFailed failed ->
            err.println("cfn run: the task failed (" + failed.kind() + "): " + failed.reason());
        default -> err.println("cfn run: unexpected answer " + outcome);
      }
      err.printf(
          Locale.ROOT,
          "%d model calls, %d input tokens (%d cached), %d output tokens, $%s; %d tool calls, %d"
              + " denied%n",
          spent.calls(),
          spent.inputTokens(),
          spent.cachedTokens(),
          spent.outputTokens(),
          spent.costUsd().toPlainString(),
          audit.recent().size(),
          denied);
    }
    out.flush();
    err.flush();
    return outcome instanceof TaskResult ? 0 : 1;
  }
}
