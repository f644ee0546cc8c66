package dev.cfn.server;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import dev.cfn.flow.loop.LoopEvent;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopStatus;
import dev.cfn.flow.loop.LoopStep;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Feeds the CFN Loop validators' verdicts to the canary rollouts of the implementers they judged:
 * the agent {@link #ID}, subscribed to {@code cfn.flow.loop.#} on the node's runtime. It notes
 * which implementer agent each run asked at each index ({@code cfn.flow.loop.asked} of Loop 3), and
 * for each validator's readable verdict ({@code cfn.flow.loop.answered} of Loop 2, {@code approve}
 * or {@code reject}) records it, for every implementer of that iteration whose agent is being
 * rolled out, on the version that served the implementer's call: {@code
 * rollout.recordVerdict(rollout.route(LoopRunner.callKey(keyRun, iteration, IMPLEMENT, index)),
 * approved)} ({@link Node#recordVerdict}). So the rollout's approval-rate gate judges the versions
 * on what the loop's validators said of their work.
 *
 * <p>A replay (a run whose call-log keys are another run's) re-executes recorded verdicts, which
 * were counted when first given: its verdicts are not recorded again. Events are best-effort (see
 * {@link LoopEvent}): around a crash a verdict may be counted twice or not at all, which a rate
 * over many tasks absorbs. A run's notes are dropped when it ends; at most {@link #MAX_RUNS} runs
 * are followed at once (the oldest dropped first).
 */
final class LoopVerdicts implements Agent {
  /** The one agent of a node. */
  static final AgentId ID = new AgentId("cfn-server-verdicts", "rollouts");

  /** The most runs followed at once. */
  static final int MAX_RUNS = 10_000;

  private final Node node;

  /** Each run followed: its implementers by index. Touched by this agent's turns only. */
  private final Map<String, Map<Integer, String>> implementers = new LinkedHashMap<>();

  LoopVerdicts(Node node) {
    this.node = node;
  }

  @Override
  public void onMessage(Envelope message, AgentContext ctx) {
    if (!(message.payload() instanceof LoopEvent e)) {
      return;
    }
    switch (e.kind()) {
      case ASKED -> {
        if (e.phase() == LoopStep.Phase.IMPLEMENT && e.agent() != null) {
          implementers.computeIfAbsent(e.runId(), k -> new TreeMap<>()).put(e.index(), e.agent());
          if (implementers.size() > MAX_RUNS) { // the run followed longest goes first
            implementers.remove(implementers.keySet().iterator().next());
          }
        }
      }
      case ANSWERED -> {
        if (e.phase() == LoopStep.Phase.VALIDATE && e.ok()) {
          verdict(e);
        }
      }
      case RUN -> {
        if (e.status() != LoopStatus.RUNNING && e.status() != LoopStatus.WAITING) {
          implementers.remove(e.runId());
        }
      }
    }
  }

  private void verdict(LoopEvent e) {
    boolean approved;
    if ("approve".equals(e.detail())) {
      approved = true;
    } else if ("reject".equals(e.detail())) {
      approved = false;
    } else {
      return;
    }
    Map<Integer, String> asked = implementers.get(e.runId());
    if (asked == null || asked.isEmpty()) {
      return;
    }
    String keyRun = keyRun(e.runId());
    if (keyRun == null) {
      return; // a replay
    }
    asked.forEach(
        (index, agent) ->
            node.recordVerdict(
                agent,
                LoopRunner.callKey(keyRun, e.iteration(), LoopStep.Phase.IMPLEMENT, index),
                approved));
  }

  /**
   * The call-log keys' run of {@code runId}: its own id, as the node's journal records it (or when
   * it does not hold the run); null for a replay.
   */
  private String keyRun(String runId) {
    Optional<LoopRecord> r;
    try {
      r =
          node.journal
              .state(LoopRunner.coordinator(runId), LoopRecord.STATE_KEY)
              .map(LoopRecord::fromJson);
    } catch (RuntimeException unreadable) {
      r = Optional.empty();
    }
    if (r.isEmpty() || r.get().keyRun() == null || r.get().keyRun().equals(runId)) {
      return runId;
    }
    return null;
  }
}
