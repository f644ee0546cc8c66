package dev.cfn.flow.supervisor;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.flow.swarm.Topology;
import dev.cfn.store.calls.SqliteCallLogStore;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link SupervisorResumeAfterKillTest}: a supervised swarm (planner {@code boss},
 * members {@code researcher} and {@code writer}, LLM agents with a durable call log in {@code
 * args[0]}, asking the model server at {@code args[1]}) works on run {@code s-1}. With {@code
 * args[2]} = K &gt; 0 it SIGKILLs itself once K steps were taken, so the kill lands at a known
 * point; otherwise it prints {@code DONE STATUS ANSWER} at the end.
 */
public final class SupervisorCrashChild {
  private SupervisorCrashChild() {}

  static final String OBJECTIVE = "Explain write-ahead logs";

  static AgentDefinition definition(String name) {
    return DefinitionLoader.parse(
            "---\nname: "
                + name
                + "\ndescription: The "
                + name
                + "\ntools: []\ncapabilities: ["
                + name
                + "]\n---\nYou are the "
                + name
                + ".\n",
            Path.of(name + ".md"))
        .definitions()
        .getFirst();
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    int killAfter = Integer.parseInt(args[2]);
    AtomicInteger steps = new AtomicInteger();
    try (SqliteCallLogStore calls =
            SqliteCallLogStore.builder(Path.of(args[0]).resolve("calls.db"))
                .sweepEvery(Duration.ZERO)
                .open();
        ModelProvider model =
            OpenAiProvider.create(
                ProviderConfig.builder("test", ProviderConfig.Kind.OPENAI)
                    .baseUrl(args[1])
                    .apiKey("test-key")
                    .model("test-model")
                    .requestTimeout(Duration.ofSeconds(30))
                    .build());
        AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).carriers(2).build();
        Swarm swarm = Swarm.builder("team", rt).topology(Topology.MESH).build()) {
      for (String name : new String[] {"boss", "researcher", "writer"}) {
        rt.register(
            LlmAgent.builder(definition(name))
                .model(model)
                .callLog(CallLog.durable(calls))
                .type(name));
      }
      Supervisor.Builder sup =
          Supervisor.builder(rt, swarm, AgentId.of("boss", "1"))
              .maxTurns(10)
              .listener(
                  s -> {
                    out.println("STEP " + s.turn() + " " + s.kind() + " " + s.member());
                    if (steps.incrementAndGet() == killAfter) {
                      killSelf();
                    }
                  });
      for (String member : new String[] {"researcher", "writer"}) {
        AgentDefinition d = definition(member);
        swarm.join(AgentId.of(member, "1"), d);
        sup.member(member, d.description());
      }
      SupervisorOutcome o = sup.build().run("s-1", OBJECTIVE);
      out.println("DONE " + o.status() + " " + o.answer());
    }
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
