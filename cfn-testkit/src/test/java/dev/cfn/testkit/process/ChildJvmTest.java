package dev.cfn.testkit.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one child-JVM class: lines read in order and looked up by prefix from the same output, status
 * lines kept only as the latest, a line sent to the child's input, the child's own one-line error
 * named when it stops, and a SIGKILL's exit value.
 */
@Timeout(300)
class ChildJvmTest {
  @TempDir Path dir;

  /**
   * Prints what it is told on its input, then fails with a one-line error or waits to be killed.
   */
  public static final class Echo {
    private Echo() {}

    public static void main(String[] args) throws Exception {
      System.out.println("ready");
      System.out.println("progress 1");
      System.out.println("progress 2");
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("fail")) {
          System.err.println("[0.1s] the JVM's own logging");
          System.err.println("echo: it failed on purpose");
          System.exit(3);
        }
        System.out.println("echo " + line);
        System.out.flush();
      }
      Thread.sleep(600_000);
    }
  }

  @Test
  void linesAreReadInOrderAndByPrefixAndStatusLinesKeepOnlyTheLatest() throws Exception {
    try (ChildJvm child =
        ChildJvm.of(Echo.class.getName(), List.of()).status("progress ").start()) {
      assertThat(child.await("ready", 120)).isEqualTo("ready");
      child.send("one");
      child.send("two");
      assertThat(child.await("echo two", 120)).isEqualTo("echo two");
      assertThat(child.readLine()).isEqualTo("ready"); // in order, though looked up before
      assertThat(child.awaitLine(l -> l.startsWith("echo "))).isEqualTo("echo one");
      assertThat(child.readLine()).isEqualTo("echo two");
      assertThat(child.count("echo ")).isEqualTo(2);
      assertThat(child.last("echo ")).isEqualTo("echo two");
      assertThat(child.status()).isEqualTo("2");
      assertThat(child.lines()).containsExactly("ready", "echo one", "echo two");
      assertThat(child.kill()).isTrue();
      assertThat(child.exitValue()).isEqualTo(ChildJvm.SIGKILLED);
      assertThat(child.readLine()).isNull(); // its output ended with it
    }
  }

  @Test
  void aChildThatStopsIsReportedWithItsOwnError() throws Exception {
    Path log = dir.resolve("child.log");
    try (ChildJvm child =
        ChildJvm.of(Echo.class.getName(), List.of())
            .fullSpeed()
            .logTo(log)
            .named("echo node", "echo: ")
            .start()) {
      child.await("ready", 120);
      child.send("fail");
      // awaited while it stops: the failure says it stopped, with its own error
      assertThatThrownBy(() -> child.await("never", 120))
          .isInstanceOfSatisfying(
              ChildJvm.Failure.class,
              f ->
                  assertThat(f.problem()).isEqualTo("the echo node stopped: it failed on purpose"));
      assertThat(child.waitFor(Duration.ofSeconds(120))).isTrue();
      assertThat(child.exitValue()).isEqualTo(3);
      assertThat(child.cause()).isEqualTo("it failed on purpose");
      assertThat(child.await(l -> l.startsWith("never"), Duration.ofSeconds(5))).isNull();
      assertThatThrownBy(() -> child.await("never", 5))
          .isInstanceOfSatisfying(
              ChildJvm.Failure.class,
              f -> {
                assertThat(f.problem()).isEqualTo("the echo node stopped: it failed on purpose");
                assertThat(f.log()).isEqualTo(log);
              });
    }
  }
}
