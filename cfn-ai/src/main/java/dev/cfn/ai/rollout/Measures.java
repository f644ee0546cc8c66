package dev.cfn.ai.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;

/**
 * What one version did over a span of a rollout: tasks, failures, cost, validators' verdicts and
 * the latencies of the last {@value #KEPT} tasks (from which P95 is computed). Not thread-safe: the
 * {@link Rollout} that owns it guards it.
 */
final class Measures {
  static final int KEPT = 2048;

  long tasks;
  long errors;
  double cost;
  long verdicts;
  long approvals;
  private long[] latencyMicros = new long[KEPT];
  private int kept; // how many of latencyMicros hold values
  private int next; // where the next goes

  void task(boolean ok, long micros, double taskCost) {
    tasks++;
    if (!ok) {
      errors++;
    }
    cost += taskCost;
    latencyMicros[next] = micros;
    next = (next + 1) % KEPT;
    kept = Math.min(kept + 1, KEPT);
  }

  void verdict(boolean approved) {
    verdicts++;
    if (approved) {
      approvals++;
    }
  }

  double errorRate() {
    return tasks == 0 ? 0 : (double) errors / tasks;
  }

  double costPerTask() {
    return tasks == 0 ? 0 : cost / tasks;
  }

  /** The approval rate, or NaN without verdicts. */
  double approvalRate() {
    return verdicts == 0 ? Double.NaN : (double) approvals / verdicts;
  }

  /** P95 of the kept latencies in milliseconds (nearest rank), 0 without tasks. */
  double p95Millis() {
    if (kept == 0) {
      return 0;
    }
    long[] sorted = Arrays.copyOf(latencyMicros, kept);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(0.95 * kept) - 1;
    return sorted[Math.max(0, rank)] / 1000.0;
  }

  RolloutStatus.Figures figures() {
    return new RolloutStatus.Figures(
        tasks,
        errorRate(),
        p95Millis(),
        costPerTask(),
        verdicts == 0 ? null : approvalRate(),
        verdicts);
  }

  ObjectNode toJson() {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("tasks", tasks).put("errors", errors).put("cost", cost);
    n.put("verdicts", verdicts).put("approvals", approvals);
    var lat = n.putArray("latencyMicros");
    for (int i = 0; i < kept; i++) {
      lat.add(latencyMicros[(next - kept + i + KEPT) % KEPT]); // oldest first
    }
    return n;
  }

  static Measures fromJson(JsonNode n) {
    Measures m = new Measures();
    if (n == null || n.isNull()) {
      return m;
    }
    m.tasks = n.path("tasks").asLong();
    m.errors = n.path("errors").asLong();
    m.cost = n.path("cost").asDouble();
    m.verdicts = n.path("verdicts").asLong();
    m.approvals = n.path("approvals").asLong();
    for (JsonNode v : n.path("latencyMicros")) {
      m.latencyMicros[m.next] = v.asLong();
      m.next = (m.next + 1) % KEPT;
      m.kept = Math.min(m.kept + 1, KEPT);
    }
    return m;
  }
}
