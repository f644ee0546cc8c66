package dev.cfn.flow.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task graphs run through a swarm: each task names a capability and goes to a member offering it,
 * picked by the runner's strategy; the members' model calls are charged to the swarm's one budget,
 * and a task finding it used up fails with {@code BUDGET_EXHAUSTED}, recorded with the run; a run
 * killed mid-graph resumes with the swarm's spend restored from its ledger, no call charged twice.
 */
class SwarmGraphTest {
  @TempDir Path dir;

  /** Members answering with their own id: who did the task shows in its result. */
  private static AgentType whoAmI(String type) {
    return AgentType.of(type, id -> TaskWorker.agent((in, ctx) -> ctx.self().toString()));
  }

  @Test
  void eachTaskGoesToAMemberOfferingItsCapabilityPickedByTheStrategy() throws Exception {
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).carriers(2).build();
        Swarm swarm = Swarm.builder("team", rt).build()) {
      rt.register(whoAmI("coder"));
      rt.register(whoAmI("reviewer"));
      swarm.join(AgentId.of("coder", "1"), "coder", List.of("code"));
      swarm.join(AgentId.of("coder", "2"), "coder", List.of("code"));
      swarm.join(AgentId.of("reviewer", "1"), "reviewer", List.of("review"));
      List<TaskSpec> code =
          List.of(
              TaskSpec.of("c0").capability("code"),
              TaskSpec.of("c1").capability("code"),
              TaskSpec.of("c2").capability("code"),
              TaskSpec.of("c3").capability("code"));
      TaskGraph graph =
          TaskGraph.builder("work")
              .task(TaskSpec.of("plan").capability("review"))
              .fanOutIn("plan", code, TaskSpec.of("review").capability("REVIEW"))
              .build();
      try (GraphRunner runner =
          GraphRunner.builder(rt)
              .swarm(swarm, c -> Assignment.capability(c, Assignment.roundRobin()))
              .graph(graph)
              .build()) {
        RunOutcome o = runner.start("work", "r1", Map.of()).outcome().get(30, TimeUnit.SECONDS);
        assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(o.result("plan")).isEqualTo("reviewer/1");
        assertThat(o.result("review"))
            .as("capabilities match ignoring case")
            .isEqualTo("reviewer/1");
        Map<String, Long> coders =
            List.of("c0", "c1", "c2", "c3").stream()
                .collect(Collectors.groupingBy(o::result, Collectors.counting()));
        assertThat(coders)
            .as("round-robin among the members offering 'code' only")
            .containsExactlyInAnyOrderEntriesOf(Map.of("coder/1", 2L, "coder/2", 2L));
      }
    }
  }

  @Test
  void aCapabilityNoMemberOffersFailsTheTaskAndARunnerWithoutASwarmRefusesTheGraph()
      throws Exception {
    TaskGraph graph =
        TaskGraph.builder("lonely").task(TaskSpec.of("sing").capability("sing")).build();
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).carriers(2).build();
        Swarm swarm = Swarm.builder("team", rt).build()) {
      rt.register(whoAmI("coder"));
      swarm.join(AgentId.of("coder", "1"), "coder", List.of("code"));
      assertThatThrownBy(() -> GraphRunner.builder(rt).graph(graph).build())
          .isInstanceOf(GraphValidationException.class)
          .hasMessageContaining("task 'sing' names capability 'sing'")
          .hasMessageContaining("the runner has no swarm")
          .hasMessageContaining("fix: GraphRunner.builder(rt).swarm(swarm)");
      try (GraphRunner runner = GraphRunner.builder(rt).swarm(swarm).graph(graph).build()) {
        RunOutcome o = runner.start("lonely", "r1", Map.of()).outcome().get(30, TimeUnit.SECONDS);
        assertThat(o.status()).isEqualTo(RunStatus.FAILED);
        assertThat(o.tasks().get("sing").error())
            .contains("swarm 'team'")
            .contains("offers capability 'sing'")
            .contains("its members offer [code, coder]");
        assertThat(o.tasks().get("sing").budgetExhausted()).isFalse();
      }
    }
  }

  @Test
  void aGraphsAttemptsCountAsTheSwarmsTasksInFlightSoLeastLoadedSpreadsThem() throws Exception {
    java.util.concurrent.BlockingQueue<String> got =
        new java.util.concurrent.LinkedBlockingQueue<>();
    try (AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).carriers(2).build();
        Swarm swarm = Swarm.builder("team", rt).build()) {
      // members that take a task and never answer: each keeps its tasks in flight
      rt.register(
          AgentType.of(
              "holder",
              id ->
                  (m, ctx) -> {
                    if (!m.isReply()) {
                      got.add(ctx.self().toString());
                    }
                  }));
      // holder/1 alone offers 'first', so it can be made busy on purpose
      swarm.join(AgentId.of("holder", "1"), "holder", List.of("hold", "first"));
      swarm.join(AgentId.of("holder", "2"), "holder", List.of("hold"));
      swarm.join(AgentId.of("holder", "3"), "holder", List.of("hold"));
      Duration long_ = Duration.ofMinutes(10);
      TaskGraph busy =
          TaskGraph.builder("busy")
              .task(
                  TaskSpec.of("a").capability("first").timeout(long_),
                  TaskSpec.of("b").capability("first").timeout(long_))
              .build();
      TaskGraph one =
          TaskGraph.builder("one").task(TaskSpec.of("t").capability("hold").timeout(long_)).build();
      TaskGraph late =
          TaskGraph.builder("late")
              .task(TaskSpec.of("t").capability("hold").timeout(Duration.ofMillis(200)))
              .build();
      try (GraphRunner runner =
          GraphRunner.builder(rt).swarm(swarm).graph(busy).graph(one).graph(late).build()) {
        List<GraphRun> runs = new java.util.ArrayList<>();
        runs.add(runner.start("busy", "r0", Map.of()));
        Map<String, Integer> tasks = new java.util.TreeMap<>();
        for (int k = 0; k < 2; k++) {
          String member = got.poll(30, TimeUnit.SECONDS);
          assertThat(member).isEqualTo("holder/1");
          tasks.merge(member, 1, Integer::sum);
        }
        assertThat(inFlight(swarm)).isEqualTo(Map.of("holder/1", 2, "holder/2", 0, "holder/3", 0));
        // one task at a time, each taken by its member before the next is picked (its queue
        // empty): least-loaded must see holder/1's two attempts and pass it over every time
        for (int k = 1; k <= 4; k++) {
          runs.add(runner.start("one", "r" + k, Map.of()));
          String member = got.poll(30, TimeUnit.SECONDS);
          assertThat(member).as("task %d of 4 reached a member", k).isNotNull();
          tasks.merge(member, 1, Integer::sum);
        }
        assertThat(tasks)
            .as("least-loaded counts holder/1's attempts: the four others go to holder/2 and 3")
            .isEqualTo(Map.of("holder/1", 2, "holder/2", 2, "holder/3", 2));
        assertThat(inFlight(swarm)).isEqualTo(tasks);

        runs.get(0).cancel("a");
        awaitInFlight(swarm, tasks, 1);
        assertThat(inFlight(swarm))
            .as("a cancelled task's attempt is no longer in flight")
            .containsEntry("holder/1", 1);
        for (GraphRun r : runs) {
          r.cancel();
          assertThat(r.outcome().get(30, TimeUnit.SECONDS).status()).isEqualTo(RunStatus.CANCELLED);
        }
        assertThat(inFlight(swarm))
            .as("cancelled runs' attempts are no longer in flight")
            .isEqualTo(Map.of("holder/1", 0, "holder/2", 0, "holder/3", 0));

        RunOutcome timedOut =
            runner.start("late", "r5", Map.of()).outcome().get(30, TimeUnit.SECONDS);
        assertThat(timedOut.status()).isEqualTo(RunStatus.FAILED);
        assertThat(inFlight(swarm))
            .as("an attempt that timed out is no longer in flight")
            .isEqualTo(Map.of("holder/1", 0, "holder/2", 0, "holder/3", 0));
      }
    }
  }

  private static Map<String, Integer> inFlight(Swarm swarm) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    swarm.members().forEach(m -> out.put(m.id().toString(), m.inFlight()));
    return out;
  }

  /** Waits until the members' tasks in flight add up to {@code total} less {@code fewer}. */
  private static void awaitInFlight(Swarm swarm, Map<String, Integer> total, int fewer)
      throws InterruptedException {
    int want = total.values().stream().mapToInt(Integer::intValue).sum() - fewer;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (inFlight(swarm).values().stream().mapToInt(Integer::intValue).sum() != want) {
      assertThat(System.nanoTime() - end).as("tasks in flight reach %d", want).isNegative();
      Thread.sleep(10);
    }
  }

  @Test
  void theSwarmsOneBudgetCoversBothTasksAndTheSecondFailsDurablyWhenItIsUsedUp() throws Exception {
    SwarmGraphChild.Model model = new SwarmGraphChild.Model(null);
    try (SwarmGraphChild.Node n = SwarmGraphChild.Node.open(dir, 1, model)) {
      RunOutcome o =
          n.runner().start("story", "run-1", Map.of()).outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.FAILED);
      assertThat(o.tasks().get("draft").status()).isEqualTo(TaskStatus.SUCCEEDED);
      TaskOutcome polish = o.tasks().get("polish");
      assertThat(polish.budgetExhausted()).isTrue();
      assertThat(polish.error())
          .startsWith(GraphRunner.BUDGET_EXHAUSTED + ": ")
          .contains("calls limit reached (1 of 1");
      assertThat(model.calls.get()).as("the polish was refused before its model call").isEqualTo(1);
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(1);
    }
    // the failure and its reason are in the journal: a new process reads them back
    try (SwarmGraphChild.Node n =
        SwarmGraphChild.Node.open(dir, 1, new SwarmGraphChild.Model(null))) {
      assertThat(n.restoredCalls()).as("restored from the ledger").isEqualTo(1);
      RunOutcome o = n.runner().resume("run-1").outcome().get(60, TimeUnit.SECONDS);
      assertThat(o.status()).isEqualTo(RunStatus.FAILED);
      assertThat(o.tasks().get("polish").budgetExhausted()).isTrue();
      assertThat(o.tasks().get("polish").error()).contains("calls limit reached (1 of 1");
      assertThat(n.model().calls.get()).isZero();
    }
  }

  @Test
  void aMemberPickedBeforeAKillKeepsTheResumedAttemptAndItsRetry() throws Exception {
    try (ChildJvm child =
        ChildJvm.of(SwarmGraphChild.class, dir.toString(), "pair")
            .errorTo(dir.resolve("child.err"))
            .start()) {
      List<String> lines = child.readToEnd();
      assertThat(child.waitFor(Duration.ofSeconds(180))).as("the child ends").isTrue();
      assertThat(child.exitValue()).as("SIGKILLed").isEqualTo(ChildJvm.SIGKILLED);
      assertThat(lines)
          .as("round-robin: the draft to A, the polish to B")
          .containsExactly("POLISHING B");
    }
    // the pick is in the journal, committed with the request that sent the polish to B
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("cfn.db")).open()) {
      assertThat(journal.state("cfn-flow-run/run-1", "t.polish"))
          .hasValueSatisfying(
              row -> assertThat(row).startsWith("RUNNING|1|1|").endsWith("|writer-b/1"));
      assertThat(journal.state("cfn-flow-run/run-1", "t.draft"))
          .hasValueSatisfying(row -> assertThat(row).endsWith("|writer-a/1"));
    }
    // here the polish's redelivered call fails once: its retry is picked again in a new process,
    // where round-robin starts over (it would pick A), and must stay with B
    java.util.concurrent.atomic.AtomicReference<Swarm> swarm =
        new java.util.concurrent.atomic.AtomicReference<>();
    List<Map<String, Integer>> loads = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> polishes = new java.util.concurrent.CopyOnWriteArrayList<>();
    SwarmGraphChild.Model model =
        new SwarmGraphChild.Model(
            prompt -> {
              polishes.add(prompt);
              if (polishes.size() == 1) {
                throw new IllegalStateException("provider down for a moment");
              }
              loads.add(inFlight(swarm.get()));
            });
    try (SwarmGraphChild.Node n = SwarmGraphChild.Node.open(dir, 10, model, true)) {
      swarm.set(n.swarm());
      RunOutcome o = n.runner().run("run-1").outcome().get(120, TimeUnit.SECONDS);
      assertThat(o.status()).as(o.toString()).isEqualTo(RunStatus.SUCCEEDED);
      assertThat(polishes)
          .as("the resumed attempt failed and its retry succeeded, both at B")
          .hasSize(2)
          .allSatisfy(p -> assertThat(p).contains("You are writer B."));
      assertThat(o.result("polish")).isEqualTo("text #1");
      assertThat(loads)
          .as("the retry counted in flight at B, where it went")
          .containsExactly(Map.of("writer-a/1", 0, "writer-b/1", 1));
      assertThat(inFlight(n.swarm())).isEqualTo(Map.of("writer-a/1", 0, "writer-b/1", 0));
    }
  }

  @Test
  void aRunKilledMidGraphResumesWithTheSwarmsSpendRestoredAndNoCallChargedTwice() throws Exception {
    try (ChildJvm child =
        ChildJvm.of(SwarmGraphChild.class, dir.toString())
            .errorTo(dir.resolve("child.err"))
            .start()) {
      List<String> lines = child.readToEnd();
      assertThat(child.waitFor(Duration.ofSeconds(180))).as("the child ends").isTrue();
      assertThat(child.exitValue()).as("SIGKILLed").isEqualTo(ChildJvm.SIGKILLED);
      assertThat(lines).containsExactly("POLISHING");
    }
    SwarmGraphChild.Model model = new SwarmGraphChild.Model(null);
    // a budget of 2 calls: the draft's, restored, and the polish's; charging the draft again
    // (or asking its model again) would leave the polish without budget
    try (SwarmGraphChild.Node n = SwarmGraphChild.Node.open(dir, 2, model)) {
      assertThat(n.restoredCalls()).as("the draft's call, restored from the ledger").isEqualTo(1);
      RunOutcome o = n.runner().run("run-1").outcome().get(120, TimeUnit.SECONDS);
      assertThat(o.status()).as("resumed by the runner by itself").isEqualTo(RunStatus.SUCCEEDED);
      assertThat(o.result("draft")).as("the first process's answer").isEqualTo("text #1");
      assertThat(model.calls.get()).as("only the polish asked the model here").isEqualTo(1);
      assertThat(model.prompts).singleElement().asString().contains("polish the draft");
      assertThat(n.swarm().budget().spent().calls()).isEqualTo(2);
      assertThat(n.swarm().budget().spent().totalTokens())
          .isEqualTo(2 * (SwarmGraphChild.INPUT + SwarmGraphChild.OUTPUT));
    }
  }
}
