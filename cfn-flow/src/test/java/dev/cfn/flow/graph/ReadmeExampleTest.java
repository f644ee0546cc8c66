package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's task-graph example, as written there, with workers for its agent types. */
class ReadmeExampleTest {
  @TempDir Path dir;

  static String summarize(String input) {
    return "summary of " + input.length() + " chars";
  }

  @Test
  void theReadmeExampleRuns() {
    List<TaskSpec> searches = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      searches.add(TaskSpec.of("search-" + i).agent("searcher").input(s -> "search"));
    }
    try (AgentRuntime runtime =
        AgentRuntime.builder()
            .carriers(2)
            .journal(
                SqliteJournal.builder(dir.resolve("cfn.db"))
                    .payloadType(GraphRunner.journalPayloadTypes().toArray(new Class<?>[0]))
                    .open())
            .build()) {
      for (String type : List.of("planner", "searcher", "publisher", "archivist")) {
        runtime.register(AgentType.of(type, id -> TaskWorker.agent((in, ctx) -> type + ":" + in)));
      }
      runtime.register(
          AgentType.of(
              "editor",
              id -> TaskWorker.agent((in, ctx) -> in.endsWith("+") ? in + " LGTM" : in + "+")));

      // --- as in the README ---
      TaskGraph g =
          TaskGraph.builder("research")
              .task(TaskSpec.of("plan").agent("planner").input(s -> s.get("topic").orElseThrow()))
              .fanOutIn("plan", searches, TaskSpec.of("summary").agent("writer").writes("summary"))
              .loop(
                  TaskSpec.of("polish")
                      .agent("editor")
                      .after("summary")
                      .input(s -> s.result("polish").or(() -> s.get("summary")).orElseThrow()),
                  (result, s) -> result.contains("LGTM"),
                  5) // exit condition, at most 5 rounds
              .branch(
                  "polish",
                  s -> s.get("publish").isPresent(),
                  TaskSpec.of("post").agent("publisher"),
                  TaskSpec.of("archive").agent("archivist"))
              .build();
      runtime.register(
          AgentType.of("writer", id -> TaskWorker.agent((input, ctx) -> summarize(input))));
      GraphRunner runner = GraphRunner.builder(runtime).reliable().graph(g).build();
      RunOutcome done =
          runner.start("research", "run-1", Map.of("topic", "actors")).outcome().join();
      // --- end of the README's code ---

      runner.close();
      assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(done.result("polish")).isEqualTo("summary of 0 chars+ LGTM");
      assertThat(done.tasks().get("polish").iterations()).isEqualTo(2);
      assertThat(done.tasks().get("post").status()).isEqualTo(TaskStatus.SKIPPED);
      assertThat(done.result("archive")).isEqualTo("archivist:");
    }
  }
}
