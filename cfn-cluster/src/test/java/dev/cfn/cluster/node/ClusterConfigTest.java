package dev.cfn.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.cluster.nats.TestNats;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import dev.cfn.core.AgentId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
