package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn testkit record} then {@code serve}, over real HTTP on loopback. */
class TestkitCommandTest {
  @TempDir Path dir;

  private static CompletableFuture<CliRun> runAsync(String... args) {
    return CompletableFuture.supplyAsync(
        () -> {
          return CliRun.run(args);
        });
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitListening(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return;
      } catch (java.io.IOException notYet) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("nothing listens on port " + port + " within 30 s");
        }
        Thread.sleep(20);
      }
    }
  }

  private static HttpResponse<String> chat(int port) throws Exception {
    String body =
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
              .header("Authorization", "Bearer sk-secret-recording-key")
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void recordsThroughTheProxyThenServesTheCassetteWithoutTheKey() throws Exception {
    Path cassette = dir.resolve("cassettes/hello.json");
    try (ModelServer upstream = ModelServer.start()) {
      upstream.script().on(Match.any()).reply(Reply.text("recorded answer"));
      int port = freePort();
      CompletableFuture<CliRun> record =
          runAsync(
              "testkit",
              "record",
              "--upstream",
              upstream.baseUrl().toString(),
              "--cassette",
              cassette.toString(),
              "--port",
              Integer.toString(port),
              "--requests",
              "1");
      awaitListening(port);
      HttpResponse<String> live = chat(port);
      assertThat(live.statusCode()).isEqualTo(200);
      assertThat(live.body()).contains("recorded answer");
      CliRun r = record.get(60, TimeUnit.SECONDS);
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).contains("base URL http://127.0.0.1:" + port + "/v1");
      assertThat(r.out()).contains("recorded 1 requests");
      assertThat(upstream.requests()).hasSize(1);
    }
    assertThat(Files.readString(cassette)).doesNotContain("sk-secret-recording-key");

    int port = freePort();
    CompletableFuture<CliRun> serve =
        runAsync(
            "testkit",
            "serve",
            "--cassette",
            cassette.toString(),
            "--port",
            Integer.toString(port),
            "--requests",
            "1");
    awaitListening(port);
    HttpResponse<String> replayed = chat(port);
    assertThat(replayed.statusCode()).isEqualTo(200);
    assertThat(replayed.body()).contains("recorded answer");
    CliRun s = serve.get(60, TimeUnit.SECONDS);
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out()).contains("serving 1 recorded exchanges").contains("served 1 requests");
  }

  @Test
  void aMissingCassetteIsExitTwoWithWhatToDo() throws Exception {
    CliRun r =
        runAsync("testkit", "serve", "--cassette", dir.resolve("none.json").toString())
            .get(30, TimeUnit.SECONDS);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("no cassette at").contains("cfn testkit record");
  }
}
