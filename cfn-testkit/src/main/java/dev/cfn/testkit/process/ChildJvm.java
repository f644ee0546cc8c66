package dev.cfn.testkit.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A class's {@code main} run in a JVM of its own, a child of this one, on this JVM's class path
 * (with a quick start: {@code -Xshare:auto -XX:TieredStopAtLevel=1}, and native access enabled).
 * Its standard error is discarded, or written to a file ({@link Launch#errorTo}); its standard
 * output is read a line at a time ({@link #readLine}, {@link #awaitLine}), to its end ({@link
 * #readToEnd}), or by a thread of its own ({@link #readInBackground}). {@link #kill} SIGKILLs it,
 * so that no shutdown hook runs; {@link #close} does the same if it still runs.
 *
 * <pre>{@code
 * try (ChildJvm cfn = ChildJvm.start(OrphanChild.class, script.toString())) {
 *   assertThat(cfn.awaitLine(l -> l.startsWith("STARTED"))).isEqualTo("STARTED");
 *   assertThat(cfn.kill()).isTrue();
 *   assertThat(cfn.exitValue()).isEqualTo(ChildJvm.SIGKILLED);
 * }
 * }</pre>
 */
public final class ChildJvm implements AutoCloseable {
  /** The exit value of a JVM that SIGKILL ended (128 + 9), by {@link #kill} or by itself. */
  public static final int SIGKILLED = 137;

  private final Process process;
  private final BufferedReader out;

  private ChildJvm(Process process) {
    this.process = process;
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /**
   * Starts {@code main.main(args)} in a child JVM, its standard error discarded.
   *
   * @param main the class whose {@code main} runs
   * @param args its arguments
   * @return the running child
   * @throws IOException if the JVM cannot be started
   */
  public static ChildJvm start(Class<?> main, String... args) throws IOException {
    return of(main, args).start();
  }

  /**
   * A child JVM to set up before it starts: where its standard error goes, more JVM options, an
   * environment variable it must not see.
   *
   * @param main the class whose {@code main} runs
   * @param args its arguments
   * @return the launch, not started yet
   */
  public static Launch of(Class<?> main, String... args) {
    return new Launch(main, List.of(args));
  }

  /** A child JVM not started yet ({@link ChildJvm#of}); {@link #start} starts it. */
  public static final class Launch {
    private final Class<?> main;
    private final List<String> args;
    private final List<String> options = new ArrayList<>();
    private final List<String> unset = new ArrayList<>();
    private ProcessBuilder.Redirect error = ProcessBuilder.Redirect.DISCARD;

    private Launch(Class<?> main, List<String> args) {
      this.main = Objects.requireNonNull(main, "main");
      this.args = args;
    }

    /**
     * Writes the child's standard error to {@code file} (replacing it), for a test to point at when
     * the child fails.
     *
     * @param file where its standard error goes
     * @return this launch
     */
    public Launch errorTo(Path file) {
      error = ProcessBuilder.Redirect.to(file.toFile());
      return this;
    }

    /**
     * Adds a JVM option, such as {@code -Duser.home=DIR}, before the class name.
     *
     * @param option the option
     * @return this launch
     */
    public Launch jvmOption(String option) {
      options.add(Objects.requireNonNull(option, "option"));
      return this;
    }

    /**
     * Starts the child without the environment variable {@code name} (it inherits the rest).
     *
     * @param name the variable
     * @return this launch
     */
    public Launch without(String name) {
      unset.add(Objects.requireNonNull(name, "name"));
      return this;
    }

    /**
     * Starts the child.
     *
     * @return the running child
     * @throws IOException if the JVM cannot be started
     */
    public ChildJvm start() throws IOException {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(
          List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED"));
      command.addAll(options);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
      command.addAll(args);
      ProcessBuilder builder = new ProcessBuilder(command).redirectError(error);
      unset.forEach(builder.environment()::remove);
      return new ChildJvm(builder.start());
    }
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
   * Reads the child's next line of standard output; blocks until then.
   *
   * @return the line, or null if the child closed its output first
   * @throws IOException if its output cannot be read
   */
  public String readLine() throws IOException {
    return out.readLine();
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
   * Reads the child's standard output to its end (the child exited, or closed it); blocks until
   * then.
   *
   * @return every line not read before
   * @throws IOException if its output cannot be read
   */
  public List<String> readToEnd() throws IOException {
    List<String> lines = new ArrayList<>();
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      lines.add(line);
    }
    return lines;
  }

  /**
   * Hands each line of the child's standard output to {@code each}, on a virtual thread of its own,
   * until the output ends (an output cut by a kill ends it too). Join the thread to know every line
   * was handed over.
   *
   * @param each what to do with a line
   * @return the reading thread, started
   */
  public Thread readInBackground(Consumer<String> each) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                  each.accept(line);
                }
              } catch (IOException cut) {
                // the child was killed: its output ends here
              }
            });
  }

  /**
   * Closes the child's standard input: a child that reads it sees its end.
   *
   * @throws IOException if it cannot be closed
   */
  public void closeInput() throws IOException {
    process.getOutputStream().close();
  }

  /**
   * Whether the child still runs.
   *
   * @return true until it has exited
   */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits up to {@code limit} for the child to exit: a safety net, not a measurement.
   *
   * @param limit how long to wait at most
   * @return whether it exited in that time
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean waitFor(Duration limit) throws InterruptedException {
    return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The child's exit value; {@link #SIGKILLED} when SIGKILL ended it.
   *
   * @return its exit value
   * @throws IllegalThreadStateException if it has not exited yet
   */
  public int exitValue() {
    return process.exitValue();
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
