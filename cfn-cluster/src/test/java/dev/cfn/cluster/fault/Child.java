package dev.cfn.cluster.fault;

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
 * An {@link OwnerNode} in a child JVM (optionally inside a network namespace): its report lines are
 * collected as they arrive, its standard error goes to a log file named in failures.
 */
final class Child implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private Child(Process process, Path log) {
    this.process = process;
    this.log = log;
    Thread.ofVirtual()
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
   * Starts {@code OwnerNode.main(args)}, prefixed by {@code prefix} (say {@code ip netns exec}).
   */
  static Child start(List<String> prefix, String... args) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(OwnerNode.class.getName());
    command.addAll(List.of(args));
    Path log = Files.createTempFile("cfn-owner-", ".log");
    Process p =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(log.toFile())).start();
    return new Child(p, log);
  }

  long pid() {
    return process.pid();
  }

  List<String> lines() {
    return List.copyOf(lines);
  }

  /** Waits up to {@code timeout} for a line matching {@code test} and returns it. */
  String await(Predicate<String> test, Duration timeout, String what) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : lines) {
        if (test.test(line)) {
          return line;
        }
      }
      if (!process.isAlive() && lines.stream().noneMatch(test)) {
        break;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "the child never reported "
            + what
            + " (alive "
            + process.isAlive()
            + "); its last lines: "
            + lastLines()
            + "; its log: "
            + tail());
  }

  /** The last 20 report lines, for failure messages. */
  List<String> lastLines() {
    List<String> all = lines();
    return all.subList(Math.max(0, all.size() - 20), all.size());
  }

  void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
    }
  }

  void send(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  int awaitExit(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the child did not exit within " + timeout + "; " + tail());
    }
    return process.exitValue();
  }

  String tail() {
    try {
      String text = Files.readString(log);
      return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws IOException {
    if (process.isAlive()) {
      try {
        signal("CONT");
      } catch (Exception e) {
        // gone meanwhile
      }
      process.destroyForcibly();
    }
    Files.deleteIfExists(log);
  }
}
