package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.cli.StoreCommandsTest.Run;
import dev.cfn.core.AgentType;
import dev.cfn.core.RetryPolicy;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.IssuedToken;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.fixture.DamagedTokenFile;
import dev.cfn.store.journal.JournalFiles;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator commands with {@code --server URL} against a real {@link CfnServer} (as {@code cfn
 * serve} runs it) over TLS 1.3 with its certificate pinned: {@code dlq}, {@code memory}, {@code
 * store check} and {@code backup} act through the API while the node holds its files, and each
 * failure (no server, another certificate, a refused token, a role too low) is one clear line with
 * its exit code, the token never shown.
 */
class RemoteCommandsTest {
  @TempDir static Path home;
  @TempDir Path out;
  static CfnServer server;
  static String url;
  static String fingerprint;
  static String adminToken;
  static Path admin;
  static Path viewer;
  static Path agent;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    server =
        CfnServer.builder(home)
            .port(0)
            .retryPolicy(new RetryPolicy(Duration.ZERO, 1.0, Duration.ZERO, 1))
            .agentType(
                AgentType.of(
                    "failing",
                    id ->
                        (m, ctx) -> {
                          throw new IllegalStateException("fails on purpose");
                        }))
            .start();
    url = server.url();
    fingerprint = server.fingerprint().orElseThrow();
    adminToken = token(Role.ADMIN);
    admin = tokenFile("admin", adminToken);
    viewer = tokenFile("viewer", token(Role.VIEWER));
    agent = tokenFile("agent", token(Role.AGENT));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void environmentBack() {
    ServerOptions.environment = System.getenv();
  }

  static String token(Role role) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store
          .create(role, List.of(Scope.ALL), Duration.ofDays(1), "test", "user:test")
          .secret();
    }
  }

  static Path tokenFile(String name, String token) throws Exception {
    Path f = home.resolve(name + ".token");
    Files.writeString(f, token + "\n");
    return f;
  }

  /** {@code args} followed by {@code --server URL --fingerprint FP --token-file FILE}. */
  static Run remote(Path token, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--server", url, "--fingerprint", fingerprint, "--token-file"));
    all.add(token.toString());
    Run r = StoreCommandsTest.run(all.toArray(String[]::new));
    assertThat(r.out() + r.err()).doesNotContain(adminToken);
    return r;
  }

  static long sendReliableToFailingAgent() throws Exception {
    KeyStore trust = server.certificate().orElseThrow().trustStore();
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    tls.init(null, tmf.getTrustManagers(), null);
    HttpClient http = HttpClient.newBuilder().sslContext(tls).build();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url + "/v1/messages/send"))
                .header("Authorization", "Bearer " + adminToken)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"to\":\"failing/1\",\"payload\":{\"n\":7},\"reliable\":true}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("id").asLong();
  }

  static void awaitDeadLetter(long id) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < end) {
      Run list = remote(viewer, "dlq", "list", "--json");
      assertThat(list.code()).as(list.err()).isZero();
      for (JsonNode d : JSON.readTree(list.out())) {
        if (d.path("id").asLong() == id) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("message " + id + " was not dead-lettered within 30 s");
  }

  @Test
  void dlqListsShowsReplaysAndPurgesOnTheRunningNodeWhileItHoldsTheJournal() throws Exception {
    long id = sendReliableToFailingAgent();
    awaitDeadLetter(id);
    Run list = remote(viewer, "dlq", "list");
    assertThat(list.out()).contains("failing/1").contains("fails on purpose").contains(url);
    Run show = remote(admin, "dlq", "show", Long.toString(id));
    assertThat(show.code()).as(show.err()).isZero();
    assertThat(show.out()).contains("\"n\":7").contains("fails on purpose");
    assertThat(remote(viewer, "dlq", "show", Long.toString(id)).code())
        .isEqualTo(ExitCode.DENIED); // payloads are for operators
    assertThat(remote(admin, "dlq", "show", "999999").code()).isEqualTo(ExitCode.FAILED);

    // the node holds the journal: a local replay cannot take it, the API can
    Path journal = home.resolve(".cfn").resolve("cfn.db");
    Run local =
        StoreCommandsTest.run("dlq", "replay", Long.toString(id), "--journal", journal.toString());
    assertThat(local.code()).isNotZero();
    Run replay = remote(admin, "dlq", "replay", Long.toString(id));
    assertThat(replay.code()).as(replay.err()).isZero();
    assertThat(replay.out()).contains("delivered again");
    awaitDeadLetter(id); // it failed again on the live runtime

    assertThat(remote(agent, "dlq", "purge", Long.toString(id)).code()).isEqualTo(ExitCode.DENIED);
    Run purge = remote(admin, "dlq", "purge", Long.toString(id));
    assertThat(purge.code()).as(purge.err()).isZero();
    assertThat(remote(admin, "dlq", "purge", Long.toString(id)).code()).isEqualTo(ExitCode.FAILED);
    sendReliableToFailingAgent();
    Run all = remote(admin, "dlq", "purge", "--all");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(all.out()).matches("(?s)deleted \\d+ dead letter\\(s\\).*");
  }

  @Test
  void memoryPutsGetsListsSearchesAndDeletesThroughTheApi() throws Exception {
    Run put =
        remote(
            admin,
            "memory",
            "put",
            "deploy",
            "never on fridays",
            "-n",
            "notes",
            "--level",
            "public",
            "--tag",
            "ops",
            "--meta",
            "source=test",
            "--ttl",
            "1h");
    assertThat(put.code()).as(put.err()).isZero();
    assertThat(put.out()).contains("stored notes/deploy (public, owner @operator");
    Run get = remote(agent, "memory", "get", "deploy", "-n", "notes", "--json");
    assertThat(get.code()).as(get.err()).isZero();
    JsonNode entry = JSON.readTree(get.out());
    assertThat(entry.path("value").asText()).isEqualTo("never on fridays");
    assertThat(entry.path("metadata").path("source").asText()).isEqualTo("test");
    assertThat(entry.path("tags").toString()).contains("ops");
    assertThat(remote(admin, "memory", "list", "-n", "notes").out()).contains("deploy");
    assertThat(remote(admin, "memory", "search", "fridays", "-n", "notes").out())
        .contains("notes/deploy");
    Run search = remote(admin, "memory", "search", "fridays", "--all-namespaces", "--json");
    assertThat(JSON.readTree(search.out()).get(0).path("entry").path("key").asText())
        .isEqualTo("deploy");
    // an agent token is the agent api/TOKEN-ID: the operator's public entry is not its to delete
    assertThat(remote(agent, "memory", "delete", "deploy", "-n", "notes").code())
        .isEqualTo(ExitCode.DENIED);
    assertThat(remote(viewer, "memory", "get", "deploy", "-n", "notes").code())
        .isEqualTo(ExitCode.DENIED);
    assertThat(remote(admin, "memory", "delete", "deploy", "-n", "notes").code()).isZero();
    assertThat(remote(admin, "memory", "get", "deploy", "-n", "notes").code())
        .isEqualTo(ExitCode.FAILED);
    Run as = remote(admin, "memory", "get", "deploy", "--as", "planner/1");
    assertThat(as.code()).isEqualTo(ExitCode.USAGE);
    assertThat(as.err()).contains("--as").contains("does not go with --server");
  }

  @Test
  void storeCheckAndBackupWorkOnTheRunningNode() throws Exception {
    Run check = remote(viewer, "store", "check");
    assertThat(check.code()).isEqualTo(ExitCode.DENIED); // an operator's
    check = remote(admin, "store", "check", "--json");
    assertThat(check.code()).as(check.err()).isZero();
    JsonNode result = JSON.readTree(check.out());
    assertThat(result.path("ok").asBoolean()).isTrue();
    assertThat(result.path("files").size()).isEqualTo(3);
    assertThat(result.at("/files/2/kind").asText()).isEqualTo("tokens");

    Path file = out.resolve("node.db");
    assertThat(remote(viewer, "backup", "--to", file.toString()).code()).isEqualTo(ExitCode.DENIED);
    assertThat(file).doesNotExist();
    Run backup = remote(admin, "backup", "--to", file.toString());
    assertThat(backup.code()).as(backup.err()).isZero();
    assertThat(backup.out()).contains("backed up the journal of " + url).contains("pending");
    assertThat(JournalFiles.check(file).ok()).isTrue();
    assertThat(remote(admin, "backup", "--to", file.toString()).code()).isEqualTo(ExitCode.USAGE);
    try (var s = Files.list(out)) {
      assertThat(s.toList()).containsExactly(file); // no partial file left behind
    }
  }

  @Test
  void storeCheckOnANodeReportsADamagedTokenRecord(@TempDir Path damagedHome) throws Exception {
    Path file = damagedHome.resolve(TokenStore.DEFAULT_FILE);
    Files.createDirectories(file.getParent());
    String secret = DamagedTokenFile.token(file, Role.ADMIN, "ok").secret();
    IssuedToken damaged = DamagedTokenFile.token(file, Role.VIEWER, DamagedTokenFile.NOTE);
    DamagedTokenFile.damage(file, DamagedTokenFile.NOTE);
    Path tokenFile = damagedHome.resolve("admin.token");
    Files.writeString(tokenFile, secret + "\n");
    try (CfnServer node = CfnServer.builder(damagedHome).port(0).start()) {
      List<String> args =
          List.of(
              "store",
              "check",
              "--server",
              node.url(),
              "--fingerprint",
              node.fingerprint().orElseThrow(),
              "--token-file",
              tokenFile.toString());
      Run check = StoreCommandsTest.run(args.toArray(String[]::new));
      assertThat(check.code()).as(check.err()).isEqualTo(ExitCode.FAILED);
      assertThat(check.out())
          .contains("1 problem(s) in " + file)
          .contains("api_tokens: record '" + damaged.token().id() + "' fails its checksum");
      assertThat(check.out() + check.err()).doesNotContain(secret).doesNotContain(damaged.secret());

      List<String> json = new ArrayList<>(args);
      json.add("--json");
      Run asJson = StoreCommandsTest.run(json.toArray(String[]::new));
      assertThat(asJson.code()).isEqualTo(ExitCode.FAILED);
      JsonNode result = JSON.readTree(asJson.out());
      assertThat(result.path("ok").asBoolean(true)).isFalse();
      assertThat(result.at("/files/2/kind").asText()).isEqualTo("tokens");
      assertThat(result.at("/files/2/ok").asBoolean(true)).isFalse();
      assertThat(result.at("/files/2/problems/0").asText()).contains(damaged.token().id());
    }
  }

  @Test
  void failuresAreOneClearLineAndNeverShowTheToken() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Run down =
        StoreCommandsTest.run(
            "dlq",
            "list",
            "--server",
            "https://127.0.0.1:" + closed,
            "--fingerprint",
            fingerprint,
            "--token-file",
            admin.toString());
    assertThat(down.code()).isEqualTo(ExitCode.FAILED);
    assertThat(down.err()).contains("no cfn server answers at").contains("cfn serve");

    String other = "AB:" + fingerprint.substring(3);
    Run pinned =
        StoreCommandsTest.run(
            "dlq",
            "list",
            "--server",
            url,
            "--fingerprint",
            other,
            "--token-file",
            admin.toString());
    assertThat(pinned.code()).isEqualTo(ExitCode.FAILED);
    assertThat(pinned.err()).contains(fingerprint).contains("not the one pinned");

    Path wrong = tokenFile("wrong", "cfn_" + "A".repeat(43));
    Run refused = remote(wrong, "dlq", "list");
    assertThat(refused.code()).isEqualTo(ExitCode.DENIED);
    assertThat(refused.err()).contains("refused the token").contains("--token-file");
    assertThat(refused.out() + refused.err()).doesNotContain("A".repeat(43));

    ServerOptions.environment = Map.of();
    Run noToken =
        StoreCommandsTest.run("dlq", "list", "--server", url, "--fingerprint", fingerprint);
    assertThat(noToken.code()).isEqualTo(ExitCode.USAGE);
    assertThat(noToken.err()).contains("CFN_TOKEN");

    ServerOptions.environment = Map.of(ServerOptions.TOKEN_ENV, adminToken);
    Run fromEnv =
        StoreCommandsTest.run("dlq", "list", "--server", url, "--fingerprint", fingerprint);
    assertThat(fromEnv.code()).as(fromEnv.err()).isZero();
    assertThat(fromEnv.out() + fromEnv.err()).doesNotContain(adminToken);

    Run badUrl =
        StoreCommandsTest.run(
            "dlq", "list", "--server", "ftp://x", "--token-file", admin.toString());
    assertThat(badUrl.code()).isEqualTo(ExitCode.USAGE);
    Run badPin =
        StoreCommandsTest.run(
            "dlq",
            "list",
            "--server",
            url,
            "--fingerprint",
            "12:34",
            "--token-file",
            admin.toString());
    assertThat(badPin.code()).isEqualTo(ExitCode.USAGE);
    Run orphan = StoreCommandsTest.run("dlq", "list", "--token-file", admin.toString());
    assertThat(orphan.code()).isEqualTo(ExitCode.USAGE);
    assertThat(orphan.err()).contains("only works with --server");
  }
}
