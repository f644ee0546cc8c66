package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.model.ModelConfig;
import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.TestNats;
import dev.cfn.cluster.node.ClusterConfig;
import dev.cfn.cluster.node.Rendezvous;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import dev.cfn.testkit.process.ChildJvm;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's own agents on the cluster path ({@code cfn serve --cluster}, wired by {@link
 * ServeCommand#joinCluster}): two servers, each with the agent definition {@code helper} and a node
 * of one cluster (the tests' PostgreSQL and NATS); tasks sent through the API of one server are
 * stored in the cluster's database, handled by the LLM agent once each on whichever node holds the
 * agent's partition (not by the server's embedded runtime), and acknowledged there; requests with a
 * reply are answered whichever node handled them, and their answers fetched later by id from any
 * server; idempotency keys are taken by the cluster's database; spawning, which the cluster path
 * does not serve, is refused with a problem saying so.
 */
class ServeClusterAgentsTest {
  static final int PARTITIONS = 8;
  @TempDir Path dir;

  private CfnServer server(String name, ModelServer models) throws Exception {
    return server(dir, name, models.openAiBaseUrl());
  }

  /**
   * A server whose home is {@code dir/home-NAME}, with the agent definition {@code helper} on the
   * model server at {@code modelBaseUrl}; also started by {@link ServeClusterNodeChild}.
   */
  static CfnServer server(Path dir, String name, String modelBaseUrl) throws Exception {
    Path home = Files.createDirectories(dir.resolve("home-" + name));
    Path agents = Files.createDirectories(home.resolve(".claude/agents"));
    Files.writeString(
        agents.resolve("helper.md"),
        "---\nname: helper\ndescription: Helps\ntools: []\nmodel: test-model\n---\nYou help.\n");
    String yaml =
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + modelBaseUrl
            + "\n    api-key: key-"
            + name
            + "\n    model: test-model\n";
    return CfnServer.builder(home)
        .port(0)
        .insecureHttp(true)
        .models(() -> ModelConfig.parse(yaml, "test", Map.of()))
        .rateLimit(10_000, 10_000)
        .start();
  }

  private ClusterConfig config(String node, TestNats nats, String pg) throws Exception {
    return config(dir, node, nats.urls(), pg);
  }

  /** The cluster configuration of node {@code node} ({@code dir/NODE.yaml}), TTL 2 s. */
  static ClusterConfig config(Path dir, String node, List<String> natsUrls, String pg)
      throws Exception {
    Path f = dir.resolve(node + ".yaml");
    Files.writeString(
        f,
        "node: "
            + node
            + "\nnamespace: agents\nnats:\n  urls: ["
            + String.join(", ", natsUrls)
            + "]\n  replicas: 1\npostgres:\n  url: "
            + pg
            + "\npartitions: "
            + PARTITIONS
            + "\nttl: 2s\n");
    return ClusterConfig.load(f, Map.of());
  }

  private static String token(CfnServer server, Path home) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store
          .create(Role.OPERATOR, List.of(Scope.ALL), Duration.ofDays(1), "test", "user:test")
          .secret();
    }
  }

  private static String log(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      return "(none: " + e.getMessage() + ")";
    }
  }

  private static HttpResponse<String> get(CfnServer server, String token, String path)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(server.url() + path))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static long idOf(HttpResponse<String> response) {
    Matcher m = Pattern.compile("\"id\"\\s*:\\s*(\\d+)").matcher(response.body());
    assertThat(m.find()).as(response.body()).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** A key of a {@code helper} agent whose partition {@code node} holds now. */
  private static String keyHeldBy(ClusterConfig.Joined node) {
    Partitioner partitioner = new Partitioner(PARTITIONS);
    for (int i = 0; ; i++) {
      String key = "r" + i;
      if (node.node()
          .placement()
          .held()
          .containsKey(partitioner.partition(AgentId.of("helper", key)))) {
        return key;
      }
    }
  }

  private static HttpResponse<String> post(CfnServer server, String token, String path, String body)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(server.url() + path))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Timeout(360) // 10 s on a quiet machine; 168 s once under a load average of 11 on 2 cores
  void tasksSentThroughOneServersApiRunOnTheClusterOnceEach() throws Exception {
    String pg = TestDatabase.newSchema("serveagents");
    try (ModelServer models = ModelServer.start();
        TestNats nats = TestNats.single();
        PgJournal db = PgJournal.builder(pg).stateCacheKeys(0).open();
        CfnServer a = server("a", models);
        CfnServer b = server("b", models)) {
      CountDownLatch release = new CountDownLatch(1);
      models
          .script()
          .on(
              Match.of(
                  "held until released",
                  r -> {
                    String task = r.lastUserMessage();
                    if (task != null && task.contains("held task")) {
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }
                    return true;
                  }))
          .reply(Reply.text("done").withUsage(20, 5, 0));
      StringWriter printed = new StringWriter();
      try (ClusterConfig.Joined na =
              ServeCommand.joinCluster(
                  a, config("node-a", nats, pg), Map.of(), 1L, new PrintWriter(printed, true));
          ClusterConfig.Joined nb =
              ServeCommand.joinCluster(
                  b, config("node-b", nats, pg), Map.of(), 2L, new PrintWriter(printed, true))) {
        assertThat(printed.toString()).contains("agents on the cluster path: helper");
        ServeClusterTest.eventually(
            "both nodes hold partitions, all of them",
            () ->
                !na.node().placement().held().isEmpty()
                    && !nb.node().placement().held().isEmpty()
                    && na.node().placement().held().size() + nb.node().placement().held().size()
                        == PARTITIONS);
        String token = token(a, dir.resolve("home-a"));
        int n = 12;
        List<Long> ids = new ArrayList<>();
        Pattern id = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
        for (int i = 0; i < n; i++) {
          HttpResponse<String> sent =
              post(
                  a,
                  token,
                  "/v1/messages/send",
                  "{\"to\":\"helper/k" + i + "\",\"task\":\"task number " + i + "\"}");
          assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
          assertThat(sent.body()).contains("\"path\":\"cluster\"").contains("\"RELIABLE\"");
          Matcher m = id.matcher(sent.body());
          assertThat(m.find()).isTrue();
          ids.add(Long.parseLong(m.group(1)));
        }
        ServeClusterTest.eventually(
            "every task handled on the cluster",
            () -> na.node().handledCount() + nb.node().handledCount() == n);
        for (long each : ids) {
          assertThat(db.isAcknowledged(each)).as("message " + each + " acknowledged").isTrue();
        }
        List<String> asked = new ArrayList<>();
        for (RecordedRequest r : models.requests()) {
          asked.add(r.lastUserMessage());
        }
        for (int i = 0; i < n; i++) {
          Pattern task = Pattern.compile("\\btask number " + i + "\\b");
          assertThat(asked.stream().filter(t -> t != null && task.matcher(t).find()).count())
              .as("the model was asked task number " + i + " once")
              .isEqualTo(1);
        }
        assertThat(a.runtime().lookup(AgentId.of("helper", "k0")))
            .as("not run by the embedded runtime")
            .isEmpty();
        assertThat(b.runtime().lookup(AgentId.of("helper", "k0"))).isEmpty();

        // requests through A's API to agents on either node: answered, and kept for a later GET
        String tokenB = token(b, dir.resolve("home-b"));
        for (ClusterConfig.Joined holder : List.of(na, nb)) {
          String key = keyHeldBy(holder);
          HttpResponse<String> request =
              post(
                  a,
                  token,
                  "/v1/messages/request",
                  "{\"to\":\"helper/"
                      + key
                      + "\",\"task\":\"asked of "
                      + key
                      + "\",\"timeoutMs\":300000}");
          assertThat(request.statusCode()).as(request.body()).isEqualTo(200);
          assertThat(request.body())
              .contains("\"path\":\"cluster\"")
              .contains("\"from\":\"helper/" + key + "\"")
              .contains("done");
          long requestId = idOf(request);
          HttpResponse<String> later = get(b, tokenB, "/v1/messages/" + requestId + "/answer");
          assertThat(later.statusCode()).as(later.body()).isEqualTo(200);
          assertThat(later.body()).contains("\"from\":\"helper/" + key + "\"").contains("done");
        }
        // a caller that gave up before the reply (504) fetches it later by the request's id
        HttpResponse<String> late =
            post(
                a,
                token,
                "/v1/messages/request",
                "{\"to\":\"helper/late\",\"task\":\"held task\",\"timeoutMs\":1,"
                    + "\"idempotencyKey\":\"late-1\"}");
        assertThat(late.statusCode()).as(late.body()).isEqualTo(504);
        long lateId = idOf(late);
        assertThat(late.body()).contains("/v1/messages/" + lateId + "/answer");
        HttpResponse<String> pending = get(b, tokenB, "/v1/messages/" + lateId + "/answer");
        assertThat(pending.statusCode()).as(pending.body()).isEqualTo(202);
        assertThat(pending.body()).contains("\"status\":\"pending\"");
        release.countDown();
        HttpResponse<String> fetched =
            get(b, tokenB, "/v1/messages/" + lateId + "/answer?waitMs=300000");
        assertThat(fetched.statusCode()).as(fetched.body()).isEqualTo(200);
        assertThat(fetched.body()).contains("\"from\":\"helper/late\"").contains("done");
        HttpResponse<String> again =
            post(
                a,
                token,
                "/v1/messages/request",
                "{\"to\":\"helper/late\",\"task\":\"held task\",\"timeoutMs\":300000,"
                    + "\"idempotencyKey\":\"late-1\"}");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(idOf(again)).as("the same request, by its key").isEqualTo(lateId);
        assertThat(get(a, token, "/v1/messages/999999999/answer").statusCode()).isEqualTo(404);
        // an idempotency key on a send: the second send is the first one
        String keyed =
            "{\"to\":\"helper/keyed\",\"task\":\"keyed task\",\"idempotencyKey\":\"send-1\"}";
        HttpResponse<String> first = post(a, token, "/v1/messages/send", keyed);
        HttpResponse<String> second = post(b, tokenB, "/v1/messages/send", keyed);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        assertThat(second.statusCode()).as(second.body()).isEqualTo(202);
        assertThat(idOf(second)).isEqualTo(idOf(first));
        ServeClusterTest.eventually("the keyed task handled", () -> db.isAcknowledged(idOf(first)));
        assertThat(
                models.requests().stream()
                    .map(RecordedRequest::lastUserMessage)
                    .filter(t -> t != null && t.contains("keyed task"))
                    .count())
            .as("the model was asked the keyed task once")
            .isEqualTo(1);

        HttpResponse<String> spawn =
            post(a, token, "/v1/agents", "{\"type\":\"helper\",\"key\":\"k1\"}");
        assertThat(spawn.statusCode()).isEqualTo(409);
        assertThat(spawn.body()).contains("run on the cluster");
      } finally {
        release.countDown();
      }
    }
  }

  /**
   * A task sent through server A's API to {@code helper} on a partition held by node B, a server in
   * a child JVM ({@link ServeClusterNodeChild}), which is SIGKILLed while its LLM agent waits for
   * the model's answer (the model server holds the calls made with node B's API key until the
   * kill): after the TTL, node A takes the partition over and handles the task, which is
   * acknowledged once in PostgreSQL; the model was asked at most twice for it (the call in flight
   * at the kill is repeated: the crash window).
   */
  @Test
  @Timeout(360)
  void aTaskWhoseNodeIsKilledMidTaskIsHandledOnceByTheSurvivor() throws Exception {
    killMidTask(false);
  }

  /**
   * As {@link #aTaskWhoseNodeIsKilledMidTaskIsHandledOnceByTheSurvivor}, with the task sent as a
   * request through server A's API ({@code POST /v1/messages/request}) that waits for the reply
   * while node B, which holds the agent, is SIGKILLed mid-task: the caller gets the reply of node
   * A's handling (its one answer, stored in PostgreSQL), and it can be fetched again by the
   * request's id.
   */
  @Test
  @Timeout(360)
  void aRequestWhoseNodeIsKilledMidTaskIsAnsweredByTheSurvivor() throws Exception {
    killMidTask(true);
  }

  private void killMidTask(boolean viaRequest) throws Exception {
    String pg = TestDatabase.newSchema(viaRequest ? "serveagentskillreq" : "serveagentskill");
    String crash = "task number crash";
    CountDownLatch askedByB = new CountDownLatch(1);
    CountDownLatch killed = new CountDownLatch(1);
    try (ModelServer models = ModelServer.start();
        TestNats nats = TestNats.single();
        PgJournal db = PgJournal.builder(pg).stateCacheKeys(0).open()) {
      models
          .script()
          .on(
              Match.of(
                  "held until the kill",
                  r -> {
                    String task = r.lastUserMessage();
                    // Every call for the task is held until the kill, node A's too: should B's
                    // lease lapse under load and A take the partition before the kill, A's answer
                    // must not acknowledge the task before it (the test waits for B's call).
                    if (task != null && task.contains(crash)) {
                      if ("Bearer key-node-b".equals(r.headers().get("Authorization"))) {
                        askedByB.countDown();
                      }
                      try {
                        killed.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }
                    return true;
                  }))
          .reply(Reply.text("done").withUsage(20, 5, 0));
      Path childLog = dir.resolve("node-b.log");
      try (ChildJvm b =
          ChildJvm.of(
                  ServeClusterNodeChild.class,
                  dir.toString(),
                  "node-b",
                  models.openAiBaseUrl(),
                  nats.urls().getFirst(),
                  pg)
              .errorTo(childLog)
              .start()) {
        assertThat(b.awaitLine(l -> l.equals("JOINED")))
            .as("node B joined; its log: %s", log(childLog))
            .isEqualTo("JOINED");
        b.readInBackground(line -> {}); // so that its output never fills the pipe
        try (CfnServer a = server("a", models);
            ClusterConfig.Joined na =
                ServeCommand.joinCluster(
                    a,
                    config("node-a", nats, pg),
                    Map.of(),
                    1L,
                    new PrintWriter(new StringWriter()))) {
          String nodeA = na.node().placement().node();
          ServeClusterTest.eventually(
              "both nodes live, each partition held by its owner among them, some by node B",
              () -> {
                List<String> live = na.node().placement().liveNodes();
                if (live.size() != 2) {
                  return false;
                }
                boolean someOnB = false;
                for (int p = 0; p < PARTITIONS; p++) {
                  String owner = Rendezvous.owner(p, live);
                  if (!db.leases().holder(p).map(l -> l.owner().equals(owner)).orElse(false)) {
                    return false;
                  }
                  someOnB |= !owner.equals(nodeA);
                }
                return someOnB;
              });
          String nodeB =
              na.node().placement().liveNodes().stream()
                  .filter(n -> !n.equals(nodeA))
                  .findFirst()
                  .orElseThrow();
          assertThat(nodeB).startsWith("node-b");
          Partitioner partitioner = new Partitioner(PARTITIONS);
          String key = null;
          int partition = -1;
          for (int i = 0; key == null; i++) {
            int p = partitioner.partition(AgentId.of("helper", "k" + i));
            if (db.leases().holder(p).map(l -> l.owner().equals(nodeB)).orElse(false)) {
              key = "k" + i;
              partition = p;
            }
          }
          String token = token(a, dir.resolve("home-a"));
          String body = "{\"to\":\"helper/" + key + "\",\"task\":\"" + crash + "\"";
          java.util.concurrent.CompletableFuture<HttpResponse<String>> asked =
              new java.util.concurrent.CompletableFuture<>();
          long id = -1;
          if (viaRequest) {
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        asked.complete(
                            post(
                                a, token, "/v1/messages/request", body + ",\"timeoutMs\":300000}"));
                      } catch (Exception | Error e) {
                        asked.completeExceptionally(e);
                      }
                    });
          } else {
            HttpResponse<String> sent = post(a, token, "/v1/messages/send", body + "}");
            assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
            assertThat(sent.body()).contains("\"path\":\"cluster\"").contains("\"RELIABLE\"");
            id = idOf(sent);
          }

          assertThat(askedByB.await(300, TimeUnit.SECONDS))
              .as("node B's agent asked the model; its log: %s", log(childLog))
              .isTrue();
          if (viaRequest) {
            assertThat(asked).as("no answer before the kill").isNotDone();
          } else {
            assertThat(db.isAcknowledged(id)).isFalse();
          }
          assertThat(b.kill()).isTrue();
          assertThat(b.exitValue()).isEqualTo(ChildJvm.SIGKILLED);
          killed.countDown();
          if (viaRequest) {
            HttpResponse<String> answered = asked.get(300, TimeUnit.SECONDS);
            assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
            assertThat(answered.body())
                .contains("\"path\":\"cluster\"")
                .contains("\"from\":\"helper/" + key + "\"")
                .contains("done");
            id = idOf(answered);
            HttpResponse<String> again = get(a, token, "/v1/messages/" + id + "/answer");
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            assertThat(again.body()).contains("done");
          }
          long handledId = id;

          ServeClusterTest.eventually(
              "node A took the partition over and handled the task",
              () -> na.node().handledCount() == 1);
          assertThat(na.node().placement().held()).containsKey(partition);
          assertThat(db.isAcknowledged(handledId))
              .as("message " + handledId + " acknowledged")
              .isTrue();
          long askedModel =
              models.requests().stream()
                  .map(RecordedRequest::lastUserMessage)
                  .filter(t -> t != null && t.contains(crash))
                  .count();
          assertThat(askedModel)
              .as(
                  "the model was asked for the task at most twice (node B's call in flight, node A's)")
              .isLessThanOrEqualTo(2);
          assertThat(a.runtime().lookup(AgentId.of("helper", key)))
              .as("not run by the embedded runtime")
              .isEmpty();
        }
      } finally {
        killed.countDown();
      }
    }
  }
}
