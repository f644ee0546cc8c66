package dev.cfn.server;

import dev.cfn.server.alerts.AlertEngine;
import dev.cfn.server.alerts.AlertHistory;
import dev.cfn.server.alerts.AlertRule;
import dev.cfn.server.alerts.Webhook;
import dev.cfn.server.metrics.NodeMetrics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operations routes: {@code GET /metrics} (Prometheus text), {@code GET /v1/alerts} (the rules
 * and their states), {@code GET /v1/alerts/history}, {@code POST /v1/alerts/test} (a test
 * notification through the webhook), {@code GET /v1/availability} (uptime over 1 h, 24 h, 30 d,
 * restarts and downtime windows) and {@code GET /v1/certify/latest} (the last certification).
 */
final class OpsRoutes {
  private final Node node;

  OpsRoutes(Node node) {
    this.node = node;
  }

  Object metrics(Call call) {
    call.ctx.status(200);
    call.ctx.contentType(NodeMetrics.contentType());
    call.ctx.result(node.metrics.scrape().getBytes(StandardCharsets.UTF_8));
    return Gate.STREAMED;
  }

  Object alerts(Call call) {
    List<Map<String, Object>> rules = new ArrayList<>();
    for (AlertEngine.Status s : node.alerts.statuses()) {
      AlertRule r = s.rule();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("severity", r.severity());
      m.put("condition", r.condition().toString());
      m.put("when", r.when() == null ? null : r.when().toString());
      m.put("for", dev.cfn.server.alerts.AlertConfig.format(r.forDuration()));
      m.put("summary", r.summary());
      m.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
      m.put("since", s.since() == null ? null : s.since().toString());
      m.put("value", Double.isFinite(s.value()) ? s.value() : null);
      rules.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put(
        "evaluateEvery",
        dev.cfn.server.alerts.AlertConfig.format(node.alerts.config().evaluateEvery()));
    out.put("webhook", node.alerts.config().webhook().url() != null);
    out.put("rules", rules);
    return out;
  }

  Object history(Call call) throws java.io.IOException {
    int limit = 100;
    String q = call.ctx.queryParam("limit");
    if (q != null) {
      try {
        limit = Integer.parseInt(q.strip());
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > 10_000) {
        throw Problem.badRequest("limit '" + q + "' must be 1 to 10000 (fix: such as ?limit=50)");
      }
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (AlertHistory.Entry e : AlertHistory.of(node.home).read(limit)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("at", e.at().toString());
      m.put("rule", e.rule());
      m.put("severity", e.severity());
      m.put("state", e.state());
      m.put("value", Double.isFinite(e.value()) ? e.value() : null);
      m.put("detail", e.detail());
      out.add(m);
    }
    return Map.of("entries", out);
  }

  Object test(Call call) throws InterruptedException {
    String rule = call.ctx.queryParam("rule");
    call.target(rule == null ? "alerts" : "alert:" + rule);
    Webhook.Delivery d;
    try {
      d = node.alerts.test(rule);
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("delivered", d.delivered());
    m.put("attempts", d.attempts());
    m.put("detail", d.detail());
    return m;
  }

  Object availability(Call call) {
    return node.availability.report();
  }

  /** Where {@code cfn certify} saves its latest report, under the node's home. */
  static final String CERTIFICATION = ".cfn/certify/certification.json";

  /**
   * {@code GET /v1/certify/latest}: the report {@code cfn certify} saved last ({@code cfn certify
   * --json}'s document), as it is.
   */
  Object certification(Call call) throws java.io.IOException {
    java.nio.file.Path file = node.home.resolve(CERTIFICATION);
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw Problem.notFound(
          "no certification report in "
              + file
              + " (fix: run cfn certify in the node's home, such as cfn certify --profile quick)");
    }
    try {
      return Gate.JSON.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new Problem(
          500,
          "Unreadable report",
          file
              + " is not a JSON report ("
              + e.getOriginalMessage()
              + "): run cfn certify again to rewrite it");
    }
  }
}
