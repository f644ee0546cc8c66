package dev.cfn.flow.graph;

/**
 * A transition of a task, or of a run, published through the bus (BEST_EFFORT) on {@code
 * cfn.flow.task.<transition>} or {@code cfn.flow.run.<status>}, with the run id as the topic's
 * source. Subscribe with {@code runtime.subscribe("cfn.flow.#", observer)}. Around a crash of a
 * RELIABLE run an event may be published twice; the run's state is what counts.
 *
 * @param runId the run
 * @param task the task, or null for a run event
 * @param iteration the loop iteration (1 for other tasks; 0 for a run event)
 * @param transition the task's transition, or null for a run event
 * @param run the run's status for a run event, else null
 * @param attempt the attempt (from 1), or 0 where there is none
 * @param agent the agent doing the task, or null
 * @param detail the error, the result's length, or the reason; may be null
 */
public record FlowEvent(
    String runId,
    String task,
    int iteration,
    Transition transition,
    RunStatus run,
    int attempt,
    String agent,
    String detail) {

  /** The topic prefix of task events. */
  public static final String TASK_TOPIC = "cfn.flow.task";

  /** The topic prefix of run events ({@code cfn.flow.run.running} when it starts). */
  public static final String RUN_TOPIC = "cfn.flow.run";
}
