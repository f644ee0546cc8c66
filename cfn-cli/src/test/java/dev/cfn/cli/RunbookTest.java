package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the runbook, {@code docs/operations.md}: every {@code bash} block, in order, as one script
 * with {@code bash -euo pipefail} in an empty folder, {@code cfn} being this build's command line
 * in a JVM of its own. A step of the runbook that stops working fails here.
 */
class RunbookTest {
  @TempDir Path dir;

  static List<String> blocks(String markdown) {
    List<String> blocks = new ArrayList<>();
    StringBuilder current = null;
    for (String line : markdown.split("\n", -1)) {
      if (current == null && line.equals("```bash")) {
        current = new StringBuilder();
      } else if (current != null && line.equals("```")) {
        blocks.add(current.toString());
        current = null;
      } else if (current != null) {
        current.append(line).append('\n');
      }
    }
    return blocks;
  }

  @Test
  void everyStepOfTheRunbookRuns() throws Exception {
    Path doc = Path.of(System.getProperty("user.dir")).resolveSibling("docs/operations.md");
    List<String> blocks = blocks(Files.readString(doc));
    assertThat(blocks).as("the runbook's commands").hasSizeGreaterThanOrEqualTo(7);
    StringBuilder script = new StringBuilder();
    script.append("set -euo pipefail\n");
    // after a failure: the nodes' logs, and no node left running
    script.append(
        "trap 'rc=$?; if [ $rc -ne 0 ]; then tail -n 20 *.log 2>/dev/null || true; fi;"
            + " kill $(jobs -p) 2>/dev/null || true; exit $rc' EXIT\n");
    // cfn is a script that execs the JVM, as ./cfn does: a background cfn serve's $! is the JVM,
    // so that kill -TERM reaches it
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path cfn = bin.resolve("cfn");
    Files.writeString(
        cfn,
        "#!/bin/sh\nexec \"$CFN_JAVA\" -Xmx256m --enable-native-access=ALL-UNNAMED -cp \"$CFN_CP\""
            + " dev.cfn.cli.Main \"$@\"\n");
    cfn.toFile().setExecutable(true, true);
    for (int i = 0; i < blocks.size(); i++) {
      script.append(blocks.get(i));
      script.append("echo \"runbook block ").append(i + 1).append(" ok\"\n");
    }
    Path file = dir.resolve("runbook.sh");
    Files.writeString(file, script.toString());
    Path work = Files.createDirectories(dir.resolve("project"));
    Path log = dir.resolve("runbook.log");
    ProcessBuilder pb =
        new ProcessBuilder("bash", file.toString())
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("CFN_JAVA", ProcessHandle.current().info().command().orElse("java"));
    pb.environment().put("CFN_CP", System.getProperty("java.class.path"));
    pb.environment().put("PATH", bin + java.io.File.pathSeparator + System.getenv("PATH"));
    Process p = pb.start();
    boolean done = p.waitFor(8, TimeUnit.MINUTES);
    // a failed step may leave a background node behind: stop every process the script started
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    if (!done) {
      p.destroyForcibly();
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(done).as("the runbook finished within 8 minutes:\n" + out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("runbook block " + blocks.size() + " ok");
  }
}
