package dev.cfn.flow.graph;

import dev.cfn.ai.TaskFailed;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import java.util.Objects;

/**
 * The work of a task's agent, as a function from the task's input to its result; {@link #agent}
 * makes it an agent that answers tasks the way a {@link GraphRunner} expects, in both modes.
 *
 * <pre>{@code
 * runtime.register(AgentType.of("upper", id -> TaskWorker.agent((input, ctx) -> input.toUpperCase())));
 * }</pre>
 */
@FunctionalInterface
public interface TaskWorker {

  /**
   * Does the task. Throwing fails the attempt (the graph retries it as the task's retry policy
   * says). On a RELIABLE task, {@code ctx.effects()} commits exactly once together with the answer;
   * what was put there before a throw is committed with the failure answer, so throw before
   * writing.
   */
  String work(String input, AgentContext ctx) throws Exception;

  /**
   * An agent doing {@code worker}'s work: it answers a request with {@code ctx.reply}, a RELIABLE
   * message by sending the answer to its sender through its effects (exactly once, with the
   * worker's own effects), any other message by sending the answer to its sender.
   */
  static Agent agent(TaskWorker worker) {
    Objects.requireNonNull(worker, "worker");
    return (Envelope m, AgentContext ctx) -> {
      if (m.isReply()) {
        return;
      }
      Object answer;
      if (m.payload() instanceof String input) {
        try {
          String result = worker.work(input, ctx);
          answer =
              result != null
                  ? result
                  : new TaskFailed(
                      TaskFailed.Kind.ERROR, "the worker returned null (fix: return a text)");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          answer = new TaskFailed(TaskFailed.Kind.ERROR, "interrupted");
        } catch (Exception e) {
          answer =
              new TaskFailed(
                  TaskFailed.Kind.ERROR, e.getMessage() != null ? e.getMessage() : e.toString());
        }
      } else {
        answer =
            new TaskFailed(
                TaskFailed.Kind.INVALID_TASK,
                "a task's input is a String, not " + m.payload().getClass().getName());
      }
      if (m.isRequest()) {
        ctx.reply(answer);
      } else if (m.delivery() == DeliveryMode.RELIABLE) {
        ctx.effects().send(m.sender(), answer);
      } else {
        ctx.send(m.sender(), answer);
      }
    };
  }
}
