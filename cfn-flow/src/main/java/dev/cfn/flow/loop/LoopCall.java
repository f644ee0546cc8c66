package dev.cfn.flow.loop;

import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import dev.cfn.core.UndeliverableException;
import dev.cfn.flow.loop.LoopStep.Phase;
import dev.cfn.flow.loop.Messages.Call;
import dev.cfn.flow.loop.Messages.StepDone;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent call of a run, the agent {@code cfn-loop-call/RUN.ITERATION.PHASE.INDEX} (blocking: it
 * waits for the answer on a virtual thread). It receives a RELIABLE {@link Call}, asks the agent
 * with a request that carries a fixed idempotency key, {@code
 * cfn-loop.KEYRUN.ITERATION.PHASE.INDEX}, to the agent id {@code
 * AGENT/KEYRUN.ITERATION.PHASE.INDEX}, and sends the answer to the coordinator in its effects,
 * committed with the call's acknowledgement.
 *
 * <p>The key is what makes a restart cheap: an {@code LlmAgent} records every model call of a
 * message with an idempotency key in its call log before using it. A call interrupted by a crash is
 * redelivered, asks again with the same key and prompt, and the agent replays its recorded model
 * calls instead of making them again; only the model call in flight at the crash, whose record had
 * not committed, is made again (see {@code LlmAgent}'s crash window). A replay run uses the
 * original run's keys ({@link LoopRecord#keyRun()}), so its agents find every answer recorded.
 */
final class LoopCall implements Agent {
  static final String TYPE = "cfn-loop-call";
  private static final Logger log = LoggerFactory.getLogger(LoopCall.class);

  private final LoopRunner runner;

  LoopCall(LoopRunner runner) {
    this.runner = runner;
  }

  static AgentId id(String runId, LoopMachine.Call call) {
    return AgentId.of(TYPE, runId + "." + call.id());
  }

  /** The key of a call: the agent's instance key, and (prefixed) its idempotency key. */
  static String callKey(String keyRun, int iteration, Phase phase, int index) {
    return keyRun + "." + iteration + "." + phase.name().charAt(0) + "." + index;
  }

  @Override
  public void onMessage(Envelope m, AgentContext ctx) {
    if (m.isReply()) {
      return;
    }
    if (!(m.payload() instanceof Call c)) {
      log.warn("{} ignores a {}", ctx.self(), m.payload().getClass().getName());
      return;
    }
    Phase phase = Phase.valueOf(c.phase());
    String key = callKey(c.keyRun(), c.iteration(), phase, c.index());
    long started = runner.clock().millis();
    Object answer;
    try {
      answer =
          ctx.request(
                  Envelope.to(AgentId.of(c.agent(), key))
                      .idempotencyKey("cfn-loop." + key)
                      .payload(new Task(c.prompt())),
                  Duration.ofMillis(c.timeoutMillis()))
              .get()
              .payload();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof TimeoutException || cause instanceof UndeliverableException) {
        answer =
            new TaskFailed(
                TaskFailed.Kind.ERROR,
                cause.getMessage() != null ? cause.getMessage() : cause.toString());
      } else {
        // the runtime is shutting down, or something broke: the journal delivers the call again
        throw new IllegalStateException(
            "loop call " + key + " to " + c.agent() + " got no answer: " + cause, cause);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("loop call " + key + " was interrupted", e);
    }
    long ended = runner.clock().millis();
    LoopStep raw =
        switch (answer) {
          case TaskResult r ->
              Steps.raw(
                  c.iteration(),
                  phase,
                  c.agent(),
                  c.index(),
                  true,
                  r.text(),
                  r.usage().inputTokens(),
                  r.usage().outputTokens(),
                  runner.cost(c.agent(), r.usage()),
                  started,
                  ended);
          case TaskFailed f ->
              Steps.raw(
                  c.iteration(),
                  phase,
                  c.agent(),
                  c.index(),
                  false,
                  f.kind() + ": " + f.reason(),
                  0,
                  0,
                  BigDecimal.ZERO,
                  started,
                  ended);
          case String s ->
              Steps.raw(
                  c.iteration(),
                  phase,
                  c.agent(),
                  c.index(),
                  true,
                  s,
                  0,
                  0,
                  BigDecimal.ZERO,
                  started,
                  ended);
          default ->
              Steps.raw(
                  c.iteration(),
                  phase,
                  c.agent(),
                  c.index(),
                  false,
                  "the agent answered a " + answer.getClass().getName() + ", not a text",
                  0,
                  0,
                  BigDecimal.ZERO,
                  started,
                  ended);
        };
    ctx.effects()
        .send(
            LoopRunner.coordinator(c.runId()),
            new StepDone(
                c.iteration() + "." + phase.name().charAt(0) + "." + c.index(), Steps.toJson(raw)));
  }
}
