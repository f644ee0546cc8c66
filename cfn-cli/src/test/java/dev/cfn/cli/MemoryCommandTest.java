package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code cfn memory} end to end, in process, on memory files in a temporary directory. */
class MemoryCommandTest {
  @TempDir Path dir;

  private Path db() {
    return dir.resolve("memory.db");
  }

  /** Runs {@code cfn memory ARGS --db <temp file>} and captures its output. */
  private CliRun memory(String... args) {
    List<String> all = new ArrayList<>(List.of("memory"));
    all.addAll(List.of(args));
    all.add("--db");
    all.add(db().toString());
    return CliRun.run(all.toArray(String[]::new));
  }

  @Test
  void putGetListSearchAndDeleteAsTheOperator() throws Exception {
    CliRun put =
        memory(
            "put",
            "release-42",
            "{\"steps\":[\"build\",\"deploy\"]}",
            "--level",
            "public",
            "--ttl",
            "2h",
            "--meta",
            "source=planner",
            "--meta",
            "confidence=0.9",
            "--tag",
            "release");
    assertThat(put.code()).as(put.err()).isZero();
    assertThat(put.out()).contains("stored default/release-42 (public, owner @operator, expires");

    CliRun get = memory("get", "release-42");
    assertThat(get.code()).isZero();
    assertThat(get.out()).isEqualTo("{\"steps\":[\"build\",\"deploy\"]}" + System.lineSeparator());

    JsonNode entry = new ObjectMapper().readTree(memory("get", "release-42", "--json").out());
    assertThat(entry.get("namespace").asText()).isEqualTo("default");
    assertThat(entry.get("value").asText()).isEqualTo("{\"steps\":[\"build\",\"deploy\"]}");
    assertThat(entry.get("level").asText()).isEqualTo("public");
    assertThat(entry.get("metadata").get("source").asText()).isEqualTo("planner");
    assertThat(entry.get("tags").get(0).asText()).isEqualTo("release");
    assertThat(entry.get("expiresAt").isNull()).isFalse();

    memory("put", "notes/1", "blue green deployment");
    memory("put", "notes/2", "canary release");
    memory("put", "elsewhere", "deployment too", "-n", "other");

    CliRun list = memory("list", "--prefix", "notes/");
    assertThat(list.code()).isZero();
    assertThat(list.out()).contains("notes/1").contains("notes/2").doesNotContain("release-42");
    assertThat(list.out()).contains("2 entries in namespace 'default'");
    JsonNode listed = new ObjectMapper().readTree(memory("list", "--json").out());
    assertThat(listed).hasSize(3);

    CliRun search = memory("search", "deploy*");
    assertThat(search.code()).isZero();
    assertThat(search.out())
        .contains("default/notes/1")
        .contains("default/release-42") // "deploy" in its value
        .doesNotContain("other/elsewhere")
        .contains("2 match(es) for 'deploy*'");
    JsonNode everywhere =
        new ObjectMapper()
            .readTree(memory("search", "deployment", "--all-namespaces", "--json").out());
    assertThat(everywhere).hasSize(2);
    assertThat(everywhere.get(0).get("relevance").isNumber()).isTrue();
    JsonNode ranked = new ObjectMapper().readTree(memory("search", "release", "--json").out());
    assertThat(ranked.get(0).get("entry").get("key").asText()).isEqualTo("release-42");

    CliRun delete = memory("delete", "notes/1");
    assertThat(delete.code()).isZero();
    assertThat(delete.out()).contains("deleted default/notes/1");
    CliRun gone = memory("get", "notes/1");
    assertThat(gone.code()).isEqualTo(1);
    assertThat(gone.err()).contains("no entry 'notes/1' in namespace 'default'");
    assertThat(memory("delete", "notes/1").code()).isEqualTo(1);
  }

  @Test
  void agentIdentitiesAreHeldToTheAccessLevels() {
    CliRun put =
        memory("put", "plan", "ship friday", "--level", "swarm", "--as", "alice/1", "--swarm", "a");
    assertThat(put.code()).as(put.err()).isZero();

    CliRun member = memory("get", "plan", "--as", "amy/1", "--swarm", "a");
    assertThat(member.code()).isZero();
    assertThat(member.out()).contains("ship friday");

    // an entry the caller may not read is answered as absent: a denial would reveal it exists
    CliRun stranger = memory("get", "plan", "--as", "bob/1", "--swarm", "b");
    assertThat(stranger.code()).isEqualTo(1);
    assertThat(stranger.err()).contains("no entry 'plan'").doesNotContain("alice");
    assertThat(memory("search", "friday", "--as", "bob/1", "--swarm", "b").out())
        .contains("0 match(es)");
    assertThat(memory("list", "--as", "bob/1").out()).contains("0 entries");

    CliRun overwrite = memory("put", "plan", "ship never", "--as", "bob/1", "--swarm", "b");
    assertThat(overwrite.code()).isEqualTo(3);
    assertThat(overwrite.err()).contains("may not write").contains("nothing was changed");
    assertThat(memory("delete", "plan", "--as", "bob/1").code()).isEqualTo(1); // as if absent
    CliRun publish =
        memory("put", "plan", "ship friday", "--level", "public", "--as", "amy/1", "--swarm", "a");
    assertThat(publish.code()).isEqualTo(3);
    assertThat(publish.err()).contains("may not change the level (to PUBLIC)");
    assertThat(memory("get", "plan").out()).contains("ship friday"); // the operator reads all

    assertThat(memory("put", "plan", "ship monday", "--as", "amy/1", "--swarm", "a").code())
        .isZero();
    assertThat(memory("get", "plan", "--as", "alice/1", "--swarm", "a").out())
        .contains("ship monday");
  }

  @Test
  void badInputExitsTwoAndChangesNothing() throws Exception {
    CliRun missing = memory("get", "k");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("no memory file at").contains("--memory FILE");
    assertThat(db()).doesNotExist();

    for (String[] bad :
        List.of(
            new String[] {"put", "k", "v", "--ttl", "10x"},
            new String[] {"put", "k", "v", "--ttl", "0m"},
            new String[] {"put", "k", "v", "--level", "admin"},
            new String[] {"put", "k", "v", "--meta", "novalue"},
            new String[] {"put", " ", "v"},
            new String[] {"put", "k", "v", "--tag", " "},
            new String[] {"put", "k", "v", "--as", "@root"},
            new String[] {"put", "k", "v", "--as", "solo/1", "--level", "swarm"},
            new String[] {"put", "k"})) {
      CliRun r = memory(bad);
      assertThat(r.code()).as(String.join(" ", bad) + ": " + r.err()).isEqualTo(2);
      assertThat(r.err()).as(String.join(" ", bad)).isNotBlank();
      assertThat(db()).as(String.join(" ", bad)).doesNotExist();
    }
    assertThat(memory("put", "k", "v", "--ttl", "10x").err()).contains("is not a duration");
    assertThat(memory("put", "k", "v", "--level", "admin").err())
        .contains("use private, swarm, project or public");
    assertThat(memory("put", "k", "v", "--as", "solo/1", "--level", "swarm").err())
        .contains("cannot be SWARM-level");

    assertThat(memory("put", "k", "original").code()).isZero();
    assertThat(memory("put", "k", "changed", "--ttl", "soon").code()).isEqualTo(2);
    assertThat(memory("put", "k", "changed", "--level", "swarm").code()).isEqualTo(2);
    CliRun search = memory("search", "***");
    assertThat(search.code()).isEqualTo(2);
    assertThat(search.err()).contains("has no words to search for");
    assertThat(memory("list", "--limit", "0").code()).isEqualTo(2);
    assertThat(memory("get", "k").out()).contains("original");
  }

  @Test
  void aDamagedRecordIsNamedAndTheOperatorCanDeleteIt() throws Exception {
    try (SqliteMemoryStore store = SqliteMemoryStore.open(db())) {
      store.put(MemoryAccessor.operator(), "default", "k", "the value");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db());
        PreparedStatement update =
            c.prepareStatement("UPDATE memory_entries SET value = ? WHERE key = 'k'")) {
      update.setString(1, "the valuf");
      assertThat(update.executeUpdate()).isEqualTo(1);
    }
    CliRun get = memory("get", "k");
    assertThat(get.code()).isEqualTo(2);
    assertThat(get.err()).contains("memory_entries default/k: checksum mismatch");
    assertThat(memory("delete", "k").code()).isZero();
    assertThat(memory("list").out()).contains("0 entries");
  }

  @Test
  void helpExplainsTheOperatorAndTheExitCodes() {
    String help = usage("memory", "--help");
    assertThat(help)
        .contains("get", "put", "search", "delete", "list")
        .contains("operator")
        .contains("Exit codes");
    assertThat(usage("--help")).contains("memory");
  }

  private static String usage(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    assertThat(cl.execute(args)).isZero();
    return out.toString();
  }
}
