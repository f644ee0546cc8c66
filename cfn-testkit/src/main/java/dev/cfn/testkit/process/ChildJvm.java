package dev.cfn.testkit.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A class's {@code main} run in a JVM of its own, a child of this one, on this JVM's class path
 * (with a quick start: {@code -Xshare:auto -XX:TieredStopAtLevel=1}, and native access enabled).
 * Its standard error is discarded; its standard output is read a line at a time with {@link
 * #awaitLine}. {@link #kill} SIGKILLs it, so that no shutdown hook runs; {@link #close} does the
 * same if it still runs.
 *
 * <pre>{@code
 * try (ChildJvm cfn = ChildJvm.start(OrphanChild.class, script.toString())) {
 *   assertThat(cfn.awaitLine(l -> l.startsWith("STARTED"))).isEqualTo("STARTED");
 *   assertThat(cfn.kill()).isTrue();
 * }
 * }</pre>
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final BufferedReader out;

  private ChildJvm(Process process) {
    this.process = process;
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /**
   * Starts {@code main.main(args)} in a child JVM.
   *
   * @param main the class whose {@code main} runs
   * @param args its arguments
   * @return the running child
   * @throws IOException if the JVM cannot be started
   */
  public static ChildJvm start(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            main.getName()));
    command.addAll(List.of(args));
    return new ChildJvm(
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start());
  }

  /**
   * The child's process id.
   *
   * @return its pid
   */
  public long pid() {
    return process.pid();
  }

  /**
   * Reads the child's standard output up to the first line that {@code wanted} accepts; blocks
   * until then.
   *
   * @param wanted which line to wait for
   * @return that line, or null if the child closed its output first
   * @throws IOException if its output cannot be read
   */
  public String awaitLine(Predicate<String> wanted) throws IOException {
    String line;
    do {
      line = out.readLine();
    } while (line != null && !wanted.test(line));
    return line;
  }

  /**
   * SIGKILLs the child (no shutdown hook runs) and waits up to 60 seconds for it to exit.
   *
   * @return whether it exited in that time
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean kill() throws InterruptedException {
    process.destroyForcibly();
    return process.waitFor(60, TimeUnit.SECONDS);
  }

  /** SIGKILLs the child if it still runs; does not wait. */
  @Override
  public void close() {
    process.destroyForcibly();
  }
}
