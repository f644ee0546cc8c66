package dev.cfn.bench;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Best-effort against RELIABLE LLM tasks, side by side in one JVM, against the testkit's {@link
 * ModelServer} answering at once: the durable call log's cost, measured on the real path.
 *
 * <ul>
 *   <li><b>best-effort</b>: {@code rt.request(llm/i, Task)}; {@link LlmAgent} calls the model and
 *       replies; nothing is journaled or recorded.
 *   <li><b>RELIABLE</b>: {@code rt.request(relay/i, Task)}; the relay sends the task RELIABLE to
 *       {@code llm/i} (journaled, fsynced), whose {@link LlmAgent} records its model call in a
 *       {@link SqliteCallLogStore} ({@code synchronous=FULL}) before answering the relay, which
 *       replies to the request; the journal acknowledges the task in the background.
 * </ul>
 *
 * <p>{@code c} lanes (virtual threads) each drive their own agent, one task at a time, for a
 * warm-up and a measured window; every answer is checked. Each scenario runs on a fresh runtime
 * (and, for RELIABLE, a fresh journal and call log under {@code --dir}); rounds alternate the
 * modes, and the median of the rounds is reported.
 *
 * <pre>
 * java -cp ... dev.cfn.bench.ReliableTasksBench [--concurrency 1,16,256] [--warmup 3]
 *     [--seconds 5] [--rounds 3] [--dir DIR] [--modes BEST_EFFORT,RELIABLE]
 * </pre>
 *
 * <p>Not a command of {@code cfn bench}: a small driver kept beside the call log's work.
 */
public final class ReliableTasksBench {
  private static final String ANSWER = "ok";
  private static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);

  /** The two ways a task travels. */
  enum Mode {
    BEST_EFFORT,
    RELIABLE
  }

  /** One measured scenario. */
  record Result(Mode mode, int concurrency, double tasksPerSecond, double p50Micros) {}

  private ReliableTasksBench() {}

  /**
   * Runs the comparison and prints a table.
   *
   * @param args see the class comment
   * @throws Exception when a scenario fails (a wrong answer, a timeout)
   */
  public static void main(String[] args) throws Exception {
    int[] concurrency = {1, 16, 256};
    int warmup = 3;
    int seconds = 5;
    int rounds = 3;
    Path dir = null;
    List<Mode> modes = List.of(Mode.values());
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--concurrency" ->
            concurrency = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--modes" -> modes = Arrays.stream(args[++i].split(",")).map(Mode::valueOf).toList();
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + "; use --concurrency 1,16,256 --warmup S --seconds S --rounds N --dir DIR --modes BEST_EFFORT,RELIABLE");
      }
    }
    if (dir == null) {
      dir = Files.createTempDirectory("cfn-reliable-tasks");
    }
    Files.createDirectories(dir);
    System.out.println(
        "ReliableTasksBench: "
            + Machine.current().describe()
            + "; warm-up "
            + warmup
            + " s, measured "
            + seconds
            + " s, "
            + rounds
            + " rounds, files in "
            + dir);
    List<Result> results = new ArrayList<>();
    try (ModelServer server = ModelServer.builder().requestHistory(0).start();
        ModelRouter router = router(server)) {
      ModelProvider model = router.provider("local");
      server.script().on(Match.any()).reply(Reply.text(ANSWER));
      int scenario = 0;
      for (int round = 1; round <= rounds; round++) {
        for (int c : concurrency) {
          for (Mode mode : modes) {
            Path files = dir.resolve("s" + scenario++);
            Result r = measure(mode, c, model, files, warmup, seconds);
            System.out.printf(
                Locale.ROOT,
                "  round %d  c=%-4d %-11s %,9.0f tasks/s  p50 %,9.0f µs%n",
                round,
                c,
                mode,
                r.tasksPerSecond(),
                r.p50Micros());
            results.add(r);
          }
        }
      }
      System.out.println("model server answered " + server.received() + " requests");
    }
    System.out.println();
    System.out.println(
        "median of " + rounds + " rounds      best-effort            RELIABLE          ratio");
    if (modes.size() < 2) {
      return;
    }
    for (int c : concurrency) {
      Result be = median(results, Mode.BEST_EFFORT, c);
      Result rel = median(results, Mode.RELIABLE, c);
      System.out.printf(
          Locale.ROOT,
          "  c=%-4d  %,9.0f/s p50 %,7.0f µs   %,9.0f/s p50 %,7.0f µs   %.2f%n",
          c,
          be.tasksPerSecond(),
          be.p50Micros(),
          rel.tasksPerSecond(),
          rel.p50Micros(),
          rel.tasksPerSecond() / be.tasksPerSecond());
    }
  }

  private static Result median(List<Result> all, Mode mode, int c) {
    List<Result> mine =
        all.stream()
            .filter(r -> r.mode() == mode && r.concurrency() == c)
            .sorted((a, b) -> Double.compare(a.tasksPerSecond(), b.tasksPerSecond()))
            .toList();
    return mine.get(mine.size() / 2);
  }

  /**
   * The resilient client cfn's agents use (retries, breaker, the immediate resend of a pooled
   * connection that failed before any answer byte), through a router as in a real configuration.
   */
  private static ModelRouter router(ModelServer server) {
    return ModelRouter.create(
        ModelConfig.parse(
            "providers:\n  local:\n    kind: openai\n    base-url: "
                + server.openAiBaseUrl()
                + "\n    api-key: bench-key\n    model: bench-model\n",
            "ReliableTasksBench",
            Map.of()));
  }

  private static AgentDefinition definition() {
    LoadResult loaded =
        DefinitionLoader.parse(
            "---\nname: bench\ndescription: answers at once\ntools: []\n---\nAnswer briefly.\n",
            Path.of("bench.md"));
    return loaded.definitions().getFirst();
  }

  static Result measure(
      Mode mode, int lanes, ModelProvider model, Path files, int warmupSeconds, int seconds)
      throws Exception {
    Files.createDirectories(files);
    SqliteJournal journal = null;
    SqliteCallLogStore calls = null;
    AgentRuntime.Builder builder = AgentRuntime.builder().jvmMetrics(false);
    LlmAgent.Builder llm = LlmAgent.builder(definition()).model(model);
    if (mode == Mode.RELIABLE) {
      journal = SqliteJournal.builder(files.resolve("cfn.db")).payloadType(Task.class).open();
      calls = SqliteCallLogStore.builder(files.resolve("calls.db")).open();
      llm.callLog(CallLog.durable(calls));
      builder.journal(journal).register(AgentType.of("relay", id -> new Relay()));
    }
    builder.register(llm.type("llm"));
    LongAdder done = new LongAdder();
    Recorder latency = new Recorder(TimeUnit.SECONDS.toNanos(120), 2);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (AgentRuntime rt = builder.build()) {
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < lanes; i++) {
        AgentId to = AgentId.of(mode == Mode.RELIABLE ? "relay" : "llm", Integer.toString(i));
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        while (!stop.get()) {
                          long t0 = System.nanoTime();
                          Envelope reply =
                              rt.request(to, new Task("hello"), TASK_TIMEOUT)
                                  .get(TASK_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
                          if (!(reply.payload() instanceof TaskResult r)
                              || !ANSWER.equals(r.text())) {
                            throw new IllegalStateException(
                                "task to " + to + " answered " + reply.payload());
                          }
                          latency.recordValue(System.nanoTime() - t0);
                          done.increment();
                        }
                      } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                        stop.set(true);
                      }
                    }));
      }
      Thread.sleep(warmupSeconds * 1000L);
      latency.reset();
      long n0 = done.sum();
      long t0 = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      long n1 = done.sum();
      long t1 = System.nanoTime();
      Histogram h = latency.getIntervalHistogram();
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
      if (failure.get() != null) {
        throw new IllegalStateException(
            mode + " at c=" + lanes + " failed: " + failure.get(), failure.get());
      }
      return new Result(
          mode, lanes, (n1 - n0) / ((t1 - t0) / 1e9), h.getValueAtPercentile(50) / 1000.0);
    } finally {
      if (calls != null) {
        calls.close();
      }
      if (journal != null) {
        journal.close();
      }
    }
  }

  /**
   * Relays a request to {@code llm/<its key>} as a RELIABLE message and answers the request with
   * the {@link LlmAgent}'s reply, which comes back as a message (one task at a time per relay).
   */
  private static final class Relay implements Agent {
    private Envelope pending;

    @Override
    public void onMessage(Envelope m, AgentContext ctx) {
      if (m.payload() instanceof Task task && m.isRequest()) {
        pending = m;
        ctx.send(
            Envelope.to(AgentId.of("llm", ctx.self().key()))
                .delivery(DeliveryMode.RELIABLE)
                .payload(task));
      } else if (pending != null) {
        Envelope request = pending;
        pending = null;
        ctx.reply(request, m.payload());
      }
    }
  }
}
