package dev.cfn.cluster.fault;

import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * An {@link OwnerNode} in a child JVM (optionally inside a network namespace), a {@link ChildJvm}
 * seen as the tests need it: waits that fail with the child's last lines and log, and a close that
 * wakes a stopped child before killing it and deletes its log.
 */
final class Child implements AutoCloseable {
  private final ChildJvm jvm;

  private Child(ChildJvm jvm) {
    this.jvm = jvm;
  }

  /**
   * Starts {@code OwnerNode.main(args)}, prefixed by {@code prefix} (say {@code ip netns exec}).
   */
  static Child start(List<String> prefix, String... args) throws IOException {
    Path log = Files.createTempFile("cfn-owner-", ".log");
    return new Child(
        ChildJvm.of(OwnerNode.class.getName(), List.of(args))
            .fullSpeed()
            .jvmOption("-Xmx256m")
            .prefix(prefix)
            .logTo(log)
            .start());
  }

  long pid() {
    return jvm.pid();
  }

  List<String> lines() {
    return jvm.lines();
  }

  /** Waits up to {@code timeout} for a line matching {@code test} and returns it. */
  String await(Predicate<String> test, Duration timeout, String what) throws Exception {
    String line = jvm.await(test, timeout);
    if (line == null) {
      throw new AssertionError(
          "the child never reported "
              + what
              + " (alive "
              + jvm.isAlive()
              + "); its last lines: "
              + lastLines()
              + "; its log: "
              + tail());
    }
    return line;
  }

  /** The last 20 report lines, for failure messages. */
  List<String> lastLines() {
    return jvm.lastLines(20);
  }

  void signal(String signal) throws Exception {
    jvm.signal(signal);
  }

  void send(String line) throws IOException {
    jvm.send(line);
  }

  int awaitExit(Duration timeout) throws Exception {
    if (!jvm.waitFor(timeout)) {
      throw new AssertionError("the child did not exit within " + timeout + "; " + tail());
    }
    return jvm.exitValue();
  }

  String tail() {
    return jvm.tail(4000);
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (jvm.isAlive()) {
      try {
        jvm.signal("CONT");
      } catch (Exception e) {
        // gone meanwhile
      }
    }
    jvm.close();
    Files.deleteIfExists(jvm.log());
  }
}
