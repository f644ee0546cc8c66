package dev.cfn.cluster.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A cfn node (or any {@code main}) in a JVM of its own, started from this JVM's {@code java} and
 * class path: its standard output collected line by line as it arrives, its standard error appended
 * to a log file, lines sent to its standard input, signals sent to its PID. What the fault tests'
 * child nodes and {@code cfn chaos cluster}'s nodes have in common.
 *
 * <p>It is the caller's process: {@link #close()} SIGKILLs it if it still runs (by its own PID,
 * through {@link Process#destroyForcibly()}) and waits for it to end; the log file stays.
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private ChildJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
    Thread.ofVirtual()
        .name("cfn-child-out-" + process.pid())
        .start(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the child ended
              }
            });
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM: {@code prefix} (say {@code ip netns
   * exec NS}, or nothing), this JVM's {@code java}, {@code -cp} this JVM's class path, then {@code
   * jvmFlags}. Its standard error is appended to {@code log}.
   */
  public static ChildJvm start(
      List<String> prefix, List<String> jvmFlags, String mainClass, List<String> args, Path log)
      throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.addAll(jvmFlags);
    command.add(mainClass);
    command.addAll(args);
    Process p =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new ChildJvm(p, log);
  }

  /** Its PID. */
  public long pid() {
    return process.pid();
  }

  /** Whether it still runs. */
  public boolean alive() {
    return process.isAlive();
  }

  /** The lines it wrote to its standard output so far. */
  public List<String> lines() {
    return List.copyOf(lines);
  }

  /** The last {@code n} of {@link #lines()}. */
  public List<String> lastLines(int n) {
    List<String> all = lines();
    return all.subList(Math.max(0, all.size() - n), all.size());
  }

  /**
   * Waits up to {@code timeout} for an output line matching {@code test} and returns the first one;
   * null when none came in time, or the child ended without writing one.
   */
  public String await(Predicate<String> test, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean ended = !process.isAlive(); // read before the lines: an ended child wrote them all
      for (String line : lines) {
        if (test.test(line)) {
          return line;
        }
      }
      if (ended || System.nanoTime() > deadline) {
        return null;
      }
      Thread.sleep(20);
    }
  }

  /** Sends {@code signal} (say {@code STOP}, {@code CONT}, {@code KILL}) to its PID. */
  public void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
    }
  }

  /** Writes {@code line} to its standard input. */
  public void send(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /** Closes its standard input (it reads end of file). */
  public void closeInput() throws IOException {
    process.getOutputStream().close();
  }

  /** Waits up to {@code timeout} for it to end; whether it did. */
  public boolean waitFor(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Its exit status; it must have ended. */
  public int exitValue() {
    return process.exitValue();
  }

  /** SIGKILLs it (by its PID) and waits up to {@code timeout} for it to end; whether it did. */
  public boolean kill(Duration timeout) throws InterruptedException {
    process.destroyForcibly();
    return waitFor(timeout);
  }

  /** Its standard error's file. */
  public Path log() {
    return log;
  }

  /** The last {@code chars} characters of its log, for failure messages. */
  public String tail(int chars) {
    try {
      String text = Files.readString(log);
      return text.length() > chars ? text.substring(text.length() - chars) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGKILLs it if it still runs and waits up to 10 s for it to end. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill(Duration.ofSeconds(10));
    }
  }
}
