package dev.cfn.ai.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.cfn.ai.internal.os.ParentWatch;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Shared by the process tests. The waits are safety nets: a test waits for a condition, then
 * asserts behaviour; the limits are generous so that a busy machine never fails a correct run.
 */
final class ProcessTestSupport {
  /** How long any single wait may last before the test gives up. */
  static final Duration WAIT = Duration.ofSeconds(30);

  private ProcessTestSupport() {}

  /** A light runtime (one carrier, no JVM meters) with {@code types} registered. */
  static AgentRuntime runtime(AgentType... types) {
    AgentRuntime.Builder b = AgentRuntime.builder().carriers(1).jvmMetrics(false);
    for (AgentType t : types) {
      b.register(t);
    }
    return b.build();
  }

  /** Sends {@code payload} as a request and returns the agent's {@link ProcessResult}. */
  static ProcessResult ask(AgentRuntime rt, AgentId id, Object payload) {
    try {
      return rt.request(id, payload, WAIT)
          .get(WAIT.toMillis() + 1000, TimeUnit.MILLISECONDS)
          .payload(ProcessResult.class);
    } catch (Exception e) {
      throw new AssertionError("no reply from " + id + " to " + payload, e);
    }
  }

  /** Polls {@code condition} until it holds; fails naming {@code what} if it never does. */
  static void eventually(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("condition never held: " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + what);
      }
    }
  }

  /** Writes an executable sh script {@code name} into {@code dir}. */
  static Path script(Path dir, String name, String body) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, "#!/bin/sh\n" + body, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return file;
  }

  /**
   * This JVM's descendant processes whose command line contains {@code marker}, the parent watch of
   * each command left out ({@link ParentWatch}: its arguments hold the command's, but it is cfn's,
   * not part of the run).
   */
  static List<ProcessHandle> descendantsMatching(String marker) {
    return ProcessHandle.current()
        .descendants()
        .filter(h -> h.info().commandLine().orElse("").contains(marker))
        .filter(h -> !ParentWatch.isWatcher(h))
        .toList();
  }

  /** True when process {@code pid} no longer runs; see {@link #gone(ProcessHandle)}. */
  static boolean gone(long pid) {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    return h.isEmpty() || gone(h.get());
  }

  /**
   * True when {@code h} no longer runs: it has exited, or it is a zombie (exited, waiting to be
   * reaped: this machine's init reaps orphans lazily, and the JDK counts zombies as alive).
   */
  static boolean gone(ProcessHandle h) {
    if (!h.isAlive()) {
      return true;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + h.pid() + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
    } catch (IOException e) {
      return !h.isAlive();
    }
  }

  /** Reads the pids a test script wrote, one per line, waiting until {@code count} are there. */
  static List<Long> pids(Path file, int count) {
    eventually(
        () -> {
          try {
            return Files.exists(file)
                && Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count() >= count;
          } catch (IOException e) {
            return false;
          }
        },
        count + " pids in " + file);
    try {
      List<Long> pids =
          Files.readAllLines(file).stream()
              .filter(l -> !l.isBlank())
              .map(l -> Long.parseLong(l.trim()))
              .toList();
      assertThat(pids).hasSizeGreaterThanOrEqualTo(count);
      return pids;
    } catch (IOException e) {
      throw new AssertionError("cannot read " + file, e);
    }
  }
}
