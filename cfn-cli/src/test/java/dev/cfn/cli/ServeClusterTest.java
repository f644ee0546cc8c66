package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.cluster.nats.TestNats;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn serve --cluster FILE}: two nodes, each a process of its own, join one cluster on the
 * tests' PostgreSQL and NATS servers and split its partitions; a node stopped with SIGTERM leaves
 * and the other takes all; the password, given in the environment, is never printed; a file with
 * the password in it is refused before anything starts.
 */
class ServeClusterTest {
  static final String SECRET = "pw-never-printed-7f3a";
  static final int PARTITIONS = 8;
  @TempDir Path dir;

  static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      Thread.sleep(50);
    }
  }

  private Path clusterFile(String node, String nats, String pg) throws Exception {
    Path f = dir.resolve(node + ".yaml");
    Files.writeString(
        f,
        "node: "
            + node
            + "\nnamespace: serve\nnats:\n  urls: ["
            + nats
            + "]\n  replicas: 1\npostgres:\n  url: "
            + pg
            + "\n  password_env: CFN_TEST_PG_PASSWORD\npartitions: "
            + PARTITIONS
            + "\nttl: 2s\n");
    return f;
  }

  private Process serve(String node, Path file) throws Exception {
    Path home = Files.createDirectories(dir.resolve("home-" + node));
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "serve",
                "--port",
                "0",
                "--insecure-http",
                "--home",
                home.toString(),
                "--cluster",
                file.toString())
            .redirectErrorStream(true);
    pb.environment().put("CFN_TEST_PG_PASSWORD", SECRET);
    return pb.start();
  }

  /** Reads lines until the one naming the node joined; returns the node id it prints. */
  private static String joined(BufferedReader out, StringBuilder seen) throws Exception {
    for (int i = 0; i < 200; i++) {
      String line = out.readLine();
      if (line == null) {
        break;
      }
      seen.append(line).append('\n');
      if (line.startsWith("joined cluster as node ")) {
        return line.substring("joined cluster as node ".length()).split(" ")[0];
      }
    }
    throw new AssertionError("no 'joined cluster' line in:\n" + seen);
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void twoServedNodesJoinSplitThePartitionsAndOneLeavesOnSigterm() throws Exception {
    String pg = TestDatabase.newSchema("serve");
    try (TestNats nats = TestNats.single();
        PgJournal db = PgJournal.builder(pg).stateCacheKeys(0).open()) {
      String servers = String.join(", ", nats.urls());
      Process a = serve("node-a", clusterFile("node-a", servers, pg));
      Process b = serve("node-b", clusterFile("node-b", servers, pg));
      try (BufferedReader outA =
              new BufferedReader(
                  new InputStreamReader(a.getInputStream(), StandardCharsets.UTF_8));
          BufferedReader outB =
              new BufferedReader(
                  new InputStreamReader(b.getInputStream(), StandardCharsets.UTF_8))) {
        StringBuilder seenA = new StringBuilder();
        StringBuilder seenB = new StringBuilder();
        String idA = joined(outA, seenA);
        String idB = joined(outB, seenB);
        assertThat(idA).startsWith("node-a-");
        assertThat(idB).startsWith("node-b-");
        eventually(
            "both live and the partitions split",
            () -> {
              if (!db.nodes().live().containsAll(List.of(idA, idB))) {
                return false;
              }
              long ofA = 0;
              long ofB = 0;
              for (int p = 0; p < PARTITIONS; p++) {
                String owner = db.leases().holder(p).map(l -> l.owner()).orElse("");
                ofA += owner.equals(idA) ? 1 : 0;
                ofB += owner.equals(idB) ? 1 : 0;
              }
              return ofA > 0 && ofB > 0 && ofA + ofB == PARTITIONS;
            });

        a.toHandle().destroy(); // SIGTERM: leaves the cluster, then the server stops
        String line;
        while ((line = outA.readLine()) != null) {
          seenA.append(line).append('\n');
        }
        assertThat(a.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(seenA.toString()).contains("stopped");
        assertThat(db.nodes().live()).as("a left").doesNotContain(idA);
        eventually(
            "b holds every partition",
            () -> {
              for (int p = 0; p < PARTITIONS; p++) {
                if (!db.leases().holder(p).map(l -> l.owner().equals(idB)).orElse(false)) {
                  return false;
                }
              }
              return true;
            });
        assertThat(seenA.toString()).doesNotContain(SECRET);
        assertThat(seenB.toString()).doesNotContain(SECRET);
      } finally {
        a.destroyForcibly();
        b.destroyForcibly();
        b.waitFor(60, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aClusterFileWithThePasswordInItIsRefusedBeforeAnythingStarts() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(
        file,
        "node: a\nnats:\n  urls: [nats://127.0.0.1:1]\npostgres:\n  url: jdbc:postgresql://h/cfn\n"
            + "  password: "
            + SECRET
            + "\n");
    Path home = Files.createDirectories(dir.resolve("home"));
    java.io.StringWriter err = new java.io.StringWriter();
    java.io.StringWriter out = new java.io.StringWriter();
    picocli.CommandLine cl = Main.commandLine();
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(err, true));
    int code =
        cl.execute("serve", "--port", "0", "--home", home.toString(), "--cluster", file.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("never written").contains("password_env");
    assertThat(err.toString() + out).doesNotContain(SECRET);
    assertThat(home.resolve(".cfn")).as("nothing was started").doesNotExist();
  }
}
