package dev.cfn.bench;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ChatRequest;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.tool.Param;
import dev.cfn.ai.tool.ToolMethod;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * cfn's side of {@code cfn bench agents}, each through the public API a user would call: the
 * provider a {@link ModelRouter} makes from a providers file (retries, rate limit and circuit
 * breaker included), {@link LlmAgent}s in an {@link AgentRuntime} reached with {@code rt.request},
 * and the same with RELIABLE delivery on a SQLite journal and a durable call log.
 */
final class CfnContenders {
  private CfnContenders() {}

  static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String PROVIDER = "local";

  /** A router with one OpenAI-protocol provider at {@code baseUrl}, as a providers file says. */
  static ModelRouter router(String baseUrl) {
    String yaml =
        "providers:\n"
            + "  "
            + PROVIDER
            + ":\n"
            + "    kind: openai\n"
            + "    base-url: "
            + baseUrl
            + "\n"
            + "    api-key: ${CFN_BENCH_API_KEY}\n"
            + "    model: bench-model\n"
            + "default: {provider: "
            + PROVIDER
            + "}\n";
    return ModelRouter.create(
        ModelConfig.parse(yaml, "cfn bench agents", Map.of("CFN_BENCH_API_KEY", "bench-key")));
  }

  static AgentDefinition definition(boolean tools) {
    String text =
        "---\nname: bench\ndescription: A benchmark agent\ntools: "
            + (tools ? "[" + AgentsScript.TOOL_NAME + "]" : "[]")
            + "\n---\n"
            + AgentsScript.SYSTEM
            + "\n";
    LoadResult result = DefinitionLoader.parse(text, Path.of("bench.md"));
    if (result.hasErrors()) {
      throw new IllegalStateException("the benchmark's agent definition: " + result.errors());
    }
    return result.definitions().getFirst();
  }

  /** The tool of the tool round trip; counts its calls so the driver can check they happened. */
  static final class Calculator {
    final AtomicLong calls = new AtomicLong();

    @ToolMethod(name = "add", description = AgentsScript.TOOL_DESCRIPTION, sideEffecting = false)
    public long add(
        @Param(name = "a", description = "first") long a,
        @Param(name = "b", description = "second") long b) {
      calls.incrementAndGet();
      return a + b;
    }
  }

  /** {@code ModelProvider.chat} alone: no runtime, no agent. */
  static final class Provider implements AgentsContender {
    private final ModelRouter router;
    private final ModelProvider provider;
    private final ChatRequest request;

    Provider(String baseUrl) {
      router = router(baseUrl);
      provider = router.provider(PROVIDER);
      request = ChatRequest.builder().system(AgentsScript.SYSTEM).user(AgentsScript.PROMPT).build();
    }

    @Override
    public String task(int slot) {
      return provider.chat(request).text();
    }

    @Override
    public String expected() {
      return AgentsScript.ANSWER;
    }

    @Override
    public int modelCallsPerTask() {
      return 1;
    }

    @Override
    public void close() {
      router.close();
    }
  }

  /**
   * {@code rt.request(agent, new Task(..))} to {@link LlmAgent}s, one agent per driver slot (an
   * agent handles one message at a time), best-effort; with {@code tools}, the agent may call the
   * {@code add} tool and the task is a tool round trip.
   */
  static final class Agent implements AgentsContender {
    private final ModelRouter router;
    private final AgentRuntime rt;
    private final AgentId[] agents;
    private final boolean tools;
    private final Calculator calculator = new Calculator();

    Agent(String baseUrl, int slots, boolean tools) {
      this.tools = tools;
      router = router(baseUrl);
      ToolRegistry registry = new ToolRegistry();
      if (tools) {
        registry.register(calculator);
      }
      rt =
          AgentRuntime.builder()
              .name("bench")
              .register(
                  LlmAgent.builder(definition(tools)).router(router).tools(registry).type("llm"))
              .build();
      agents = new AgentId[slots];
      for (int i = 0; i < slots; i++) {
        agents[i] = AgentId.of("llm", Integer.toString(i));
      }
    }

    @Override
    public String task(int slot) throws Exception {
      Object answer =
          rt.request(
                  agents[slot],
                  new Task(tools ? AgentsScript.TOOL_PROMPT : AgentsScript.PROMPT),
                  TIMEOUT)
              .get(TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS)
              .payload();
      return text(answer);
    }

    @Override
    public String expected() {
      return tools ? AgentsScript.TOOL_ANSWER : AgentsScript.ANSWER;
    }

    @Override
    public int modelCallsPerTask() {
      return tools ? 2 : 1;
    }

    @Override
    public long toolCalls() {
      return calculator.calls.get();
    }

    @Override
    public void close() {
      rt.close();
      router.close();
    }
  }

  /** The text of a {@link TaskResult}; a {@link TaskFailed} or anything else is an exception. */
  static String text(Object answer) {
    if (answer instanceof TaskResult r) {
      return r.text();
    }
    if (answer instanceof TaskFailed f) {
      throw new IllegalStateException("task failed: " + f.kind() + ": " + f.reason());
    }
    throw new IllegalStateException("unexpected answer " + answer);
  }

  /**
   * RELIABLE tasks: the driver sends each {@link Task} as a RELIABLE request straight to its own
   * {@link LlmAgent} (one per slot), {@code rt.request(Envelope.to(agent).delivery(RELIABLE)
   * .payload(task), timeout)}, as a user outside the runtime would (no relay agent): the request is
   * journaled and fsynced before it is delivered, the agent's model call (the task's final answer)
   * commits with the request's acknowledgement, in the reply that transaction journals, and is
   * recorded nowhere else (a task that called tools would record those turns in the durable call
   * log first), and the reply is then claimed by the waiting future. Journal and call log go to a
   * temporary folder, removed on close; both at SQLite {@code synchronous=FULL} (their default).
   * The request call returns without waiting for the fsync and the task is delivered once durable;
   * with the JVM property {@value #EARLY_DELIVERY} set to true (given to the coordinator, e.g. in
   * {@code CFN_BENCH_JVM_OPTS}, every worker gets its flags) the runtime delivers it while its
   * append is queued ({@code AgentRuntime.Builder.earlyDelivery}), to measure what that saves.
   */
  static final class Reliable implements AgentsContender {
    /** The JVM property that turns on early delivery for the RELIABLE scenario. */
    static final String EARLY_DELIVERY = "cfn.bench.agents.earlyDelivery";

    /**
     * The JVM property that sets the journal's {@link SqliteJournal.Synchronous} level for the
     * RELIABLE scenario (default FULL), to measure what the fsync of each commit costs.
     */
    static final String SYNCHRONOUS = "cfn.bench.agents.synchronous";

    private final Path dir;
    private final ModelRouter router;
    private final SqliteCallLogStore calls;
    private final SqliteJournal journal;
    private final AgentRuntime rt;
    private final AgentId[] agents;

    Reliable(String baseUrl, int slots) throws Exception {
      dir = Files.createTempDirectory("cfn-bench-agents");
      router = router(baseUrl);
      calls = SqliteCallLogStore.builder(dir.resolve("calls.db")).open();
      journal =
          SqliteJournal.builder(dir.resolve("cfn.db"))
              .synchronous(
                  SqliteJournal.Synchronous.valueOf(System.getProperty(SYNCHRONOUS, "FULL")))
              .payloadType(Task.class, TaskResult.class, TaskFailed.class)
              .open();
      rt =
          AgentRuntime.builder()
              .name("bench")
              .earlyDelivery(Boolean.getBoolean(EARLY_DELIVERY))
              .journal(journal)
              .register(
                  LlmAgent.builder(definition(false))
                      .router(router)
                      .callLog(CallLog.durable(calls))
                      .type("llm"))
              .build();
      agents = new AgentId[slots];
      for (int i = 0; i < slots; i++) {
        agents[i] = AgentId.of("llm", Integer.toString(i));
      }
    }

    /**
     * The journal's commits, committed write operations, time spent in committed transactions
     * (nanoseconds), WAL fsyncs done beside the writer and their time (nanoseconds) so far ({@link
     * ReliableCostProbe}).
     */
    long[] journalCounts() {
      return new long[] {
        journal.commitCount(),
        journal.committedWrites(),
        journal.commitNanos(),
        journal.walSyncCount(),
        journal.walSyncNanos()
      };
    }

    /** The call log's record count so far ({@link ReliableCostProbe}). */
    long callRecords() {
      return calls.count();
    }

    @Override
    public String task(int slot) throws Exception {
      Object answer =
          rt.request(
                  Envelope.to(agents[slot])
                      .delivery(DeliveryMode.RELIABLE)
                      .payload(new Task(AgentsScript.PROMPT)),
                  TIMEOUT)
              .get(TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS)
              .payload();
      return text(answer);
    }

    @Override
    public String expected() {
      return AgentsScript.ANSWER;
    }

    @Override
    public int modelCallsPerTask() {
      return 1;
    }

    @Override
    public void close() throws Exception {
      try {
        rt.close();
        calls.close();
        router.close();
      } finally {
        BenchMain.deleteTree(dir);
      }
    }
  }
}
