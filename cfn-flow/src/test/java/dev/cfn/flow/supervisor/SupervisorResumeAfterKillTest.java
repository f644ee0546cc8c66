package dev.cfn.flow.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A supervised swarm run in a child JVM SIGKILLs itself after its second step (the kill lands at a
 * known point), then a second child runs the same run key: the recorded planner and member answers
 * come from the call log, the run goes on from where it stopped and finishes, and the model server
 * saw each prompt once.
 */
class SupervisorResumeAfterKillTest {
  @TempDir Path dir;

  private List<String> runChild(ModelServer server, int killAfter) throws Exception {
    try (ChildJvm child =
        ChildJvm.of(
                SupervisorCrashChild.class,
                dir.toString(),
                server.openAiBaseUrl(),
                Integer.toString(killAfter))
            .errorTo(dir.resolve("child-" + killAfter + ".err"))
            .start()) {
      List<String> lines = child.readToEnd();
      assertThat(child.waitFor(Duration.ofSeconds(120))).as("the child ends").isTrue();
      if (killAfter > 0) {
        assertThat(child.exitValue()).as("SIGKILLed").isEqualTo(ChildJvm.SIGKILLED);
      }
      return lines;
    }
  }

  private static Match plannerAt(int turn) {
    return Match.of(
        "the planner at turn " + turn,
        r ->
            r.system() != null
                && r.system().contains("You are the boss.")
                && r.lastUserMessage() != null
                && r.lastUserMessage().contains("\nTURN " + turn + " of "));
  }

  @Test
  void aRunKilledAfterTwoStepsGoesOnFromItsRecordedAnswers() throws Exception {
    try (ModelServer server = ModelServer.start()) {
      server
          .script()
          .on(plannerAt(1))
          .reply(Reply.text("{\"next\": \"researcher\", \"input\": \"find\"}"));
      server
          .script()
          .on(plannerAt(2))
          .reply(Reply.text("{\"next\": \"writer\", \"input\": \"write\"}"));
      server
          .script()
          .on(plannerAt(3))
          .reply(Reply.text("{\"next\": \"researcher\", \"input\": \"check\"}"));
      server.script().on(plannerAt(4)).reply(Reply.text("{\"finish\": \"a log written first\"}"));
      server
          .script()
          .on(Match.systemContains("You are the researcher."))
          .reply(Reply.text("facts"));
      server.script().on(Match.systemContains("You are the writer.")).reply(Reply.text("a draft"));

      List<String> first = runChild(server, 2);
      assertThat(first).containsExactly("STEP 1 DELEGATED researcher", "STEP 2 DELEGATED writer");
      long beforeResume = server.received();

      List<String> second = runChild(server, 0);
      assertThat(second)
          .containsExactly(
              "STEP 1 DELEGATED researcher",
              "STEP 2 DELEGATED writer",
              "STEP 3 DELEGATED researcher",
              "STEP 4 FINISHED null",
              "DONE FINISHED a log written first");

      // 4 planner answers and 3 member answers: 7 distinct prompts, each asked once (the kill
      // came from the listener of step 2, before turn 3's planner call: no call was in flight)
      List<String> prompts =
          server.requests().stream().map(r -> r.system() + "|" + r.lastUserMessage()).toList();
      assertThat(prompts.stream().distinct().count()).isEqualTo(7);
      assertThat(server.received()).isEqualTo(7);
      assertThat(server.received() - beforeResume)
          .as("the resumed run asked the model only for what was not recorded")
          .isEqualTo(3);
      assertThat(
              server.requests().stream()
                  .filter(r -> r.system().contains("You are the boss."))
                  .map(RecordedRequest::lastUserMessage)
                  .filter(m -> m.contains("\nTURN 1 of "))
                  .count())
          .as("turn 1's plan was replayed from the call log, not asked again")
          .isEqualTo(1);
    }
  }
}
