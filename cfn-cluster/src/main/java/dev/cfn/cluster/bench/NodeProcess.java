package dev.cfn.cluster.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A node JVM ({@link BenchNode}) started the way cfn-cluster's kill test starts its child: this
 * JVM's {@code java} and class path, its own process, standard error to a log file, commands on its
 * standard input, answers read from its standard output. Stopped by {@code quit}, or by its PID
 * ({@code kill -9}).
 */
final class NodeProcess implements AutoCloseable {
  final String id;
  final int sender;
  private final Process process;
  private final PrintWriter in;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> unclaimed = new ArrayList<>();
  private final Path log;

  private NodeProcess(String id, int sender, Process process, Path log) {
    this.id = id;
    this.sender = sender;
    this.process = process;
    this.log = log;
    this.in =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    Thread.ofPlatform()
        .daemon()
        .name("bench-node-out-" + id)
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            });
  }

  /** Starts node {@code id}; its arguments after the id come from {@code args}. */
  static NodeProcess start(String id, int sender, List<String> args, Path work) throws IOException {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Xms256m");
    cmd.add("-Xmx768m");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchNode.class.getName());
    cmd.addAll(args);
    cmd.add(Integer.toString(sender));
    cmd.add(id);
    Path log = work.resolve(id + ".log");
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new NodeProcess(id, sender, p, log);
  }

  long pid() {
    return process.pid();
  }

  /** CPU time this JVM used so far, in nanoseconds (0 when unknown). */
  long cpuNanos() {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  void send(String command) {
    in.println(command);
  }

  /** Sends {@code command} and waits for its answer, the next line starting with {@code prefix}. */
  String ask(String command, String prefix, long seconds) throws InterruptedException {
    send(command);
    return await(prefix, seconds);
  }

  /** The next line starting with {@code prefix}, within {@code seconds}; other lines are kept. */
  String await(String prefix, long seconds) throws InterruptedException {
    synchronized (unclaimed) {
      for (Iterator<String> it = unclaimed.iterator(); it.hasNext(); ) {
        String line = it.next();
        if (line.startsWith(prefix)) {
          it.remove();
          return line;
        }
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        throw new IllegalStateException(
            "node "
                + id
                + (process.isAlive()
                    ? " did not answer '" + prefix + "' in " + seconds + " s"
                    : " died")
                + "; its log: "
                + tail());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
      synchronized (unclaimed) {
        unclaimed.add(line);
      }
    }
  }

  /** SIGKILLs the JVM by its PID and waits until it is gone. */
  void kill() throws Exception {
    Process k = new ProcessBuilder("kill", "-9", Long.toString(process.pid())).start();
    k.waitFor(10, TimeUnit.SECONDS);
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("node " + id + " still alive 30 s after SIGKILL");
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  private String tail() {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join(" | ", all.subList(Math.max(0, all.size() - 5), all.size()));
    } catch (IOException e) {
      return log.toString();
    }
  }

  /** Leaves the cluster ({@code quit}), or is killed by its PID after 30 s. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    try {
      send("quit");
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
