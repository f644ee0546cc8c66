package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.cluster.nats.Partitioner;
import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.nats.TestNats;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import io.nats.client.Connection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster file of {@code cfn serve --cluster}: checked, secrets kept out, two nodes join. */
class ClusterConfigTest {
  @TempDir Path dir;

  private Path file(String name, String yaml) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, yaml);
    return f;
  }

  static String yaml(String node, String nats, String pg, String extra) {
    return "node: "
        + node
        + "\nnamespace: cfgtest\nnats:\n  urls: ["
        + nats
        + "]\n  replicas: 1\npostgres:\n  url: "
        + pg
        + "\n  password_env: CFN_TEST_PG_PASSWORD\n"
        + extra
        + "partitions: 8\nttl: 2s\n";
  }

  @Test
  void aValidFileIsReadAndItsDescriptionHoldsNoSecret() throws Exception {
    Path f =
        file(
            "ok.yaml",
            yaml("node-a", "nats://127.0.0.1:4222", "jdbc:postgresql://db:5432/cfn?user=cfn", ""));
    ClusterConfig c = ClusterConfig.load(f, Map.of("CFN_TEST_PG_PASSWORD", "s3cret-value"));
    assertThat(c.node()).isEqualTo("node-a");
    assertThat(c.namespace()).isEqualTo("cfgtest");
    assertThat(c.partitions()).isEqualTo(8);
    assertThat(c.ttl()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.password(Map.of("CFN_TEST_PG_PASSWORD", "s3cret-value")))
        .isEqualTo("s3cret-value");
    assertThat(c.describe()).doesNotContain("s3cret").doesNotContain("user=cfn");
    assertThat(c.toString()).doesNotContain("s3cret");

    Path secret = file("pw", "from-a-file\n");
    Path g =
        file(
            "file.yaml",
            "node: b\nnats:\n  urls: nats://h:4222\npostgres:\n  url: jdbc:postgresql://h/cfn\n"
                + "  password_file: "
                + secret
                + "\n");
    ClusterConfig d = ClusterConfig.load(g, Map.of());
    assertThat(d.password(Map.of())).isEqualTo("from-a-file");
    assertThat(d.partitions()).isEqualTo(256);
    assertThat(d.ttl()).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.replicas()).isEqualTo(3);
    assertThat(d.reconcileAfter()).isEqualTo(Duration.ofSeconds(60));
    assertThat(d.reconcileEvery()).isEqualTo(Duration.ofSeconds(30));
    assertThat(d.skippedCheckEvery()).isEqualTo(Duration.ofSeconds(30));

    ClusterConfig paced =
        ClusterConfig.load(
            file(
                "paced.yaml",
                yaml(
                    "node-a",
                    "nats://127.0.0.1:4222",
                    "jdbc:postgresql://db/cfn",
                    "reconcile_after: 10s\nskipped_check_every: 5s\n")),
            Map.of("CFN_TEST_PG_PASSWORD", "x"));
    assertThat(paced.reconcileAfter()).isEqualTo(Duration.ofSeconds(10));
    assertThat(paced.reconcileEvery())
        .as("half of reconcile_after")
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(paced.skippedCheckEvery()).isEqualTo(Duration.ofSeconds(5));
    assertThat(paced.describe()).contains("reconcile after 10000 ms every 5000 ms");
    ClusterConfig millis =
        ClusterConfig.load(
            file(
                "millis.yaml",
                yaml(
                    "node-a",
                    "nats://127.0.0.1:4222",
                    "jdbc:postgresql://db/cfn",
                    "reconcile_every: 2500ms\n")),
            Map.of("CFN_TEST_PG_PASSWORD", "x"));
    assertThat(millis.reconcileEvery()).isEqualTo(Duration.ofMillis(2500));
  }

  @Test
  void badFilesAreRefusedWithTheKeyAndTheFix() throws Exception {
    Map<String, String> env = Map.of("CFN_TEST_PG_PASSWORD", "x");
    String pg = "jdbc:postgresql://db/cfn";
    record Case(String yaml, String message) {}
    for (Case c :
        new Case[] {
          new Case(yaml("a", "nats://h:4222", pg, "  password: hunter2\n"), "never written"),
          new Case(yaml("a", "nats://h:4222", pg + "?password=hunter2", ""), "carries a password"),
          new Case(yaml("a", "http://h:8222", pg, ""), "nats.urls has"),
          new Case(yaml("a b", "nats://h:4222", pg, ""), "node 'a b'"),
          new Case(yaml("a", "nats://h:4222", pg, "colour: red\n"), "unknown key colour"),
          new Case(
              yaml("a", "nats://h:4222", pg, "").replace("ttl: 2s", "ttl: soon"), "ttl 'soon'"),
          new Case(yaml("a", "nats://h:4222", "mysql://db", ""), "not a PostgreSQL JDBC URL"),
          new Case("node: a\nnats:\n  urls: []\npostgres:\n  url: " + pg + "\n", "no nats.urls"),
          new Case("[not, a, mapping]", "not a mapping"),
          new Case(
              yaml("a", "nats://h:4222", pg, "subscriptions: [fan]\n"),
              "subscriptions that are not a mapping"),
          new Case(
              yaml("a", "nats://h:4222", pg, "subscriptions:\n  fan: []\n"),
              "subscriptions.fan names no topic pattern"),
          new Case(
              yaml("a", "nats://h:4222", pg, "subscriptions:\n  fan: [news..x]\n"),
              "subscriptions.fan has a bad pattern"),
          new Case(
              yaml("a", "nats://h:4222", pg, "subscriptions:\n  fan: [news.a b]\n"),
              "bad pattern 'news.a b'"),
          new Case(
              yaml("a", "nats://h:4222", pg, "subscriptions:\n  fan: [[news]]\n"),
              "which is not a topic pattern"),
          new Case(
              yaml("a", "nats://h:4222", pg, "subscriptions:\n  'a/b': [news.#]\n"),
              "subscriptions names agent type 'a/b'"),
          new Case(
              yaml("a", "nats://h:4222", pg, "responders: [echo, echo]\n"), "responder type twice"),
          new Case(
              yaml("a", "nats://h:4222", pg, "responders:\n  echo: yes\n"),
              "responders that are not a list"),
          new Case(yaml("a", "nats://h:4222", pg, "reconcile_every: 0s\n"), "reconcile_every 0s"),
          new Case(
              yaml("a", "nats://h:4222", pg, "reconcile_after: soon\n"),
              "reconcile_after 'soon' is not a duration"),
          new Case(
              yaml("a", "nats://h:4222", pg, "skipped_check_every: 100ms\n"),
              "skipped_check_every 100ms is below 1000 ms"),
          new Case(
              yaml("a", "nats://h:4222", pg, "responders: ['']\n"),
              "responders names agent type ''"),
        }) {
      Path f = file("bad.yaml", c.yaml());
      assertThatThrownBy(() -> ClusterConfig.load(f, env))
          .as(c.yaml())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(c.message())
          .hasMessageContaining("fix:")
          .hasMessageNotContaining("hunter2");
    }
    Path f = file("noenv.yaml", yaml("a", "nats://h:4222", pg, ""));
    assertThatThrownBy(() -> ClusterConfig.load(f, Map.of()))
        .hasMessageContaining("CFN_TEST_PG_PASSWORD")
        .hasMessageContaining("not set");
    assertThatThrownBy(() -> ClusterConfig.load(dir.resolve("missing.yaml"), env))
        .hasMessageContaining("cannot be read");
  }

  @Test
  void subscriptionsAndRespondersAreReadAndMustHaveTheirCode() throws Exception {
    Map<String, String> env = Map.of("CFN_TEST_PG_PASSWORD", "x");
    String extra =
        "subscriptions:\n  fan: news.#\n  audit: [orders.*, news.breaking, orders.*]\n"
            + "responders: [echo]\n";
    Path f = file("subs.yaml", yaml("a", "nats://127.0.0.1:1", "jdbc:postgresql://h/cfn", extra));
    ClusterConfig c = ClusterConfig.load(f, env);
    assertThat(c.subscriptions())
        .containsExactly(
            Map.entry("fan", List.of("news.#")),
            Map.entry("audit", List.of("orders.*", "news.breaking")));
    assertThat(c.responders()).containsExactly("echo");
    assertThat(c.describe()).contains("subscriptions {fan=[news.#]").contains("responders [echo]");

    Map<String, ClusterResponder> echo = Map.of("echo", (agent, body) -> body);
    Map<String, ClusterAgent> both =
        Map.of("fan", ClusterNodeTest.counter(), "audit", ClusterNodeTest.counter());
    c.check(both, echo); // every type has its code
    assertThatThrownBy(() -> c.check(Map.of("fan", ClusterNodeTest.counter()), echo))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent type 'audit'")
        .hasMessageContaining("it runs [fan]")
        .hasMessageContaining("fix:");
    assertThatThrownBy(() -> c.check(both, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("responder type 'echo'")
        .hasMessageContaining("it has none")
        .hasMessageContaining("fix:");
    // join checks before it opens anything: the refusal names the type, not an unreachable
    // server (there is no PostgreSQL at h and no NATS on port 1)
    assertThatThrownBy(() -> c.join(env, Map.of(), echo, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent type 'fan'")
        .hasMessageContaining("nothing was started");
  }

  /**
   * Two nodes joined from files that subscribe types to topics and list a responder: a publication
   * on one node reaches the subscribed agents on the node holding each one's partition, once per
   * type; a request from one node is answered by the other's responder.
   */
  @Test
  void subscriptionsAndRespondersFromTheFileWorkAcrossNodes() throws Exception {
    String url = TestDatabase.newSchema("cfgsub");
    Map<String, String> env = Map.of("CFN_TEST_PG_PASSWORD", "unused-by-trust-auth");
    Map<String, ClusterAgent> agents =
        Map.of("fan", ClusterNodeTest.counter(), "audit", ClusterNodeTest.counter());
    Map<String, ClusterResponder> responders =
        Map.of(
            "echo", (agent, body) -> agent.key() + ":" + body,
            "mute", (agent, body) -> "registered in code, not listed in the file");
    String extra =
        "subscriptions:\n  fan: [news.#]\n  audit: [news.breaking, orders.*]\n"
            + "responders: [echo]\n";
    try (TestNats nats = TestNats.single()) {
      String servers = String.join(", ", nats.urls());
      ClusterConfig a =
          ClusterConfig.load(file("a.yaml", yaml("node-a", servers, url, extra)), env);
      ClusterConfig b =
          ClusterConfig.load(file("b.yaml", yaml("node-b", servers, url, extra)), env);
      try (ClusterConfig.Joined ja = a.join(env, agents, responders, 1);
          ClusterConfig.Joined jb = b.join(env, agents, responders, 2);
          PgJournal db = PgJournal.builder(url).stateCacheKeys(0).open()) {
        PlacementTest.eventually(
            "both nodes live and the partitions split",
            () ->
                db.nodes().live().equals(List.of("node-a-1", "node-b-2"))
                    && !ja.node().placement().held().isEmpty()
                    && !jb.node().placement().held().isEmpty()
                    && ja.node().placement().held().size() + jb.node().placement().held().size()
                        == 8);
        Partitioner partitioner = new Partitioner(8);
        Set<Integer> heldByB = jb.node().placement().held().keySet();
        // sources whose fan agent lives on node B, and others on node A
        List<String> onB = new ArrayList<>();
        List<String> onA = new ArrayList<>();
        for (int i = 0; onB.size() < 3 || onA.size() < 3; i++) {
          String source = "s" + i;
          boolean b1 = heldByB.contains(partitioner.partition(AgentId.of("fan", source)));
          (b1 ? onB : onA).add(source);
        }
        List<String> sources = new ArrayList<>(onB.subList(0, 3));
        sources.addAll(onA.subList(0, 3));
        for (String source : sources) {
          ja.node().publish(TopicId.of("news.breaking", source), "b-" + source); // fan, audit
          ja.node().publish(TopicId.of("news.weather.today", source), "w-" + source); // fan
          jb.node().publish(TopicId.of("orders.new", source), "o-" + source); // audit
          jb.node().publish(TopicId.of("sports", source), "nobody-" + source); // no subscriber
        }
        PlacementTest.eventually(
            "every subscribed copy handled",
            () ->
                sources.stream()
                    .allMatch(
                        s ->
                            ClusterNodeTest.count(db, AgentId.of("fan", s)) == 2
                                && ClusterNodeTest.count(db, AgentId.of("audit", s)) == 2));
        PlacementTest.eventually(
            "nothing left unpublished",
            () -> db.outbox().unpublishedOlderThan(Duration.ZERO, 100).isEmpty());
        for (String s : sources) {
          assertThat(ClusterNodeTest.count(db, AgentId.of("fan", s))).as("fan/" + s).isEqualTo(2);
          assertThat(ClusterNodeTest.count(db, AgentId.of("audit", s)))
              .as("audit/" + s)
              .isEqualTo(2);
        }
        // the copies published on node A for fan agents on B were handled by B, and the other way
        assertThat(jb.node().handledCount()).isGreaterThanOrEqualTo(6);
        assertThat(ja.node().handledCount()).isGreaterThanOrEqualTo(6);

        // a request from A to an echo agent on B is answered by B's responder
        String remote = onB.get(0);
        assertThat(
                ja.node()
                    .request(AgentId.of("echo", remote), "hi", Duration.ofSeconds(10))
                    .get(15, TimeUnit.SECONDS))
            .isEqualTo(remote + ":hi");
        // a responder the file does not list is not served: nobody answers
        assertThatThrownBy(
                () ->
                    ja.node()
                        .request(AgentId.of("mute", remote), "hi", Duration.ofMillis(500))
                        .get(15, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(TimeoutException.class);
      }
    }
  }

  /**
   * The reconciler's pace comes from the file: a message the stream lost (deleted from it after its
   * outbox row was published) is republished by the node's own reconciler loop and takes effect
   * once. With the defaults (60 s, every 30 s) that would take more than this test waits.
   */
  @Test
  void theReconcilerRunsAtTheFilesPace() throws Exception {
    String url = TestDatabase.newSchema("cfgpace");
    Map<String, String> env = Map.of("CFN_TEST_PG_PASSWORD", "unused-by-trust-auth");
    try (TestNats nats = TestNats.single();
        Connection connection = nats.connect();
        PgJournal db = PgJournal.builder(url).stateCacheKeys(0).open()) {
      ReliableStream stream =
          ReliableStream.ensure(
              connection, Subjects.of("cfgtest"), 1, ReliableStream.DEFAULT_DUPLICATE_WINDOW, -1);
      OutboxRelay relay =
          new OutboxRelay(
              db.outbox(),
              new ReliablePublisher(connection, stream, new Partitioner(8)),
              connection,
              stream);
      AgentId target = AgentId.of("counter", "lost");
      Envelope lost = ClusterNodeTest.envelope(db.nextIdBlock(), target, "lost");
      db.append(lost);
      assertThat(relay.publishNow(List.of(lost))).isEqualTo(1);
      long seq = db.outbox().publishedOlderThan(Duration.ZERO, 10).getFirst().streamSequence();
      assertThat(connection.jetStreamManagement().deleteMessage(stream.name(), seq)).isTrue();

      String servers = String.join(", ", nats.urls());
      ClusterConfig c =
          ClusterConfig.load(
              file(
                  "pace.yaml",
                  yaml("solo", servers, url, "reconcile_after: 1s\nreconcile_every: 1s\n")),
              env);
      try (ClusterConfig.Joined j = c.join(env, Map.of("counter", ClusterNodeTest.counter()), 1)) {
        PlacementTest.eventually(
            "the lost message republished by the node's reconciler and counted",
            () -> ClusterNodeTest.count(db, target) == 1);
        assertThat(j.node().handledCount()).isEqualTo(1);
      }
    }
  }

  @Test
  void twoNodesJoinFromTheirFilesSplitThePartitionsAndHandleMessages() throws Exception {
    String url = TestDatabase.newSchema("cfg");
    Map<String, String> env = Map.of("CFN_TEST_PG_PASSWORD", "unused-by-trust-auth");
    Map<String, ClusterAgent> agents = Map.of("counter", ClusterNodeTest.counter());
    try (TestNats nats = TestNats.single()) {
      String servers = String.join(", ", nats.urls());
      ClusterConfig a = ClusterConfig.load(file("a.yaml", yaml("node-a", servers, url, "")), env);
      ClusterConfig b = ClusterConfig.load(file("b.yaml", yaml("node-b", servers, url, "")), env);
      try (ClusterConfig.Joined ja = a.join(env, agents, 1);
          ClusterConfig.Joined jb = b.join(env, agents, 2);
          PgJournal db = PgJournal.builder(url).stateCacheKeys(0).open()) {
        assertThat(ja.node().node()).isEqualTo("node-a-1");
        PlacementTest.eventually(
            "both nodes live and the partitions split",
            () ->
                db.nodes().live().equals(java.util.List.of("node-a-1", "node-b-2"))
                    && !ja.node().placement().held().isEmpty()
                    && !jb.node().placement().held().isEmpty()
                    && ja.node().placement().held().size() + jb.node().placement().held().size()
                        == 8);
        for (int i = 0; i < 20; i++) {
          (i % 2 == 0 ? ja : jb).node().send(AgentId.of("counter", "k" + (i % 5)), "m" + i);
        }
        PlacementTest.eventually(
            "20 counted",
            () ->
                java.util.stream.IntStream.range(0, 5)
                        .mapToLong(k -> ClusterNodeTest.count(db, AgentId.of("counter", "k" + k)))
                        .sum()
                    == 20);
      }
    }
  }
}
