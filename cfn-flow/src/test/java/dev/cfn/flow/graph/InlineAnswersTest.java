package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * BEST_EFFORT runs handle their agents' answers on the threads that answer (RunCoordinator's
 * trampoline): many runs at once, answers arriving on carriers and on threads of their own, at the
 * same time as the coordinator's own messages (retries after failures), each run ending with every
 * result in its place.
 */
class InlineAnswersTest {
  private final AgentRuntime rt = AgentRuntime.builder().carriers(2).build();
  private final ExecutorService elsewhere = Executors.newFixedThreadPool(3);

  @AfterEach
  void close() {
    rt.close();
    elsewhere.shutdownNow();
  }

  @Test
  void manyRunsAnsweredFromCarriersAndOtherThreadsAllFinishWithTheirResults() throws Exception {
    new Workers().register(rt); // the first attempt of all at flaky/f fails: that run retries
    // answers from a thread that is not a carrier: ctx.reply(request, ...) after the turn
    rt.register(
        AgentType.of(
            "later",
            id -> (m, ctx) -> elsewhere.execute(() -> ctx.reply(m, m.payload() + "+later"))));
    List<TaskSpec> branches = new ArrayList<>();
    for (int b = 0; b < 6; b++) {
      String id = "b" + b;
      branches.add(
          TaskSpec.of(id)
              .agent(AgentId.of(b % 2 == 0 ? "later" : "echo", Integer.toString(b)))
              .input(s -> s.result("root").orElseThrow() + "/" + id));
    }
    TaskGraph g =
        TaskGraph.builder("wide")
            .task(TaskSpec.of("root").agent("upper").input(s -> s.get("word").orElseThrow()))
            .fanOutIn(
                "root",
                branches,
                TaskSpec.of("join")
                    .agent("echo")
                    .input(
                        s -> {
                          StringBuilder all = new StringBuilder();
                          for (int b = 0; b < 6; b++) {
                            all.append(s.result("b" + b).orElseThrow()).append(';');
                          }
                          return all.toString();
                        }))
            .task(
                TaskSpec.of("shaky")
                    .agent(AgentId.of("flaky", "f"))
                    .input(s -> "x fail:1")
                    .retries(2, Duration.ofMillis(1)))
            .build();
    Map<String, CompletableFuture<RunOutcome>> runs = new HashMap<>();
    try (GraphRunner runner = GraphRunner.builder(rt).graph(g).build()) {
      for (int r = 0; r < 200; r++) {
        runs.put("w" + r, runner.start("wide", "r" + r, Map.of("word", "w" + r)).outcome());
      }
      for (Map.Entry<String, CompletableFuture<RunOutcome>> e : runs.entrySet()) {
        RunOutcome o = e.getValue().get(60, TimeUnit.SECONDS);
        String w = e.getKey().toUpperCase(java.util.Locale.ROOT);
        assertThat(o.status()).as(o.toString()).isEqualTo(RunStatus.SUCCEEDED);
        StringBuilder expected = new StringBuilder();
        for (int b = 0; b < 6; b++) {
          expected.append(w).append("/b").append(b).append(b % 2 == 0 ? "+later" : "!");
          expected.append(';');
        }
        assertThat(o.result("join")).isEqualTo(expected + "!");
        assertThat(o.result("shaky")).startsWith("ok after ");
      }
    }
  }
}
