package dev.cfn.flow.graph;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** Worker agents and an event recorder for the graph tests. */
final class Workers {
  /** Attempts per worker key, for the flaky worker. */
  final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

  final Queue<FlowEvent> events = new ConcurrentLinkedQueue<>();

  /**
   * Registers: upper (upper-cases), echo (appends '!'), flaky (fails the first N attempts, N the
   * number in its input after "fail:"), silent (never answers), counter (appends its own count).
   */
  Workers register(AgentRuntime rt) {
    rt.register(AgentType.of("upper", id -> TaskWorker.agent((in, ctx) -> in.toUpperCase())));
    rt.register(AgentType.of("echo", id -> TaskWorker.agent((in, ctx) -> in + "!")));
    rt.register(
        AgentType.of(
            "flaky",
            id ->
                TaskWorker.agent(
                    (in, ctx) -> {
                      int failures = Integer.parseInt(in.substring(in.indexOf("fail:") + 5));
                      int n =
                          attempts
                              .computeIfAbsent(id.toString(), k -> new AtomicInteger())
                              .incrementAndGet();
                      if (n <= failures) {
                        throw new IllegalStateException("flaky attempt " + n);
                      }
                      return "ok after " + n;
                    })));
    rt.register(AgentType.of("silent", id -> (Agent) (m, ctx) -> {}));
    rt.register(AgentType.of("observer", id -> (m, ctx) -> events.add((FlowEvent) m.payload())));
    rt.subscribe("cfn.flow.#", AgentId.of("observer", "1"));
    return this;
  }

  /**
   * tally: adds one to its own state key {@code n} on each run and answers its input with {@code
   * #n}, so that a task run twice shows in its effects and its result.
   */
  static AgentType tally() {
    return AgentType.of(
        "tally",
        id ->
            TaskWorker.agent(
                (in, ctx) -> {
                  int n = Integer.parseInt(ctx.effects().get("n").orElse("0")) + 1;
                  ctx.effects().put("n", Integer.toString(n));
                  return in + "#" + n;
                }));
  }

  /**
   * The results of tasks {@code fan-0} to {@code fan-(width-1)}, space-separated: a join's input.
   */
  static String fanResults(RunState s, int width) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < width; i++) {
      b.append(s.result("fan-" + i).orElseThrow()).append(' ');
    }
    return b.toString().trim();
  }

  List<Transition> transitions(String task) {
    return events.stream().filter(e -> task.equals(e.task())).map(FlowEvent::transition).toList();
  }

  static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  static final Duration WAIT = Duration.ofSeconds(30);
}
