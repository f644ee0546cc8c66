package dev.cfn.ai.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Canary rollouts on a real runtime with {@link LlmAgent}s of two definitions answering through the
 * loopback model server, which plays the new version well (same answers) or badly (errors, slow
 * answers).
 */
class RolloutTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String BASE =
      "---\nname: reviewer\ndescription: Reviews changes\ntools: []\n---\nYou are the reviewer.\n";
  private static final String NEXT =
      "---\nname: reviewer\ndescription: Reviews changes\ntools: []\nversion: 2.0\n---\n"
          + "You are the reviewer, second edition.\n";

  @TempDir Path dir;
  private ModelServer server;
  private ModelProvider model;
  private AgentRuntime runtime;
  private RolloutStore store;
  private final List<RolloutEvent> events = new CopyOnWriteArrayList<>();
  private final AtomicReference<List<String>> firing = new AtomicReference<>(List.of());
  private final AtomicInteger keys = new AtomicInteger();
  private final List<Rollout> attached = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = ModelServer.start();
    model =
        OpenAiProvider.create(
            ProviderConfig.builder("openai", ProviderConfig.Kind.OPENAI)
                .baseUrl(server.openAiBaseUrl())
                .apiKey("test-key")
                .model("test-model")
                .requestTimeout(Duration.ofSeconds(10))
                .build());
    Files.createDirectories(dir.resolve("agents"));
    Files.writeString(dir.resolve("agents/reviewer.md"), BASE);
    Files.writeString(dir.resolve("reviewer-v2.md"), NEXT);
    store = RolloutStore.at(dir.resolve("rollouts"));
  }

  @AfterEach
  void stop() {
    attached.forEach(Rollout::close);
    if (runtime != null) {
      runtime.close();
    }
    model.close();
    server.close();
  }

  private static AgentDefinition load(Path file) {
    LoadResult r = DefinitionLoader.load(file);
    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings()).as("version: is a known field").isEmpty();
    return r.definitions().getFirst();
  }

  private RolloutStatus begin(List<Integer> steps, Duration hold, Gates gates) {
    return store.start(
        load(dir.resolve("agents/reviewer.md")),
        load(dir.resolve("reviewer-v2.md")),
        steps,
        hold,
        gates,
        Instant.now(),
        "test");
  }

  /** Attaches to the store's rollout and serves reviewer tasks through it. */
  private Rollout serve() {
    Rollout rollout =
        Rollout.attach(store, "reviewer", () -> firing.get(), Clock.systemUTC(), events::add)
            .orElseThrow();
    attached.add(rollout);
    AgentDefinition base = load(dir.resolve("agents/reviewer.md"));
    AgentDefinition next = load(dir.resolve("reviewer-v2.md"));
    ToolRegistry tools = new ToolRegistry();
    runtime =
        AgentRuntime.builder()
            .jvmMetrics(false)
            .register(
                Canary.type(
                        "reviewer",
                        rollout,
                        LlmAgent.builder(base).model(model).tools(tools).factory(),
                        LlmAgent.builder(next).model(model).tools(tools).factory(),
                        Canary.cost(null, null))
                    .build())
            .build();
    return rollout;
  }

  /** One task with a new key; its answer. */
  private Object task() {
    AgentId id = AgentId.of("reviewer", "task-" + keys.incrementAndGet());
    return runtime.request(id, new Task("Review the change"), WAIT).join().payload();
  }

  /** Sends tasks until {@code done}, at most {@code max} of them. */
  private void tasksUntil(BooleanSupplier done, int max) {
    for (int i = 0; i < max && !done.getAsBoolean(); i++) {
      task();
    }
    assertThat(done.getAsBoolean()).as("reached within " + max + " tasks").isTrue();
  }

  private static void await(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition within " + WAIT).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private void answerBoth(Reply baseline, Reply canary) {
    server.script().on(Match.systemContains("second edition")).reply(canary);
    server.script().on(Match.any()).reply(baseline);
  }

  @Test
  void aFailingCanaryIsRolledBackWithTheReasonAndEveryKeyReturnsToTheBaseline()
      throws InterruptedException {
    answerBoth(
        Reply.text("LGTM").withUsage(100, 20, 0), Reply.status(400, "the new prompt breaks it"));
    begin(List.of(20, 50, 100), Duration.ZERO, Gates.DEFAULTS.withMinTasks(10));
    Rollout rollout = serve();

    tasksUntil(() -> rollout.status().phase() != RolloutStatus.Phase.RUNNING, 2000);

    RolloutStatus s = rollout.status();
    assertThat(s.phase()).isEqualTo(RolloutStatus.Phase.ROLLED_BACK);
    assertThat(s.share()).isZero();
    assertThat(s.reason()).startsWith("error rate 100.0 % over the limit 1.0 %");
    assertThat(s.events()).extracting(RolloutEvent::kind).containsExactly("started", "rolled-back");
    await(() -> !events.isEmpty()); // the listener is told after the decision, outside its lock
    assertThat(events).extracting(RolloutEvent::kind).containsExactly("rolled-back");
    assertThat(store.status("reviewer").orElseThrow().phase())
        .as("durable")
        .isEqualTo(RolloutStatus.Phase.ROLLED_BACK);

    int before = server.requests().size();
    for (int i = 0; i < 50; i++) {
      assertThat(task()).isInstanceOf(TaskResult.class);
    }
    List<RecordedRequest> after = server.requests().subList(before, server.requests().size());
    assertThat(after).hasSize(50).noneMatch(r -> r.system().contains("second edition"));
    assertThat(
            Files.exists(dir.resolve("agents/reviewer.md.before-rollout-" + s.baseline().hash())))
        .as("nothing installed")
        .isFalse();
  }

  @Test
  void aSlowCanaryIsRolledBackOnItsP95Latency() {
    answerBoth(
        Reply.text("LGTM").withUsage(100, 20, 0),
        Reply.text("LGTM").withUsage(100, 20, 0).after(Duration.ofMillis(300)));
    begin(List.of(50, 100), Duration.ZERO, Gates.DEFAULTS.withMinTasks(10));
    Rollout rollout = serve();

    tasksUntil(() -> rollout.status().phase() != RolloutStatus.Phase.RUNNING, 500);

    RolloutStatus s = rollout.status();
    assertThat(s.phase()).isEqualTo(RolloutStatus.Phase.ROLLED_BACK);
    assertThat(s.reason()).startsWith("P95 latency").contains("over the limit");
    assertThat(s.canaryFigures().p95Millis()).isGreaterThanOrEqualTo(300);
  }

  @Test
  void aCostlierCanaryIsRolledBackOnItsCostPerTask() {
    answerBoth(Reply.text("LGTM").withUsage(100, 20, 0), Reply.text("LGTM").withUsage(400, 80, 0));
    begin(
        List.of(50, 100),
        Duration.ZERO,
        Gates.DEFAULTS.withMinTasks(10).withLatencySlack(Duration.ofSeconds(5)));
    Rollout rollout = serve();

    tasksUntil(() -> rollout.status().phase() != RolloutStatus.Phase.RUNNING, 500);

    assertThat(rollout.status().reason())
        .startsWith("cost per task 480.000 over the limit 132.000");
  }

  @Test
  void aGoodCanaryIsPromotedStepByStepAndReplacesTheDefinition() throws Exception {
    Reply same = Reply.text("LGTM").withUsage(100, 20, 0);
    answerBoth(same, same);
    // a generous latency slack: both versions answer alike, and a loaded machine's scheduling
    // noise must not fail a good version
    begin(
        List.of(20, 50, 100),
        Duration.ZERO,
        Gates.DEFAULTS.withMinTasks(10).withLatencySlack(Duration.ofSeconds(5)));
    Rollout rollout = serve();

    tasksUntil(() -> rollout.status().phase() != RolloutStatus.Phase.RUNNING, 2000);

    RolloutStatus s = rollout.status();
    assertThat(s.phase()).isEqualTo(RolloutStatus.Phase.COMPLETED);
    assertThat(s.events())
        .extracting(RolloutEvent::kind, RolloutEvent::share, RolloutEvent::by)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("started", 20, "test"),
            org.assertj.core.groups.Tuple.tuple("promoted", 50, "gates"),
            org.assertj.core.groups.Tuple.tuple("promoted", 100, "gates"),
            org.assertj.core.groups.Tuple.tuple("completed", 100, "gates"));
    assertThat(s.events().get(1).detail()).startsWith("gates held over ").contains("errors 0.0 %");
    assertThat(Files.readString(dir.resolve("agents/reviewer.md"))).isEqualTo(NEXT);
    assertThat(
            Files.readString(
                dir.resolve("agents/reviewer.md.before-rollout-" + s.baseline().hash())))
        .isEqualTo(BASE);
    int before = server.requests().size();
    for (int i = 0; i < 20; i++) {
      task();
    }
    assertThat(server.requests().subList(before, server.requests().size()))
        .allMatch(r -> r.system().contains("second edition"));
  }

  @Test
  void aStepIsHeldForItsHoldBeforeItIsPromoted() throws Exception {
    Reply same = Reply.text("LGTM").withUsage(100, 20, 0);
    answerBoth(same, same);
    begin(
        List.of(50, 100),
        Duration.ofDays(1),
        Gates.DEFAULTS.withMinTasks(5).withLatencySlack(Duration.ofSeconds(5)));
    Rollout rollout = serve();
    for (int i = 0; i < 100; i++) {
      task();
    }
    assertThat(rollout.status().canaryFigures().tasks()).isGreaterThanOrEqualTo(5);
    assertThat(rollout.status().share()).as("the day's hold is not over").isEqualTo(50);
  }

  @Test
  void aRestartMidRolloutResumesAtItsStepWithItsMeasures() throws Exception {
    Reply same = Reply.text("LGTM").withUsage(100, 20, 0);
    answerBoth(same, same);
    begin(
        List.of(20, 50, 100),
        Duration.ZERO,
        Gates.DEFAULTS.withMinTasks(10).withLatencySlack(Duration.ofSeconds(5)));
    Rollout first = serve();
    tasksUntil(() -> first.status().share() == 50, 2000);
    assertThat(store.status("reviewer").orElseThrow().share())
        .as("the promotion is on disk before any close")
        .isEqualTo(50);
    runtime.close(); // the handlers finish first: a task is recorded after its answer is sent
    runtime = null;
    long baselineTasks = first.status().baselineFigures().tasks();
    first.close();
    attached.remove(first);

    Rollout second = serve();
    RolloutStatus resumed = second.status();
    assertThat(resumed.phase()).isEqualTo(RolloutStatus.Phase.RUNNING);
    assertThat(resumed.share()).isEqualTo(50);
    assertThat(resumed.baselineFigures().tasks()).isEqualTo(baselineTasks);
    tasksUntil(() -> second.status().phase() == RolloutStatus.Phase.COMPLETED, 2000);
    assertThat(second.status().events())
        .extracting(RolloutEvent::kind)
        .containsExactly("started", "promoted", "promoted", "completed");
  }

  @Test
  void aFiringCriticalAlertRollsBackAtOnce() throws Exception {
    Reply same = Reply.text("LGTM").withUsage(100, 20, 0);
    answerBoth(same, same);
    begin(List.of(50, 100), Duration.ofDays(1), Gates.DEFAULTS);
    Rollout rollout = serve();
    task();
    firing.set(List.of("reliable-delivery-failures"));
    await(() -> rollout.status().phase() == RolloutStatus.Phase.ROLLED_BACK);
    assertThat(rollout.status().reason())
        .isEqualTo("critical alert firing: reliable-delivery-failures");
    assertThat(store.status("reviewer").orElseThrow().reason())
        .isEqualTo("critical alert firing: reliable-delivery-failures");
  }

  @Test
  void anOperatorsRollbackAndPromoteReachTheRunningNode() throws Exception {
    Reply same = Reply.text("LGTM").withUsage(100, 20, 0);
    answerBoth(same, same);
    begin(List.of(10, 50, 100), Duration.ofDays(1), Gates.DEFAULTS);
    Rollout rollout = serve();
    task();
    store.promote("reviewer", Instant.now(), "cli");
    await(() -> rollout.status().share() == 50);
    store.rollback("reviewer", "the answers read worse", Instant.now(), "cli");
    await(() -> rollout.status().phase() == RolloutStatus.Phase.ROLLED_BACK);
    assertThat(rollout.status().reason()).isEqualTo("the answers read worse");
    assertThat(rollout.route("anything")).isEqualTo(Rollout.Version.BASELINE);
    assertThatThrownBy(() -> store.promote("reviewer", Instant.now(), "cli"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("rolled back already");
  }

  @Test
  void aFinishedRolloutStillAttachedNeverWritesOverTheNextRolloutOfTheAgent() throws Exception {
    begin(List.of(10, 100), Duration.ofDays(1), Gates.DEFAULTS);
    Rollout old =
        Rollout.attach(store, "reviewer", () -> firing.get(), Clock.systemUTC(), events::add)
            .orElseThrow();
    attached.add(old);
    store.rollback("reviewer", "first try", Instant.now(), "cli");
    await(() -> old.status().phase() == RolloutStatus.Phase.ROLLED_BACK);
    Files.writeString(dir.resolve("reviewer-v3.md"), NEXT.replace("2.0", "3.0"));
    RolloutStatus next =
        store.start(
            load(dir.resolve("agents/reviewer.md")),
            load(dir.resolve("reviewer-v3.md")),
            List.of(50, 100),
            Duration.ofDays(1),
            Gates.DEFAULTS,
            Instant.now(),
            "test");
    old.evaluate();
    Thread.sleep(Rollout.SYNC_EVERY.toMillis() * 3); // several of the old one's syncs
    old.evaluate();
    RolloutStatus onDisk = store.status("reviewer").orElseThrow();
    assertThat(onDisk.phase()).isEqualTo(RolloutStatus.Phase.RUNNING);
    assertThat(onDisk.canary().version()).isEqualTo("3.0");
    assertThat(onDisk.identity()).isEqualTo(next.identity()).isNotEqualTo(old.status().identity());
    assertThat(old.route("any key")).isEqualTo(Rollout.Version.BASELINE);
  }

  /** A clock the test moves by hand. */
  private static final class HandClock extends Clock {
    private volatile Instant now = Instant.now();

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** The revision and bytes of the rollout's file: any write changes the revision. */
  private String onDisk() throws Exception {
    return Files.readString(dir.resolve("rollouts/reviewer.json"));
  }

  private long revision() throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(dir.resolve("rollouts/reviewer.json").toFile())
        .get("revision")
        .asLong();
  }

  /** Evaluates it at several sync periods, as its ticker would over a few seconds. */
  private static void manySyncPeriods(Rollout r, HandClock clock) {
    for (int i = 0; i < 10; i++) {
      clock.advance(Rollout.SYNC_EVERY.multipliedBy(2));
      r.evaluate();
    }
  }

  @Test
  void aRolloutWritesItsFileOnlyWhenSomethingChangedAndAnEndedOneNeverAgain() throws Exception {
    begin(List.of(10, 100), Duration.ofDays(1), Gates.DEFAULTS);
    HandClock clock = new HandClock();
    Rollout r =
        Rollout.attach(store, "reviewer", () -> firing.get(), clock, events::add).orElseThrow();
    attached.add(r);
    long started = revision();

    manySyncPeriods(r, clock);
    assertThat(revision()).as("running without traffic: nothing to write").isEqualTo(started);

    r.record(Rollout.Version.BASELINE, true, Duration.ofMillis(5), 0.01);
    manySyncPeriods(r, clock);
    assertThat(revision()).as("a task changed the measures: one write").isEqualTo(started + 1);
    assertThat(store.status("reviewer").orElseThrow().baselineFigures().tasks()).isEqualTo(1);

    store.rollback("reviewer", "by hand", Instant.now(), "cli"); // the command's own write
    manySyncPeriods(r, clock);
    assertThat(r.status().phase()).isEqualTo(RolloutStatus.Phase.ROLLED_BACK);
    assertThat(r.status().reason()).isEqualTo("by hand");
    long ended = revision();
    assertThat(ended).as("the node took the decision over without writing").isEqualTo(started + 2);
    String bytes = onDisk();
    java.nio.file.attribute.FileTime modified =
        Files.getLastModifiedTime(dir.resolve("rollouts/reviewer.json"));

    manySyncPeriods(r, clock);
    r.record(Rollout.Version.CANARY, false, Duration.ofMillis(5), 0.01); // ended: not measured
    manySyncPeriods(r, clock);
    r.close();
    attached.remove(r);
    assertThat(revision()).as("an ended rollout attached writes nothing").isEqualTo(ended);
    assertThat(onDisk()).isEqualTo(bytes);
    assertThat(Files.getLastModifiedTime(dir.resolve("rollouts/reviewer.json")))
        .isEqualTo(modified);
  }

  @Test
  void routingIsStickyAndARisingShareOnlyMovesKeysToTheCanary() {
    int[] shares = {5, 25, 100};
    List<String> keysOf = new ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      keysOf.add("key-" + i);
    }
    int previous = 0;
    for (int share : shares) {
      int canary = 0;
      for (String k : keysOf) {
        boolean onCanary = Rollout.bucket("reviewer", k) < share * 100;
        if (onCanary) {
          canary++;
        }
      }
      assertThat(canary)
          .isBetween(share * 40 - 150, share * 40 + 150)
          .isGreaterThanOrEqualTo(previous);
      previous = canary;
    }
    assertThat(Rollout.bucket("reviewer", "key-7")).isEqualTo(Rollout.bucket("reviewer", "key-7"));
  }

  @Test
  void validatorsApprovingLessOfTheCanaryRollItBack() {
    RolloutState s = new RolloutState();
    s.gates = Gates.DEFAULTS.withMinTasks(1);
    s.baselineMeasures.task(true, 1000, 1);
    s.canaryMeasures.task(true, 1000, 1);
    for (int i = 0; i < 10; i++) {
      s.baselineMeasures.verdict(true);
      s.canaryMeasures.verdict(i < 6);
    }
    assertThat(Rollout.judge(s).failed())
        .startsWith("validators' approval rate 60.0 % under the limit 90.9 %");
    for (int i = 0; i < 40; i++) {
      s.canaryMeasures.verdict(true);
    }
    assertThat(Rollout.judge(s).failed()).as("46 of 50 approvals: 92 %").isNull();
    assertThat(Rollout.judge(s).held()).contains("approvals 92.0 % vs 100.0 %");
  }

  @Test
  void aBadPlanIsRefusedWithItsFix() throws Exception {
    AgentDefinition base = load(dir.resolve("agents/reviewer.md"));
    AgentDefinition next = load(dir.resolve("reviewer-v2.md"));
    assertThatThrownBy(
            () ->
                store.start(
                    base, next, List.of(5, 25), Duration.ZERO, Gates.DEFAULTS, Instant.now(), "t"))
        .hasMessageContaining("must end at 100");
    assertThatThrownBy(
            () ->
                store.start(
                    base,
                    next,
                    List.of(25, 5, 100),
                    Duration.ZERO,
                    Gates.DEFAULTS,
                    Instant.now(),
                    "t"))
        .hasMessageContaining("must rise");
    assertThatThrownBy(
            () ->
                store.start(
                    base, base, List.of(100), Duration.ZERO, Gates.DEFAULTS, Instant.now(), "t"))
        .hasMessageContaining("nothing to roll out");
    store.start(base, next, List.of(100), Duration.ZERO, Gates.DEFAULTS, Instant.now(), "t");
    assertThatThrownBy(
            () ->
                store.start(
                    base, next, List.of(100), Duration.ZERO, Gates.DEFAULTS, Instant.now(), "t"))
        .hasMessageContaining("is running already");
    assertThat(store.list()).hasSize(1);
  }
}
