package dev.cfn.certify.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A main class running in a JVM of its own (this JVM's {@code java} and class path, a 256 MB heap,
 * native access allowed, the JVM's own warnings on standard error) and the lines it printed on
 * standard output; its standard error is appended to a log file. The child reports what it did by
 * printing lines ({@code ready}, {@code first-handled T}, ...), which {@link #await} waits for in
 * any order; a child that fails prints one line {@code PREFIX what went wrong} on standard error
 * before it exits, which {@link #cause} finds in its log. {@link #kill} is a SIGKILL on Linux.
 *
 * <p>Every child JVM of cfn's commands starts here, alike: certify's crash and served nodes, {@code
 * cfn chaos}'s workers, {@code cfn dr drill}'s {@code cfn serve} nodes. Options such as the log
 * level of {@code -v} or {@code --debug} are added by the caller with {@link Launcher#option}.
 *
 * <p>Lines starting with a <em>status</em> prefix ({@link Launcher#status}) are frequent progress
 * reports: only the latest is kept ({@link #status}), not every one.
 */
public final class ChildJvm {
  private final Process process;
  private final String noun;
  private final String errorPrefix;
  private final List<String> lines = new ArrayList<>(); // guarded by itself
  private volatile String status;
  private final Path log;

  private ChildJvm(Process process, Launcher l) {
    this.process = process;
    this.noun = l.noun;
    this.errorPrefix = l.errorPrefix;
    this.log = l.log;
    String statusPrefix = l.statusPrefix;
    Thread.ofPlatform()
        .daemon(true)
        .name("child-jvm-reader")
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  if (statusPrefix != null && line.startsWith(statusPrefix)) {
                    status = line.substring(statusPrefix.length()).strip();
                    continue;
                  }
                  synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                  }
                }
              } catch (IOException e) {
                // the process died; await() reports it
              }
            });
  }

  /**
   * Starts describing a child whose standard error goes to {@code log}.
   *
   * @param noun what the child is called in errors ({@code node}, {@code worker})
   * @param errorPrefix the prefix of the child's own one-line error on standard error
   */
  public static Launcher launcher(Path log, String noun, String errorPrefix) {
    return new Launcher(log, noun, errorPrefix);
  }

  /** How to start a child: JVM options, the status prefix; then {@link #start}. */
  public static final class Launcher {
    private final Path log;
    private final String noun;
    private final String errorPrefix;
    private final List<String> options = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private String statusPrefix;

    private Launcher(Path log, String noun, String errorPrefix) {
      this.log = Objects.requireNonNull(log, "log");
      this.noun = Objects.requireNonNull(noun, "noun");
      this.errorPrefix = Objects.requireNonNull(errorPrefix, "errorPrefix");
    }

    /** Adds a JVM option (before the main class); null adds nothing. */
    public Launcher option(String option) {
      if (option != null) {
        options.add(option);
      }
      return this;
    }

    /**
     * Sets an environment variable of the child (it inherits this JVM's environment otherwise),
     * such as {@code TMPDIR} for a child whose temporary files are to land in a given folder.
     */
    public Launcher environment(String name, String value) {
      environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Keeps only the latest line starting with {@code prefix}: see {@link ChildJvm#status}. */
    public Launcher status(String prefix) {
      this.statusPrefix = prefix;
      return this;
    }

    /** Starts {@code main} with {@code args}. */
    public ChildJvm start(String main, List<String> args) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add("-Xmx256m");
      cmd.add("--enable-native-access=ALL-UNNAMED");
      cmd.add("--sun-misc-unsafe-memory-access=allow");
      cmd.add("-Xlog:all=warning:stderr"); // the JVM's own warnings go to the log, not stdout
      cmd.addAll(options);
      cmd.add(main);
      cmd.addAll(args);
      ProcessBuilder pb =
          new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(environment);
      Process p = pb.start();
      return new ChildJvm(p, this);
    }
  }

  /** A child that stopped, or did not print what was awaited in time. */
  public static final class Failure extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String problem;
    private final transient Path log;

    Failure(String problem, Path log) {
      super(problem + " (see its log " + log + ")");
      this.problem = problem;
      this.log = log;
    }

    /** What went wrong, without the log's name. */
    public String problem() {
      return problem;
    }

    /** The child's log. */
    public Path log() {
      return log;
    }
  }

  /** The file its standard error is appended to. */
  public Path log() {
    return log;
  }

  /** What follows the status prefix in its latest status line; null before the first. */
  public String status() {
    return status;
  }

  /** True once it printed a line starting with {@code prefix}. */
  public boolean printed(String prefix) {
    return count(prefix) > 0;
  }

  /** How many lines starting with {@code prefix} it has printed so far. */
  public int count(String prefix) {
    synchronized (lines) {
      return (int) lines.stream().filter(l -> l.startsWith(prefix)).count();
    }
  }

  /** The latest line starting with {@code prefix} it printed; null when none yet. */
  public String last(String prefix) {
    synchronized (lines) {
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (lines.get(i).startsWith(prefix)) {
          return lines.get(i);
        }
      }
      return null;
    }
  }

  /** Writes {@code line} to its standard input. */
  public void send(String line) throws IOException {
    var in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits for a line starting with {@code prefix}, in any order, at most {@code seconds}.
   *
   * @throws Failure when the child stopped first, or printed no such line in time
   */
  public String await(String prefix, long seconds) throws InterruptedException {
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
          sawExit = true; // its last lines may still be on their way to the reader: one more look
          lines.wait(200);
          continue;
        }
        if (left <= 0 || !process.isAlive()) {
          throw new Failure(
              process.isAlive()
                  ? "the "
                      + noun
                      + " printed no '"
                      + prefix.strip()
                      + "' within "
                      + seconds
                      + " s (its last lines: "
                      + lines.subList(Math.max(0, lines.size() - 10), lines.size())
                      + ")"
                  : "the " + noun + " stopped: " + cause(),
              log);
        }
        lines.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
      }
    }
  }

  /**
   * Why it failed, from its log: its own one-line error, else the last line that is not the JVM's
   * own logging, else its exit status.
   */
  public String cause() {
    List<String> text;
    try {
      text = Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      text = List.of();
    }
    String last = null;
    for (String line : text) {
      if (line.startsWith(errorPrefix)) {
        return line.substring(errorPrefix.length());
      }
      if (!line.isBlank() && !line.startsWith("[") && !line.startsWith("Picked up ")) {
        last = line.strip();
      }
    }
    if (last != null) {
      return last;
    }
    return process.isAlive() ? "still running" : "exit status " + process.exitValue();
  }

  /** SIGKILL, and waits until it is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM (a clean stop), then waits at most {@code seconds}; SIGKILL after that. */
  public void stop(long seconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
    }
  }

  /** Waits for its exit at most {@code seconds}; kills it after that. Its exit status, or -1. */
  public int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
      return -1;
    }
    return process.exitValue();
  }
}
