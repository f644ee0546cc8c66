package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn serve} in a process of its own: it prints its address and the certificate fingerprint
 * once it answers, and SIGTERM stops it cleanly (the server, runtime and stores close and it says
 * so), after which a second start finds the same certificate.
 */
class ServeCommandTest {
  @TempDir Path home;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void printsWhereItListensAndStopsCleanlyOnSigterm() throws Exception {
    List<String> first = serveOnceAndTerminate();
    List<String> second = serveOnceAndTerminate();
    assertThat(first.get(1)).isEqualTo(second.get(1)); // same certificate, reused
  }

  private List<String> serveOnceAndTerminate() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "serve",
                "--port",
                "0",
                "--home",
                home.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      lines.add(out.readLine());
      lines.add(out.readLine());
      assertThat(lines.get(0)).matches("listening on https://127\\.0\\.0\\.1:\\d+");
      assertThat(lines.get(1))
          .matches("certificate SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}");
      String url = lines.get(0).substring("listening on ".length());
      lines.add(out.readLine());
      assertThat(lines.get(2)).startsWith("dashboard " + url + "/ui/");
      lines.add(out.readLine());
      assertThat(lines.get(3)).startsWith("encryption at rest o"); // on or off, never a key
      // the fingerprint is for pinning; this only checks that the port answers TLS at all
      HttpClient insecure = TrustAll.client();
      HttpResponse<String> live =
          insecure.send(
              HttpRequest.newBuilder(URI.create(url + "/health/live"))
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(live.statusCode()).isEqualTo(200);
      p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of stdout)
      assertThat(out.readLine()).isEqualTo("stopped"); // printed after everything closed
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    return lines;
  }
}
