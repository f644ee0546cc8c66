package dev.cfn.flow.swarm;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ChatRequest;
import dev.cfn.ai.model.ChatResponse;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.StreamListener;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link DurableSwarmTest}: a durable swarm {@code team} (ring topology, budget of
 * {@value #MAX_CALLS} model calls) on a SQLite journal and call log in {@code args[0]}, with an LLM
 * member {@code worker/1} and four plain members. With one argument the worker answers from an
 * instant model of {@value #INPUT}+{@value #OUTPUT} tokens a call; the child spends two calls
 * (tasks {@code t1}, {@code t2}), has the topology refuse one message, waits for the ledger, prints
 * {@code SPENT CALLS REFUSED} and SIGKILLs itself: no clean stop of anything. With {@code args[1]}
 * the base URL of an OpenAI-compatible model server, the worker asks it, and the child sends the
 * worker one RELIABLE request from outside (no idempotency key: its final answer is recorded with
 * the request's acknowledgement, not in the call log), prints {@code ANSWERED TEXT SPENT CALLS}
 * once the reply is in, and SIGKILLs itself.
 */
public final class LedgerCrashChild {
  private LedgerCrashChild() {}

  static final int MAX_CALLS = 3;
  static final long INPUT = 100;
  static final long OUTPUT = 20;

  /** An instant model answering every prompt with a fixed usage, counting its calls. */
  static final class InstantModel implements ModelProvider {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public String name() {
      return "instant";
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
      calls.incrementAndGet();
      return new ChatResponse(
          "done", List.of(), StopReason.END, new Usage(INPUT, OUTPUT, 0), "test-model");
    }

    @Override
    public ChatResponse stream(ChatRequest request, StreamListener listener) {
      return chat(request);
    }
  }

  static AgentDefinition worker() {
    return DefinitionLoader.parse(
            "---\nname: worker\ndescription: The worker\ntools: []\n---\nYou are the worker.\n",
            Path.of("worker.md"))
        .definitions()
        .getFirst();
  }

  /** What one node of the test holds open: journal, call log, runtime, swarm. */
  record Node(
      SqliteJournal journal,
      SqliteCallLogStore calls,
      AgentRuntime runtime,
      Swarm swarm,
      InstantModel model)
      implements AutoCloseable {
    static Node open(Path dir) {
      return open(dir, MAX_CALLS, null);
    }

    /**
     * The node on {@code dir}, its swarm's budget admitting {@code maxCalls}, its worker asking
     * {@code provider} (null: the instant model).
     */
    static Node open(Path dir, long maxCalls, ModelProvider provider) {
      SqliteJournal journal =
          SqliteJournal.builder(dir.resolve("journal.db"))
              .payloadType(Task.class, TaskResult.class, TaskFailed.class)
              .open();
      SqliteCallLogStore calls =
          SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
      AgentRuntime rt =
          AgentRuntime.builder().jvmMetrics(false).carriers(2).journal(journal).build();
      Budget budget = Budget.builder("swarm team").maxCalls(maxCalls).build();
      Swarm swarm =
          Swarm.builder("team", rt).topology(Topology.RING).budget(budget).durable(journal).build();
      InstantModel model = new InstantModel();
      rt.register(
          LlmAgent.builder(worker())
              .model(provider != null ? provider : model)
              .callLog(CallLog.durable(calls))
              .budgetPerAgent(swarm::memberBudget)
              .type("worker"));
      rt.register(new Members().type());
      swarm.join(AgentId.of("worker", "1"), "worker", List.of());
      Members.join(swarm, 0, 4);
      return new Node(journal, calls, rt, swarm, model);
    }

    @Override
    public void close() {
      swarm.close();
      runtime.close();
      calls.close();
      journal.close();
    }
  }

  /** A provider asking the OpenAI-compatible server at {@code baseUrl}. */
  static ModelProvider server(String baseUrl) {
    return OpenAiProvider.create(
        ProviderConfig.builder("test", ProviderConfig.Kind.OPENAI)
            .baseUrl(baseUrl)
            .apiKey("test-key")
            .model("test-model")
            .requestTimeout(Duration.ofSeconds(30))
            .build());
  }

  /** Asks the worker {@code prompt} by a RELIABLE request from outside, without a key. */
  static String askReliably(AgentRuntime rt, String prompt) throws Exception {
    Envelope reply =
        rt.request(
                Envelope.to(AgentId.of("worker", "1"))
                    .delivery(DeliveryMode.RELIABLE)
                    .payload(new Task(prompt)),
                Duration.ofSeconds(60))
            .get(90, TimeUnit.SECONDS);
    if (reply.payload() instanceof TaskResult r) {
      return r.text();
    }
    throw new IllegalStateException("the worker answered " + reply.payload());
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (args.length > 1) {
      Node n = Node.open(Path.of(args[0]), MAX_CALLS, server(args[1]));
      String answer = askReliably(n.runtime(), "answer once");
      out.println("ANSWERED " + answer + " SPENT " + n.swarm().budget().spent().calls());
      killSelf();
    }
    Node n = Node.open(Path.of(args[0]));
    for (String task : new String[] {"t1", "t2"}) {
      DurableSwarmTest.task(n.swarm(), task);
    }
    // ring of worker/1, m0, m1, m2, m3: m0 may not message m2
    String refused = Members.send(n.runtime(), Members.id(0), Members.id(2));
    if (refused.equals("sent")) {
      throw new IllegalStateException("the ring let m0 message m2");
    }
    n.swarm().awaitLedger(Duration.ofSeconds(60));
    Budget.Spent spent = n.swarm().budget().spent();
    out.println("SPENT " + spent.calls() + " " + n.swarm().status().refused());
    killSelf();
  }

  private static void killSelf() throws Exception {
    new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
        .inheritIO()
        .start()
        .waitFor();
    Thread.sleep(60_000); // the signal is on its way
    Runtime.getRuntime().halt(3);
  }
}
