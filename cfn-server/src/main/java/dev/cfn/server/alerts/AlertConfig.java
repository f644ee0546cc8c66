package dev.cfn.server.alerts;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The alert rules and where alerts go, read from {@code .cfn/alerts.yaml} ({@link #FILE}); a node
 * without that file uses {@link #defaults()}, and {@code cfn serve} writes them there on its first
 * start for the user to edit ({@link #DEFAULT_YAML}).
 *
 * <p>The defaults are the seed's thresholds. Critical: availability under 99.9 % over the last
 * hour; any reliable message dead-lettered (a reliable delivery failure); the P95 delivery latency
 * over the 10 ms target of {@code cfn certify}; a task-graph run failed (a coordination failure); a
 * journal record quarantined or an audit event refused (integrity and audit violations). Warning:
 * throughput under 1,000 msg/s while more than 1,000 messages wait; the last recovery took over 5
 * s; heap over 80 %; CPU over 70 %.
 *
 * <p>A value written {@code ${NAME}} (the webhook's URL and secret) is read from the environment,
 * so a secret need not be in the file.
 */
public final class AlertConfig {
  /** Where a node's rules are, under its home. */
  public static final String FILE = ".cfn/alerts.yaml";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,99}");
  private static final Pattern METRIC = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  /** The default rules file, with comments: what {@code cfn serve} writes when there is none. */
  public static final String DEFAULT_YAML =
      """
      # cfn alert rules (cfn serve reads this file at start; restart it after an edit).
      # Each rule tests a metric of /metrics (docs/metrics.md lists them):
      #   metric:    the name as /metrics shows it
      #   labels:    labels the series must carry; the matching series are summed
      #   function:  value (default) | rate (per second over window) | increase (over window)
      #   window:    for rate and increase (default 5m)
      #   op, threshold: the comparison (>, >=, <, <=)
      #   when:      another condition (same keys) that must hold too
      #   for:       how long it must hold before the alert fires (pending until then)
      # States: pending -> firing -> resolved; each transition goes to the log, the history
      # (.cfn/alert-history.jsonl, cfn alerts history) and, when firing or resolved, the webhook.
      evaluate-every: 5s
      webhook:
        # POSTs each firing and resolved alert as JSON, signed:
        #   X-Cfn-Signature: sha256=HEX(HMAC-SHA256(secret, X-Cfn-Timestamp + "." + body))
        url: ""                  # empty: the log and the history only
        secret: ${CFN_ALERT_WEBHOOK_SECRET}
        retries: 3               # attempts after the first, 1 s, 2 s, 4 s apart
        timeout: 5s
      history:
        # .cfn/alert-history.jsonl keeps at most this many entries, none older than max-age;
        # older ones are pruned when it grows a quarter past keep, and at each start
        keep: 10000
        max-age: 90d
      rules:
        # critical (the seed's thresholds)
        - name: availability-under-99-9
          severity: critical
          metric: cfn_availability_ratio
          labels: {window: 1h}
          op: "<"
          threshold: 0.999
          for: 1m
          summary: the node was ready less than 99.9 % of the last hour
        - name: reliable-delivery-failures
          severity: critical
          metric: cfn_reliable_dead_letters_total
          function: increase
          window: 5m
          op: ">"
          threshold: 0
          for: 0s
          summary: reliable messages were dead-lettered after their last attempt
        - name: latency-p95-over-target
          severity: critical
          metric: cfn_message_latency_seconds
          labels: {quantile: "0.95"}
          op: ">"
          threshold: 0.010
          for: 2m
          summary: P95 delivery latency (enqueue to handler start) is over 10 ms
        - name: coordination-failures
          severity: critical
          metric: cfn_flow_events_total
          labels: {event: cfn.flow.run.failed}
          function: increase
          window: 5m
          op: ">"
          threshold: 0
          for: 0s
          summary: task-graph runs failed
        - name: integrity-violations
          severity: critical
          metric: cfn_reliable_quarantined_total
          function: increase
          window: 5m
          op: ">"
          threshold: 0
          for: 0s
          summary: journal records failed their checksum and were quarantined
        - name: audit-violations
          severity: critical
          metric: cfn_audit_failures_total
          function: increase
          window: 5m
          op: ">"
          threshold: 0
          for: 0s
          summary: the audit log refused events (privileged actions went unrecorded)
        # warning
        - name: throughput-under-target
          severity: warning
          metric: cfn_messages_delivered_total
          function: rate
          window: 1m
          op: "<"
          threshold: 1000
          when: {metric: cfn_mailbox_depth, op: ">", threshold: 1000}
          for: 5m
          summary: under 1,000 msg/s delivered while more than 1,000 messages wait
        - name: recovery-over-5s
          severity: warning
          metric: cfn_recovery_seconds
          op: ">"
          threshold: 5
          for: 0s
          summary: the last journal recovery took more than 5 s
        - name: memory-over-80
          severity: warning
          metric: cfn_memory_used_ratio
          op: ">"
          threshold: 0.8
          for: 5m
          summary: heap use is over 80 % of its maximum
        - name: cpu-over-70
          severity: warning
          metric: cfn_cpu_usage_ratio
          op: ">"
          threshold: 0.7
          for: 5m
          summary: the process uses more than 70 % of the machine's CPU
      """;

  /** Where notifications go: a URL (null: none), the HMAC secret, retries and timeout. */
  public record WebhookSettings(URI url, String secret, int retries, Duration timeout) {}

  /**
   * How much alert history is kept: at most {@code keep} entries, none older than {@code maxAge}.
   *
   * @param keep entries kept, 10 to 1,000,000 (default 10,000)
   * @param maxAge the oldest entry kept (default 90 days)
   */
  public record HistorySettings(int keep, Duration maxAge) {
    /** The defaults: 10,000 entries, 90 days. */
    public static final HistorySettings DEFAULTS = new HistorySettings(10_000, Duration.ofDays(90));

    /** Checks the values. */
    public HistorySettings {
      if (keep < 10 || keep > 1_000_000) {
        throw new IllegalArgumentException("keep must be 10 to 1000000, was " + keep);
      }
      if (maxAge == null || maxAge.isNegative() || maxAge.isZero()) {
        throw new IllegalArgumentException("max-age must be above 0");
      }
    }
  }

  private final Duration evaluateEvery;
  private final WebhookSettings webhook;
  private final List<AlertRule> rules;
  private final HistorySettings history;

  AlertConfig(Duration evaluateEvery, WebhookSettings webhook, List<AlertRule> rules) {
    this(evaluateEvery, webhook, rules, HistorySettings.DEFAULTS);
  }

  AlertConfig(
      Duration evaluateEvery,
      WebhookSettings webhook,
      List<AlertRule> rules,
      HistorySettings history) {
    this.evaluateEvery = evaluateEvery;
    this.webhook = webhook;
    this.rules = List.copyOf(rules);
    this.history = history;
  }

  /** How much alert history is kept. */
  public HistorySettings history() {
    return history;
  }

  /** How often the rules are evaluated. */
  public Duration evaluateEvery() {
    return evaluateEvery;
  }

  /** Where notifications go. */
  public WebhookSettings webhook() {
    return webhook;
  }

  /** The rules, in file order. */
  public List<AlertRule> rules() {
    return rules;
  }

  /** The same settings with other rules (tests). */
  public AlertConfig withRules(List<AlertRule> other) {
    return new AlertConfig(evaluateEvery, webhook, other, history);
  }

  /** The same rules and webhook, evaluated every {@code every} (tests). */
  public AlertConfig withEvaluateEvery(Duration every) {
    return new AlertConfig(every, webhook, rules, history);
  }

  /** The same rules with another webhook (tests, embedding). */
  public AlertConfig withWebhook(WebhookSettings other) {
    return new AlertConfig(evaluateEvery, other, rules, history);
  }

  /** The seed's defaults ({@link #DEFAULT_YAML}), with the environment for {@code ${NAME}}. */
  public static AlertConfig defaults(Map<String, String> env) {
    return parse(DEFAULT_YAML, "the default alert rules", env);
  }

  /**
   * The rules of {@code home/.cfn/alerts.yaml}, or the defaults when there is no such file.
   *
   * @throws AlertConfigException naming the file, the rule and the fix when it is not valid
   */
  public static AlertConfig load(Path home, Map<String, String> env) {
    Path file = home.resolve(FILE);
    if (!Files.exists(file)) {
      return defaults(env);
    }
    try {
      return parse(dev.cfn.core.io.TextFile.readUtf8(file), file.toString(), env);
    } catch (IOException e) {
      throw new AlertConfigException(file + ": cannot be read: " + e.getMessage());
    }
  }

  /** Writes {@link #DEFAULT_YAML} to {@code home/.cfn/alerts.yaml} unless it exists. */
  public static boolean writeDefaultsIfAbsent(Path home) throws IOException {
    Path file = home.resolve(FILE);
    if (Files.exists(file)) {
      return false;
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Files.writeString(file, DEFAULT_YAML, StandardCharsets.UTF_8);
    return true;
  }

  /** Parses rules text; {@code where} names it in errors. */
  public static AlertConfig parse(String yaml, String where, Map<String, String> env) {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(where).build()).loadFromString(yaml);
    } catch (YamlEngineException e) {
      throw new AlertConfigException(
          where + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new AlertConfigException(
          where
              + ": expected a mapping with rules: (fix: remove the file and restart cfn serve, which writes the defaults)");
    }
    known(top, where, Set.of("evaluate-every", "webhook", "history", "rules"));
    HistorySettings kept = HistorySettings.DEFAULTS;
    if (top.get("history") instanceof Map<?, ?> h) {
      known(h, where + ": history", Set.of("keep", "max-age"));
      int keep =
          h.get("keep") == null
              ? HistorySettings.DEFAULTS.keep()
              : integer(h.get("keep"), where + ": history.keep");
      if (keep < 10 || keep > 1_000_000) {
        throw new AlertConfigException(
            where + ": history.keep must be 10 to 1000000, was " + keep + " (fix: such as 10000)");
      }
      Duration age =
          duration(h.get("max-age"), HistorySettings.DEFAULTS.maxAge(), where, "history.max-age");
      if (age.isZero()) {
        throw new AlertConfigException(
            where + ": history.max-age must be above 0 (fix: such as 90d)");
      }
      kept = new HistorySettings(keep, age);
    } else if (top.get("history") != null) {
      throw new AlertConfigException(
          where + ": history must be a mapping with keep: and max-age: (fix: such as keep: 10000)");
    }
    Duration every =
        duration(top.get("evaluate-every"), Duration.ofSeconds(5), where, "evaluate-every");
    if (every.isZero()) {
      throw new AlertConfigException(where + ": evaluate-every must be above 0 (fix: such as 5s)");
    }
    WebhookSettings hook = new WebhookSettings(null, "", 3, Duration.ofSeconds(5));
    if (top.get("webhook") instanceof Map<?, ?> w) {
      known(w, where + ": webhook", Set.of("url", "secret", "retries", "timeout"));
      String url = env(text(w.get("url")), env, where + ": webhook.url");
      URI uri = null;
      if (!url.isBlank()) {
        try {
          uri = URI.create(url);
        } catch (IllegalArgumentException e) {
          throw new AlertConfigException(where + ": webhook.url '" + url + "' is not a URL");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
          throw new AlertConfigException(
              where + ": webhook.url '" + url + "' must be http:// or https://");
        }
      }
      Object r = w.get("retries");
      int retries = r == null ? 3 : integer(r, where + ": webhook.retries");
      if (retries < 0 || retries > 10) {
        throw new AlertConfigException(where + ": webhook.retries must be 0 to 10, was " + retries);
      }
      hook =
          new WebhookSettings(
              uri,
              env(text(w.get("secret")), env, null),
              retries,
              duration(w.get("timeout"), Duration.ofSeconds(5), where, "webhook.timeout"));
    } else if (top.get("webhook") != null) {
      throw new AlertConfigException(where + ": webhook must be a mapping with url: and secret:");
    }
    List<AlertRule> rules = new ArrayList<>();
    Object list = top.get("rules");
    if (list != null && !(list instanceof List<?>)) {
      throw new AlertConfigException(where + ": rules must be a list (fix: '- name: ...' items)");
    }
    Set<String> names = new HashSet<>();
    int i = 0;
    for (Object o : list == null ? List.of() : (List<?>) list) {
      i++;
      String at = where + ": rules[" + i + "]";
      if (!(o instanceof Map<?, ?> m)) {
        throw new AlertConfigException(
            at + " must be a mapping with name:, metric:, op:, threshold:");
      }
      known(
          m,
          at,
          Set.of(
              "name",
              "severity",
              "metric",
              "labels",
              "function",
              "window",
              "op",
              "threshold",
              "when",
              "for",
              "summary"));
      String name = text(m.get("name"));
      if (!NAME.matcher(name).matches()) {
        throw new AlertConfigException(
            at
                + ": name '"
                + name
                + "' must be letters, digits, - and _ (fix: such as cpu-over-70)");
      }
      at = where + ": rule " + name;
      if (!names.add(name)) {
        throw new AlertConfigException(at + ": the name is used twice (fix: rename one)");
      }
      String severity = m.get("severity") == null ? "warning" : text(m.get("severity"));
      if (!severity.equals("critical") && !severity.equals("warning")) {
        throw new AlertConfigException(
            at + ": severity must be critical or warning, was '" + severity + "'");
      }
      AlertRule.Condition when = null;
      if (m.get("when") instanceof Map<?, ?> w) {
        known(
            w, at + ": when", Set.of("metric", "labels", "function", "window", "op", "threshold"));
        when = condition(w, at + ": when");
      } else if (m.get("when") != null) {
        throw new AlertConfigException(
            at + ": when must be a mapping with metric:, op:, threshold:");
      }
      rules.add(
          new AlertRule(
              name,
              severity,
              condition(m, at),
              when,
              duration(m.get("for"), Duration.ZERO, at, "for"),
              m.get("summary") == null ? "" : text(m.get("summary"))));
    }
    return new AlertConfig(every, hook, rules, kept);
  }

  private static AlertRule.Condition condition(Map<?, ?> m, String at) {
    String metric = text(m.get("metric"));
    if (!METRIC.matcher(metric).matches()) {
      throw new AlertConfigException(
          at
              + ": metric '"
              + metric
              + "' is not a metric name (fix: a name /metrics shows, such as"
              + " cfn_cpu_usage_ratio)");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (m.get("labels") instanceof Map<?, ?> l) {
      l.forEach((k, v) -> labels.put(String.valueOf(k), String.valueOf(v)));
    } else if (m.get("labels") != null) {
      throw new AlertConfigException(at + ": labels must be a mapping, such as {kind: handler}");
    }
    String fn = m.get("function") == null ? "value" : text(m.get("function"));
    AlertRule.Function function;
    try {
      function = AlertRule.Function.valueOf(fn.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new AlertConfigException(
          at + ": function must be value, rate or increase, was '" + fn + "'");
    }
    String op = text(m.get("op"));
    if (!Set.of(">", ">=", "<", "<=").contains(op)) {
      throw new AlertConfigException(at + ": op must be >, >=, < or <= (quoted), was '" + op + "'");
    }
    Object t = m.get("threshold");
    if (!(t instanceof Number n)) {
      throw new AlertConfigException(at + ": threshold must be a number, was '" + t + "'");
    }
    Duration window = duration(m.get("window"), Duration.ofMinutes(5), at, "window");
    if (function != AlertRule.Function.VALUE && window.toMillis() < 1000) {
      throw new AlertConfigException(at + ": window must be at least 1s (fix: such as 5m)");
    }
    return new AlertRule.Condition(metric, labels, function, window, op, n.doubleValue());
  }

  private static void known(Map<?, ?> m, String at, Set<String> keys) {
    for (Object k : m.keySet()) {
      if (!keys.contains(String.valueOf(k))) {
        throw new AlertConfigException(
            at
                + ": unknown key '"
                + k
                + "' (fix: one of "
                + String.join(", ", keys.stream().sorted().toList())
                + ")");
      }
    }
  }

  private static String text(Object o) {
    return o == null ? "" : String.valueOf(o).strip();
  }

  private static int integer(Object o, String at) {
    if (o instanceof Number n) {
      return n.intValue();
    }
    throw new AlertConfigException(at + " must be a whole number, was '" + o + "'");
  }

  private static String env(String value, Map<String, String> env, String at) {
    Matcher m = ENV.matcher(value);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String v = env.get(m.group(1));
      m.appendReplacement(b, Matcher.quoteReplacement(v == null ? "" : v));
    }
    m.appendTail(b);
    return b.toString();
  }

  /** Parses {@code 250ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 7d} (or a default). */
  static Duration duration(Object o, Duration fallback, String at, String key) {
    if (o == null) {
      return fallback;
    }
    String s = String.valueOf(o).strip();
    Matcher m = DURATION.matcher(s);
    if (!m.matches()) {
      throw new AlertConfigException(
          at + ": " + key + " '" + s + "' is not a duration (fix: such as 0s, 30s, 5m, 1h)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** A duration as the rules file and Prometheus write it: {@code 90s}, {@code 5m}, {@code 1h}. */
  public static String format(Duration d) {
    return duration(d);
  }

  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms > 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  /**
   * The rules as a Prometheus rules file (one group, {@code cfn}), for users who run their own
   * Prometheus and Alertmanager: each rule's PromQL expression, {@code for}, {@code severity} label
   * and summary annotation.
   */
  public String toPrometheus() {
    StringBuilder b = new StringBuilder();
    b.append("# cfn alert rules as a Prometheus rules file (cfn alerts export --prometheus).\n");
    b.append("# Load it with rule_files: in prometheus.yml; route severity in Alertmanager.\n");
    b.append("groups:\n  - name: cfn\n    rules:\n");
    for (AlertRule r : rules) {
      b.append("      - alert: ").append(r.name()).append('\n');
      b.append("        expr: ").append(quote(r.promql())).append('\n');
      b.append("        for: ").append(duration(r.forDuration())).append('\n');
      b.append("        labels:\n          severity: ").append(r.severity()).append('\n');
      b.append("        annotations:\n          summary: ").append(quote(r.summary())).append('\n');
    }
    return b.toString();
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
