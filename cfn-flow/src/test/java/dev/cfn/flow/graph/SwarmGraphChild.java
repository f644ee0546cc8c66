package dev.cfn.flow.graph;

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
import dev.cfn.ai.model.StopReason;
import dev.cfn.ai.model.StreamListener;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A RELIABLE graph run through a durable swarm, for {@link SwarmGraphTest}: the swarm {@code team}
 * (a budget of {@code maxCalls} model calls) on a SQLite journal and call log in a folder, its one
 * LLM member {@code writer/1} offering {@code write} and answering from an instant model of {@value
 * #INPUT}+{@value #OUTPUT} tokens a call, and the graph {@code story}: {@code draft} then {@code
 * polish}, both naming the capability {@code write}.
 *
 * <p>As a child JVM ({@code main(dir)}) it starts run {@code run-1}, and its model, asked to
 * polish, prints {@code POLISHING} and SIGKILLs the process: the draft is answered, charged and
 * committed, the polish request delivered to its member and its model call under way, nothing
 * stopped cleanly. With {@code main(dir, "pair")} the swarm has two members (see {@link
 * Node#open(Path, long, Model, boolean)}) and it prints {@code POLISHING A} or {@code B}.
 */
public final class SwarmGraphChild {
  private SwarmGraphChild() {}

  static final long INPUT = 100;
  static final long OUTPUT = 20;

  /** An instant model; {@code onPolish} runs when a prompt asks to polish. */
  static final class Model implements ModelProvider {
    final AtomicInteger calls = new AtomicInteger();
    final List<String> prompts = java.util.Collections.synchronizedList(new ArrayList<>());
    private final java.util.function.Consumer<String> onPolish;

    Model(java.util.function.Consumer<String> onPolish) {
      this.onPolish = onPolish;
    }

    @Override
    public String name() {
      return "instant";
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
      String prompt = request.toString();
      if (prompt.contains("polish") && onPolish != null) {
        onPolish.accept(prompt);
      }
      calls.incrementAndGet();
      prompts.add(prompt);
      return new ChatResponse(
          "text #" + calls.get(),
          List.of(),
          StopReason.END,
          new Usage(INPUT, OUTPUT, 0),
          "test-model");
    }

    @Override
    public ChatResponse stream(ChatRequest request, StreamListener listener) {
      return chat(request);
    }
  }

  static AgentDefinition writer() {
    return writer("writer", "the writer");
  }

  /** A writer named {@code name} whose system prompt says {@code You are WHO.}. */
  static AgentDefinition writer(String name, String who) {
    return DefinitionLoader.parse(
            "---\nname: "
                + name
                + "\ndescription: Writes\ncapabilities: [write]\ntools: []\n---\n"
                + "You are "
                + who
                + ".\n",
            Path.of(name + ".md"))
        .definitions()
        .getFirst();
  }

  static TaskGraph story() {
    return story(0);
  }

  /** The story, its polish retried {@code retries} times at once. */
  static TaskGraph story(int retries) {
    return TaskGraph.builder("story")
        .sequence(
            TaskSpec.of("draft").capability("write").input("draft a story"),
            TaskSpec.of("polish")
                .capability("write")
                .input("polish the draft")
                .retries(retries, Duration.ZERO))
        .build();
  }

  /** What one process holds open. */
  record Node(
      SqliteJournal journal,
      SqliteCallLogStore calls,
      AgentRuntime runtime,
      Swarm swarm,
      GraphRunner runner,
      Model model,
      long restoredCalls)
      implements AutoCloseable {

    static Node open(Path dir, long maxCalls, Model model) {
      return open(dir, maxCalls, model, false);
    }

    /**
     * With {@code pair}: two members, {@code writer-a/1} and {@code writer-b/1} ("You are writer
     * A/B."), picked round-robin (so the draft goes to A, the polish to B), the polish retried
     * once.
     */
    static Node open(Path dir, long maxCalls, Model model, boolean pair) {
      List<Class<?>> types = new ArrayList<>(GraphRunner.journalPayloadTypes());
      types.addAll(List.of(Task.class, TaskResult.class, TaskFailed.class));
      SqliteJournal journal =
          SqliteJournal.builder(dir.resolve("cfn.db"))
              .payloadType(types.toArray(new Class<?>[0]))
              .open();
      SqliteCallLogStore calls =
          SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
      AgentRuntime rt =
          AgentRuntime.builder().jvmMetrics(false).carriers(2).journal(journal).build();
      Swarm swarm =
          Swarm.builder("team", rt)
              .budget(Budget.builder("swarm team").maxCalls(maxCalls).build())
              .durable(journal)
              .build();
      // before any agent or runner starts: what the ledger restored, nothing charged here yet
      long restored = swarm.budget().spent().calls();
      List<AgentDefinition> writers =
          pair
              ? List.of(writer("writer-a", "writer A"), writer("writer-b", "writer B"))
              : List.of(writer());
      for (AgentDefinition writer : writers) {
        rt.register(
            LlmAgent.builder(writer)
                .model(model)
                .callLog(CallLog.durable(calls))
                .budgetPerAgent(swarm::memberBudget)
                .type(writer.name()));
        swarm.join(AgentId.of(writer.name(), "1"), writer);
      }
      GraphRunner runner =
          pair
              ? GraphRunner.builder(rt)
                  .reliable()
                  .swarm(swarm, c -> Assignment.capability(c, Assignment.roundRobin()))
                  .graph(story(1))
                  .build()
              : GraphRunner.builder(rt).reliable().swarm(swarm).graph(story()).build();
      return new Node(journal, calls, rt, swarm, runner, model, restored);
    }

    @Override
    public void close() {
      runner.close();
      swarm.close();
      runtime.close();
      calls.close();
      journal.close();
    }
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    boolean pair = args.length > 1 && args[1].equals("pair");
    Model model =
        new Model(
            prompt -> {
              // pair: which member's model call is killed
              out.println(
                  pair ? "POLISHING " + (prompt.contains("writer B") ? "B" : "A") : "POLISHING");
              killSelf();
            });
    Node n = Node.open(Path.of(args[0]), pair ? 10 : 2, model, pair);
    n.runner().start("story", "run-1", Map.of());
    Thread.sleep(120_000); // the model kills the process when asked to polish
    out.println("NOT KILLED");
    System.exit(3);
  }

  private static void killSelf() {
    try {
      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
          .inheritIO()
          .start()
          .waitFor();
      Thread.sleep(60_000); // the signal is on its way
    } catch (java.io.IOException | InterruptedException e) {
      Runtime.getRuntime().halt(137);
    }
  }
}
