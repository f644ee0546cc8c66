package dev.cfn.server;

import dev.cfn.ai.budget.Budget;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The budgets of the agents spawned through the API, as gauges labelled {@code agent}, read from
 * each {@link Budget} when {@code /metrics} is scraped: {@code cfn_budget_spent_usd}, {@code
 * cfn_budget_spent_tokens} (input plus output), {@code cfn_budget_calls}, and the limits set at
 * spawn, {@code cfn_budget_limit_usd}, {@code cfn_budget_limit_tokens}, {@code
 * cfn_budget_limit_calls} (only for the agents that have one).
 */
final class BudgetMeters implements MultiCollector {
  private final Node node;

  BudgetMeters(Node node) {
    this.node = node;
  }

  @Override
  public MetricSnapshots collect() {
    List<GaugeDataPointSnapshot> usd = new ArrayList<>();
    List<GaugeDataPointSnapshot> tokens = new ArrayList<>();
    List<GaugeDataPointSnapshot> calls = new ArrayList<>();
    List<GaugeDataPointSnapshot> maxUsd = new ArrayList<>();
    List<GaugeDataPointSnapshot> maxTokens = new ArrayList<>();
    List<GaugeDataPointSnapshot> maxCalls = new ArrayList<>();
    for (Node.Spawned s : node.spawned.values()) {
      Labels agent = Labels.of("agent", s.id().toString());
      Budget.Spent spent = s.budget().spent();
      usd.add(point(agent, spent.costUsd().doubleValue()));
      tokens.add(point(agent, spent.totalTokens()));
      calls.add(point(agent, spent.calls()));
      if (s.limits().get("maxCostUsd") instanceof BigDecimal d) {
        maxUsd.add(point(agent, d.doubleValue()));
      }
      if (s.limits().get("maxTokens") instanceof Long n) {
        maxTokens.add(point(agent, n));
      }
      if (s.limits().get("maxCalls") instanceof Long n) {
        maxCalls.add(point(agent, n));
      }
    }
    return MetricSnapshots.of(
        gauge("cfn_budget_spent_usd", "US dollars an agent's budget was charged", usd),
        gauge("cfn_budget_spent_tokens", "input plus output tokens charged to a budget", tokens),
        gauge("cfn_budget_calls", "model calls charged to an agent's budget", calls),
        gauge("cfn_budget_limit_usd", "an agent's budget limit in US dollars", maxUsd),
        gauge("cfn_budget_limit_tokens", "an agent's budget limit in tokens", maxTokens),
        gauge("cfn_budget_limit_calls", "an agent's budget limit in model calls", maxCalls));
  }

  @Override
  public List<String> getPrometheusNames() {
    return List.of(
        "cfn_budget_spent_usd",
        "cfn_budget_spent_tokens",
        "cfn_budget_calls",
        "cfn_budget_limit_usd",
        "cfn_budget_limit_tokens",
        "cfn_budget_limit_calls");
  }

  private static GaugeDataPointSnapshot point(Labels labels, double value) {
    return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  private static GaugeSnapshot gauge(
      String name, String help, List<GaugeDataPointSnapshot> points) {
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
    points.forEach(b::dataPoint);
    return b.build();
  }
}
