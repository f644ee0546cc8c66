package dev.cfn.flow.graph;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import dev.cfn.flow.graph.Messages.AttemptTimeout;
import dev.cfn.flow.graph.Messages.CancelAttempts;
import dev.cfn.flow.graph.Messages.Execute;
import dev.cfn.flow.graph.Messages.Rearm;
import dev.cfn.flow.graph.Messages.RetryAttempt;
import dev.cfn.flow.graph.Messages.TaskFinished;
import dev.cfn.flow.graph.Messages.WorkerAnswer;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kept for runs started by an earlier version, which sent every task iteration through this agent;
 * the coordinator now sends attempts itself (see {@link RunCoordinator}), and this agent only
 * finishes what such a run left under way after an upgrade.
 *
 * <p>The attempts of one iteration of one task of a RELIABLE run: the agent {@code
 * cfn-flow-task/RUN.TASK.ITERATION}. It sends the task's input to the task's agent (in its effects'
 * outbox, so exactly once per attempt), waits for the answer (the agent answers the sender, which
 * is this agent), times the attempt out, retries after a backoff, and reports the end to the
 * coordinator (again in the outbox, so exactly once). Its state (status, attempt, the {@link
 * Execute}) is in its namespace of the journal:
 *
 * <pre>
 *  x        the Execute (its fields, each as LENGTH:TEXT; earlier versions: one key x.FIELD each)
 *  status   RUNNING, BACKOFF or DONE   attempt  from 1
 * </pre>
 *
 * <p>Because this agent is the sender, the answer finds its way back without any correlation from
 * the worker: any agent that answers the sender of a task works, RELIABLE (through its effects:
 * exactly once with the worker's own effects) or BEST_EFFORT (an {@code LlmAgent}'s answer, passed
 * on to itself as a RELIABLE {@link WorkerAnswer}). Any successful answer is the task's result,
 * even one to an attempt that timed out: every attempt carries the same input. Timers are in
 * memory; after a restart the coordinator's {@link Rearm} sets them again.
 */
final class TaskAttempts implements Agent {
  private static final Logger log = LoggerFactory.getLogger(TaskAttempts.class);

  /** The agent type of task attempts. */
  static final String TYPE = "cfn-flow-task";

  private static final String RUNNING = "RUNNING";
  private static final String BACKOFF = "BACKOFF";
  private static final String DONE = "DONE";

  private final GraphRunner runner;

  TaskAttempts(GraphRunner runner) {
    this.runner = runner;
  }

  static AgentId id(String runId, String task, int iteration) {
    return AgentId.of(TYPE, runId + "." + task + "." + iteration);
  }

  @Override
  public void onMessage(Envelope message, AgentContext ctx) {
    Object payload = message.payload();
    if (message.delivery() != DeliveryMode.RELIABLE) {
      // An answer that came BEST_EFFORT (an LlmAgent's): make it durable before acting on it.
      WorkerAnswer a = Answers.of(payload);
      ctx.send(Envelope.to(ctx.self()).delivery(DeliveryMode.RELIABLE).payload(a));
      return;
    }
    Effects fx = ctx.effects();
    switch (payload) {
      case Execute x -> execute(x, fx, ctx);
      case AttemptTimeout t -> timedOut(t, fx, ctx);
      case RetryAttempt r -> retry(r, fx, ctx);
      case CancelAttempts c -> fx.put("status", DONE);
      case Rearm r -> rearm(fx, ctx);
      default -> answered(Answers.of(payload), fx, ctx);
    }
  }

  private void execute(Execute x, Effects fx, AgentContext ctx) {
    if (fx.get("status").isPresent()) {
      return; // a second Execute for the same iteration: the first one is under way
    }
    fx.put("x", encode(x)); // one key, not one per field: a state row is a write per commit
    send(x, 1, fx, ctx);
  }

  /** Sends attempt {@code attempt} to the worker and arms its timeout. */
  private void send(Execute x, int attempt, Effects fx, AgentContext ctx) {
    AgentId target = AgentId.parse(x.target());
    fx.put("status", RUNNING).put("attempt", Integer.toString(attempt));
    publish(ctx, x, Transition.ASSIGNED, attempt, null);
    fx.send(target, x.input());
    publish(ctx, x, Transition.RUNNING, attempt, null);
    armTimeout(x, attempt, ctx);
  }

  private void armTimeout(Execute x, int attempt, AgentContext ctx) {
    AgentId self = ctx.self();
    runner.later(
        Duration.ofMillis(x.timeoutMillis()),
        () -> runner.sendToSelf(self, new AttemptTimeout(attempt)));
  }

  private void answered(WorkerAnswer a, Effects fx, AgentContext ctx) {
    String status = fx.get("status").orElse(DONE);
    if (status.equals(DONE) || (!a.ok() && status.equals(BACKOFF))) {
      return; // finished already, or a failure of an attempt that timed out
    }
    Execute x = load(fx);
    int attempt = attempt(fx);
    if (a.ok()) {
      fx.put("status", DONE);
      fx.send(
          coordinator(x),
          new TaskFinished(x.task(), x.iteration(), "SUCCEEDED", a.text(), null, attempt));
    } else {
      failed(x, attempt, a.text(), fx, ctx);
    }
  }

  private void timedOut(AttemptTimeout t, Effects fx, AgentContext ctx) {
    if (fx.get("status").orElse(DONE).equals(RUNNING) && attempt(fx) == t.attempt()) {
      Execute x = load(fx);
      failed(
          x,
          t.attempt(),
          "attempt " + t.attempt() + " had no answer within " + x.timeoutMillis() + " ms",
          fx,
          ctx);
    }
  }

  private void failed(Execute x, int attempt, String why, Effects fx, AgentContext ctx) {
    if (attempt < x.attempts()) {
      fx.put("status", BACKOFF);
      publish(ctx, x, Transition.RETRIED, attempt, why);
      armRetry(x, attempt + 1, ctx);
    } else {
      fx.put("status", DONE);
      fx.send(
          coordinator(x),
          new TaskFinished(
              x.task(),
              x.iteration(),
              "FAILED",
              null,
              "failed after " + attempt + " attempt" + (attempt == 1 ? "" : "s") + ": " + why,
              attempt));
    }
  }

  private void armRetry(Execute x, int next, AgentContext ctx) {
    AgentId self = ctx.self();
    long base = x.backoffMillis();
    long delay = Math.min(base << Math.min(20, Math.max(0, next - 2)), 3_600_000L);
    runner.later(Duration.ofMillis(delay), () -> runner.sendToSelf(self, new RetryAttempt(next)));
  }

  private void retry(RetryAttempt r, Effects fx, AgentContext ctx) {
    if (fx.get("status").orElse(DONE).equals(BACKOFF) && attempt(fx) + 1 == r.attempt()) {
      send(load(fx), r.attempt(), fx, ctx);
    }
  }

  private void rearm(Effects fx, AgentContext ctx) {
    String status = fx.get("status").orElse(DONE);
    if (status.equals(RUNNING)) {
      armTimeout(load(fx), attempt(fx), ctx);
    } else if (status.equals(BACKOFF)) {
      armRetry(load(fx), attempt(fx) + 1, ctx);
    }
  }

  private static int attempt(Effects fx) {
    return Integer.parseInt(fx.get("attempt").orElse("0"));
  }

  /** The Execute's fields, each as its length, ':' and its text. */
  static String encode(Execute x) {
    StringBuilder b = new StringBuilder(x.input().length() + 96);
    for (String f :
        new String[] {
          x.runId(),
          x.task(),
          Integer.toString(x.iteration()),
          x.target(),
          x.input(),
          Long.toString(x.timeoutMillis()),
          Integer.toString(x.attempts()),
          Long.toString(x.backoffMillis())
        }) {
      b.append(f.length()).append(':').append(f);
    }
    return b.toString();
  }

  /** Reads what {@link #encode} wrote. */
  static Execute decode(String text) {
    String[] f = new String[8];
    int at = 0;
    try {
      for (int i = 0; i < f.length; i++) {
        int colon = text.indexOf(':', at);
        int len = Integer.parseInt(text, at, colon, 10);
        f[i] = text.substring(colon + 1, colon + 1 + len);
        at = colon + 1 + len;
      }
      return new Execute(
          f[0],
          f[1],
          Integer.parseInt(f[2]),
          f[3],
          f[4],
          Long.parseLong(f[5]),
          Integer.parseInt(f[6]),
          Long.parseLong(f[7]));
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "task attempts state 'x' is damaged ("
              + e
              + "): the journal's state table was changed"
              + " by hand",
          e);
    }
  }

  private static Execute load(Effects fx) {
    Optional<String> packed = fx.get("x");
    if (packed.isPresent()) {
      return decode(packed.get());
    }
    // written by an earlier version, one key per field
    return new Execute(
        need(fx, "x.run"),
        need(fx, "x.task"),
        Integer.parseInt(need(fx, "x.iteration")),
        need(fx, "x.target"),
        need(fx, "x.input"),
        Long.parseLong(need(fx, "x.timeout")),
        Integer.parseInt(need(fx, "x.attempts")),
        Long.parseLong(need(fx, "x.backoff")));
  }

  private static String need(Effects fx, String key) {
    Optional<String> v = fx.get(key);
    if (v.isEmpty()) {
      throw new IllegalStateException(
          "task attempts state lacks '" + key + "': the journal's state table was changed by hand");
    }
    return v.get();
  }

  private static AgentId coordinator(Execute x) {
    return AgentId.of(RunCoordinator.TYPE, x.runId());
  }

  private static void publish(
      AgentContext ctx, Execute x, Transition t, int attempt, String detail) {
    try {
      ctx.publish(
          TopicId.of(t.topic(), x.runId()),
          new FlowEvent(x.runId(), x.task(), x.iteration(), t, null, attempt, x.target(), detail));
    } catch (RuntimeException e) {
      log.debug("run {}: event {} not published: {}", x.runId(), t, e.toString());
    }
  }
}
