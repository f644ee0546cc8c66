package dev.cfn.flow.loop;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * A transition of a CFN Loop run, published through the bus (BEST_EFFORT) by the run's coordinator
 * with the run id as the topic's source: {@code cfn.flow.loop.asked} when an agent is asked, {@code
 * cfn.flow.loop.answered} when its answer is recorded as a step, and {@code
 * cfn.flow.loop.run.<status>} when the run starts or its status changes ({@code running}, {@code
 * waiting}, {@code accepted}, ...). Subscribe with {@code runtime.subscribe("cfn.flow.loop.#",
 * observer)} (or {@code cfn.flow.#} for graphs too). Events are published when the coordinator
 * handles a message, before its commit: around a crash one may be published twice or not at all;
 * the run's record ({@link LoopRunner#record}) is what counts.
 *
 * @param runId the run
 * @param kind what happened
 * @param iteration the iteration (0 for a run event that belongs to none)
 * @param phase the step's loop, or null for a run event
 * @param agent the agent asked or answering ({@code person} for a human decision), or null
 * @param index the implementer's or validator's position, 0 otherwise
 * @param status the run's status as the event is published (for {@link Kind#RUN}: the new one)
 * @param ok for {@link Kind#ANSWERED}: whether the answer was readable
 * @param confidence an implementer's or validator's confidence, or null
 * @param detail the verdict, the decision, why the answer was not readable, or the run's reason
 */
public record LoopEvent(
    String runId,
    Kind kind,
    int iteration,
    LoopStep.Phase phase,
    String agent,
    int index,
    LoopStatus status,
    boolean ok,
    BigDecimal confidence,
    String detail) {

  /** The topic prefix of every loop event. */
  public static final String TOPIC = "cfn.flow.loop";

  /** What a {@link LoopEvent} reports. */
  public enum Kind {
    /** An agent was asked (a call was dispatched). */
    ASKED,
    /** An agent's answer (or a person's decision) was recorded as a step. */
    ANSWERED,
    /** The run started or its status changed. */
    RUN
  }

  /** The topic type this event is published on. */
  public String topic() {
    return switch (kind) {
      case ASKED -> TOPIC + ".asked";
      case ANSWERED -> TOPIC + ".answered";
      case RUN -> TOPIC + ".run." + status.name().toLowerCase(Locale.ROOT);
    };
  }
}
