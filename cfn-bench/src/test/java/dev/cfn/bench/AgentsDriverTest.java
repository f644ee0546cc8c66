package dev.cfn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every system of {@code cfn bench agents} against the benchmark's model server, in this JVM: each
 * finishes tasks with the checked answer (a tool scenario also runs its tool), and a wrong answer
 * is counted as a failure, not as a task.
 */
class AgentsDriverTest {
  private static ModelServer server;

  @BeforeAll
  static void start() {
    server = AgentsScript.startServer();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static java.util.List<String> scenarios() {
    return AgentsBench.SCENARIOS;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void everySystemAnswersEveryTaskRightly(String scenario) throws Exception {
    long before = server.received();
    AgentsDriver.Cell cell;
    int modelCalls;
    try (AgentsContender c = AgentsWorker.contender(scenario, server.openAiBaseUrl(), 4)) {
      modelCalls = c.modelCallsPerTask();
      cell = AgentsDriver.run(scenario, c, 4, Duration.ofMillis(200), Duration.ofMillis(500));
    }
    assertThat(cell.failures()).as("first failure: %s", cell.firstFailure()).isZero();
    assertThat(cell.tasks()).isPositive();
    assertThat(cell.allTasks()).isGreaterThanOrEqualTo(cell.tasks());
    assertThat(cell.p50Us()).isPositive();
    assertThat(cell.cpuUsPerTask()).isPositive();
    assertThat(cell.allocBytesPerTask()).isPositive();
    if (scenario.endsWith("-tool")) {
      assertThat(cell.toolCalls()).as("the tool ran in the window").isPositive();
    }
    assertThat(server.received() - before)
        .as("each task reached the model server")
        .isGreaterThanOrEqualTo(cell.allTasks() * modelCalls);
  }

  @Test
  void aWrongAnswerIsAFailureNotATask() throws Exception {
    try (ModelServer wrong = ModelServer.builder().requestHistory(0).start();
        AgentsContender c = AgentsWorker.contender("cfn-provider", wrong.openAiBaseUrl(), 2)) {
      wrong.script().on(Match.any()).reply(Reply.text("ping"));
      AgentsDriver.Cell cell =
          AgentsDriver.run("cfn-provider", c, 2, Duration.ofMillis(100), Duration.ofMillis(300));
      assertThat(cell.tasks()).isZero();
      assertThat(cell.failures()).isPositive();
      assertThat(cell.firstFailure()).isEqualTo("answer 'ping', expected 'pong'");
    }
  }
}
