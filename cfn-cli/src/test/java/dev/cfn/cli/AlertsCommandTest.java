package dev.cfn.cli;

import static dev.cfn.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.cfn.server.alerts.Webhook;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertsCommandTest {
  @TempDir Path home;

  @Test
  void listsTheDefaultRulesAndExportsThemForPrometheus() throws Exception {
    CliRun list = run("alerts", "list", "--home", home.toString());
    assertThat(list.code()).as(list.err()).isZero();
    assertThat(list.out())
        .contains("availability-under-99-9", "critical", "cpu-over-70", "cfn_cpu_usage_ratio > 0.7")
        .contains("webhook: none");
    CliRun json = run("alerts", "list", "--json", "--home", home.toString());
    assertThat(json.out())
        .startsWith("[")
        .contains("\"name\" : \"availability-under-99-9\"", "\"for\" : \"1m\"");

    Path out = home.resolve("rules.yml");
    CliRun export =
        run("alerts", "export", "--prometheus", "--out", out.toString(), "--home", home.toString());
    assertThat(export.code()).as(export.err()).isZero();
    assertThat(Files.readString(out))
        .startsWith("# cfn alert rules")
        .contains("- alert: memory-over-80", "expr: 'sum(cfn_memory_used_ratio) > 0.8'");
  }

  @Test
  void testSendsASignedNotificationAndTheHistoryShowsIt() throws Exception {
    List<String> signatures = new CopyOnWriteArrayList<>();
    HttpServer receiver =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext(
        "/h",
        ex -> {
          byte[] body = ex.getRequestBody().readAllBytes();
          String ts = ex.getRequestHeaders().getFirst(Webhook.TIMESTAMP);
          signatures.add(
              Webhook.sign("k", ts, body).equals(ex.getRequestHeaders().getFirst(Webhook.SIGNATURE))
                  ? "good"
                  : "bad");
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    receiver.start();
    try {
      Files.createDirectories(home.resolve(".cfn"));
      Files.writeString(
          home.resolve(".cfn/alerts.yaml"),
          "webhook: {url: 'http://127.0.0.1:"
              + receiver.getAddress().getPort()
              + "/h', secret: k}\n"
              + "rules:\n  - {name: hot, severity: warning, metric: cfn_cpu_usage_ratio, op: '>',"
              + " threshold: 0.7, for: 1m}\n");
      CliRun test = run("alerts", "test", "--home", home.toString());
      assertThat(test.code()).as(test.err()).isZero();
      assertThat(test.out()).startsWith("delivered to http://127.0.0.1:");
      assertThat(signatures).containsExactly("good");
      CliRun history = run("alerts", "history", "--home", home.toString());
      assertThat(history.code()).isZero();
      assertThat(history.out()).contains("hot", "test", "notified", "delivered after 1 attempt");
    } finally {
      receiver.stop(0);
    }
  }
}
