package dev.cfn.cli;

import dev.cfn.server.alerts.AlertConfig;
import dev.cfn.server.alerts.AlertConfigException;
import dev.cfn.server.alerts.AlertEngine;
import dev.cfn.server.alerts.AlertHistory;
import dev.cfn.server.alerts.AlertRule;
import dev.cfn.server.alerts.Webhook;
import dev.cfn.server.metrics.Samples;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn alerts list|history|test|export}: the alert rules of the node under {@code --home}
 * ({@code .cfn/alerts.yaml}, or the seed's defaults when there is none), the durable history that
 * {@code cfn serve} appends to ({@code .cfn/alert-history.jsonl}), a test notification through the
 * configured webhook, and the rules as a Prometheus rules file. None of them needs the server to
 * run.
 */
@Command(
    name = "alerts",
    mixinStandardHelpOptions = true,
    description = {
      "Shows the alert rules and their history, sends a test notification, exports the rules.",
      "Rules: HOME/.cfn/alerts.yaml (cfn serve writes the defaults there on its first start)."
    },
    subcommands = {
      AlertsCommand.ListRules.class,
      AlertsCommand.History.class,
      AlertsCommand.Test.class,
      AlertsCommand.Export.class
    })
final class AlertsCommand extends CommandGroup {

  /** Reads the rules of {@code home}, turning a bad file into a usage error. */
  static AlertConfig config(HomeOption home) {
    home.cfnDir();
    try {
      return AlertConfig.load(home.home, System.getenv());
    } catch (AlertConfigException e) {
      throw CommandFailure.usage(
          e.getMessage(),
          e.getMessage().contains("(fix:")
              ? null
              : "edit " + AlertConfig.FILE + " (docs/metrics.md)");
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Lists the rules, with each one's last state in the history.")
  static final class ListRules implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    @Override
    public Integer call() throws IOException {
      AlertConfig c = config(home);
      Map<String, AlertHistory.Entry> last = AlertHistory.of(home.home).latestStates();
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (AlertRule r : c.rules()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("name", r.name());
          m.put("severity", r.severity());
          m.put("condition", r.condition().toString());
          m.put("when", r.when() == null ? null : r.when().toString());
          m.put("for", AlertConfig.format(r.forDuration()));
          m.put("summary", r.summary());
          AlertHistory.Entry e = last.get(r.name());
          m.put("lastState", e == null ? null : e.state());
          m.put("lastChange", e == null ? null : e.at().toString());
          rows.add(m);
        }
        out.println(AgentCommand.json(rows));
      } else {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "SEVERITY", "FOR", "LAST STATE", "CONDITION"});
        for (AlertRule r : c.rules()) {
          AlertHistory.Entry e = last.get(r.name());
          rows.add(
              new String[] {
                r.name(),
                r.severity(),
                AlertConfig.format(r.forDuration()),
                e == null ? "-" : e.state() + " " + e.at(),
                r.condition() + (r.when() == null ? "" : " and " + r.when())
              });
        }
        Table.print(out, rows);
        out.println(
            "webhook: "
                + (c.webhook().url() == null ? "none (log and history only)" : c.webhook().url())
                + "; evaluated every "
                + AlertConfig.format(c.evaluateEvery()));
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description = "Shows alert transitions and notifications, oldest first.")
  static final class History implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "The last N entries (default: 50; 0 for all).")
    int limit = 50;

    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    @Override
    public Integer call() throws IOException {
      if (limit < 0) {
        throw CommandFailure.usage("--limit must be 0 or more, was " + limit, "such as --limit 20");
      }
      home.cfnDir();
      List<AlertHistory.Entry> entries = AlertHistory.of(home.home).read(limit);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (AlertHistory.Entry e : entries) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("at", e.at().toString());
          m.put("rule", e.rule());
          m.put("severity", e.severity());
          m.put("state", e.state());
          m.put("value", Double.isFinite(e.value()) ? e.value() : null);
          m.put("detail", e.detail());
          rows.add(m);
        }
        out.println(AgentCommand.json(rows));
      } else if (entries.isEmpty()) {
        out.println("no alert history in " + home.home.resolve(AlertHistory.FILE));
      } else {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"AT", "RULE", "SEVERITY", "STATE", "DETAIL"});
        for (AlertHistory.Entry e : entries) {
          rows.add(new String[] {e.at().toString(), e.rule(), e.severity(), e.state(), e.detail()});
        }
        Table.print(out, rows);
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "test",
      mixinStandardHelpOptions = true,
      description = {
        "Sends a test notification to the webhook of the rules file (signed, retried), logs it and"
            + " records it in the history.",
        "Exit 0 when the webhook accepted it, 1 when it did not."
      })
  static final class Test implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(
        names = "--rule",
        paramLabel = "NAME",
        description = "The rule the test names (default: the first).")
    String rule;

    @Override
    public Integer call() throws InterruptedException {
      AlertConfig c = config(home);
      if (c.webhook().url() == null) {
        throw CommandFailure.usage(
            "no webhook url in " + home.home.resolve(AlertConfig.FILE),
            "set webhook.url (and webhook.secret) there");
      }
      Webhook.Delivery d;
      try (AlertEngine engine =
          AlertEngine.manual(
              c,
              () -> Samples.parse(""),
              AlertHistory.of(home.home),
              new Webhook(c.webhook(), Duration.ofSeconds(1), Clock.systemUTC()),
              Clock.systemUTC(),
              "cfn alerts test")) {
        d = engine.test(rule);
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage("--rule: " + e.getMessage(), null);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          (d.delivered() ? "delivered" : "NOT delivered")
              + " to "
              + c.webhook().url()
              + " after "
              + d.attempts()
              + " attempt(s): "
              + d.detail());
      out.flush();
      if (!d.delivered()) {
        throw CommandFailure.failed(
            "the webhook did not accept the test notification (" + d.detail() + ")",
            "check webhook.url, that the receiver runs, and its logs");
      }
      return ExitCode.OK;
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description =
          "Writes the rules as a Prometheus rules file (for your own Prometheus and Alertmanager).")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(
        names = "--prometheus",
        description = "Prometheus rules-file format (the one format; required).")
    boolean prometheus;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        description = "Write to FILE instead of standard output.")
    Path outFile;

    @Override
    public Integer call() throws IOException {
      if (!prometheus) {
        throw CommandFailure.usage("say which format to export", "cfn alerts export --prometheus");
      }
      if (outFile != null && (outFile.toString().isBlank() || Files.isDirectory(outFile))) {
        throw CommandFailure.usage(
            "--out " + outFile + " is not a file path", "such as --out cfn-rules.yml");
      }
      String text = config(home).toPrometheus();
      if (outFile != null) {
        Files.writeString(outFile, text, StandardCharsets.UTF_8);
        spec.commandLine().getOut().println("wrote " + outFile);
      } else {
        spec.commandLine().getOut().print(text);
      }
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }
}
