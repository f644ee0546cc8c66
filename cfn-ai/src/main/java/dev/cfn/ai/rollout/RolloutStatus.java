package dev.cfn.ai.rollout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A rollout as {@code cfn rollout status} shows it.
 *
 * @param agent the agent rolled out
 * @param phase running, completed or rolled back
 * @param share the canary's share of new tasks now, in percent
 * @param steps the shares of the plan, in percent
 * @param hold how long each step is held before it may be promoted
 * @param stepStartedAt when the current step began
 * @param baseline the version being replaced
 * @param canary the new version
 * @param canaryFile the file the new version was read from
 * @param gates the gates
 * @param baselineFigures the baseline over the whole rollout
 * @param canaryFigures the canary over the current step
 * @param reason why it ended (rolled back or completed), or null while running
 * @param events its history, oldest first
 */
public record RolloutStatus(
    String agent,
    Phase phase,
    int share,
    List<Integer> steps,
    Duration hold,
    Instant stepStartedAt,
    DefinitionVersion baseline,
    DefinitionVersion canary,
    String canaryFile,
    Gates gates,
    Figures baselineFigures,
    Figures canaryFigures,
    String reason,
    List<RolloutEvent> events) {

  /** Where a rollout is. */
  public enum Phase {
    /** Routing its share of new tasks to the canary and judging the gates. */
    RUNNING,
    /** The canary took every task and replaced the definition's file. */
    COMPLETED,
    /** The baseline takes every task again. */
    ROLLED_BACK
  }

  /**
   * What one version did.
   *
   * @param tasks tasks finished
   * @param errorRate the share of them that failed, 0 to 1
   * @param p95Millis P95 latency of the last tasks (at most 2048), in milliseconds
   * @param costPerTask mean cost of a task (US dollars when the model has a price, else tokens)
   * @param approvalRate validators' approvals over verdicts, or null without verdicts
   * @param verdicts validators' verdicts recorded
   */
  public record Figures(
      long tasks,
      double errorRate,
      double p95Millis,
      double costPerTask,
      Double approvalRate,
      long verdicts) {}

  /**
   * What tells this rollout from another of the same agent: the new version's hash and the time it
   * was started. A node attaches to a rollout again only when this changes.
   */
  public String identity() {
    return canary.hash() + "@" + (events.isEmpty() ? "" : events.getFirst().at());
  }

  /**
   * This rollout as JSON values (what {@code cfn rollout status --json} prints and {@code GET
   * /v1/rollouts} answers): phase in lowercase with hyphens, times and durations in ISO-8601.
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("agent", agent);
    m.put("phase", phase.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    m.put("share", share);
    m.put("steps", steps);
    m.put("hold", hold.toString());
    m.put("stepStartedAt", stepStartedAt.toString());
    m.put("baseline", version(baseline));
    m.put("canary", version(canary));
    m.put("reason", reason);
    m.put("gates", gates(gates));
    m.put("baselineFigures", figures(baselineFigures));
    m.put("canaryFigures", figures(canaryFigures));
    List<Map<String, Object>> all = new ArrayList<>();
    for (RolloutEvent e : events) {
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("at", e.at().toString());
      ev.put("kind", e.kind());
      ev.put("share", e.share());
      ev.put("detail", e.detail());
      ev.put("by", e.by());
      all.add(ev);
    }
    m.put("events", all);
    return m;
  }

  private static Map<String, Object> version(DefinitionVersion v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", v.version());
    m.put("hash", v.hash());
    m.put("file", v.file());
    return m;
  }

  private static Map<String, Object> gates(Gates g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("maxRatio", g.maxRatio());
    m.put("errorTolerance", g.errorTolerance());
    m.put("latencySlackMillis", g.latencySlack().toMillis());
    m.put("minTasks", g.minTasks());
    m.put("minVerdicts", g.minVerdicts());
    return m;
  }

  private static Map<String, Object> figures(Figures f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tasks", f.tasks());
    m.put("errorRate", f.errorRate());
    m.put("p95Millis", f.p95Millis());
    m.put("costPerTask", f.costPerTask());
    m.put("approvalRate", f.approvalRate());
    m.put("verdicts", f.verdicts());
    return m;
  }
}
