package dev.cfn.certify;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link CrashNode} running in a JVM of its own (the certifying JVM's own {@code java} and class
 * path), and the lines it printed. {@link #kill()} is a SIGKILL on Linux.
 */
final class NodeProcess {
  private final Process process;
  private final List<String> lines = new ArrayList<>(); // guarded by itself
  private volatile long handled;
  final Path log;

  private NodeProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
    Thread.ofPlatform()
        .daemon(true)
        .name("certify-node-reader")
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  if (line.startsWith("handled ")) {
                    handled = Long.parseLong(line.substring("handled ".length()).strip());
                    continue;
                  }
                  synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                  }
                }
              } catch (IOException | NumberFormatException e) {
                // the process died; await() reports it
              }
            });
  }

  /** Starts a node with {@code args} (see {@link CrashNode#main}), its stderr appended to log. */
  static NodeProcess start(List<String> args, Path log) throws IOException {
    return start(CrashNode.class, args, log);
  }

  /** Starts {@code main} with {@code args} in a JVM of its own, its stderr appended to log. */
  static NodeProcess start(Class<?> main, List<String> args, Path log) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Xmx256m");
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("--sun-misc-unsafe-memory-access=allow");
    cmd.add("-Xlog:all=warning:stderr");
    cmd.add(main.getName());
    cmd.addAll(args);
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new NodeProcess(p, log);
  }

  /** Items the node has handled since it started, as it last reported. */
  long handled() {
    return handled;
  }

  /** True once the node printed a line starting with {@code prefix}. */
  boolean printed(String prefix) {
    synchronized (lines) {
      return lines.stream().anyMatch(l -> l.startsWith(prefix));
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Waits for a line starting with {@code prefix}; fails naming it and the node's log. */
  String await(String prefix, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    boolean sawExit = false;
    synchronized (lines) {
      while (true) {
        for (String line : lines) {
          if (line.startsWith(prefix)) {
            return line;
          }
        }
        long left = deadline - System.nanoTime();
        if (!process.isAlive() && !sawExit) {
          sawExit = true; // its last lines may still be on their way: one more look
          lines.wait(200);
          continue;
        }
        if (left <= 0 || !process.isAlive()) {
          throw new IllegalStateException(
              (process.isAlive()
                      ? "the node printed no '" + prefix.strip() + "' within " + seconds + " s"
                      : "the node stopped: " + cause())
                  + " (see its log "
                  + log
                  + ")");
        }
        lines.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
      }
    }
  }

  /** Why the node failed: its own error line, else the last line of its log, else its status. */
  String cause() {
    List<String> text;
    try {
      text = Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      text = List.of();
    }
    String last = null;
    for (String line : text) {
      if (line.startsWith("cfn certify node: ")) {
        return line.substring("cfn certify node: ".length());
      }
      if (!line.isBlank() && !line.startsWith("[")) {
        last = line.strip();
      }
    }
    if (last != null) {
      return last;
    }
    return process.isAlive() ? "still running" : "exit status " + process.exitValue();
  }

  /** SIGKILL, and wait until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM (a clean stop), then waits at most {@code seconds}; SIGKILL after that. */
  void stop(long seconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
    }
  }

  /** Waits for a normal exit; kills it after {@code seconds}. Returns the exit status (-1). */
  int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
      return -1;
    }
    return process.exitValue();
  }
}
