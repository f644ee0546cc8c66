package dev.cfn.testkit.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A class's {@code main} run in a JVM of its own, a child of this one: the one way cfn's tests and
 * commands start a child JVM (crash tests, {@code cfn certify}'s nodes, {@code cfn chaos}'s workers
 * and cluster nodes, {@code cfn dr drill}'s served nodes).
 *
 * <h2>How it starts</h2>
 *
 * {@link #of(Class, String...)} or {@link #of(String, List)} describes it ({@link Launch}), {@link
 * Launch#start} starts it: this JVM's {@code java} ({@code java.home}), {@code -cp} this JVM's
 * class path, {@code --enable-native-access=ALL-UNNAMED}, the options given ({@link
 * Launch#jvmOption}), the main class and its arguments, optionally behind a command prefix such as
 * {@code ip netns exec NS} ({@link Launch#prefix}). By default it starts quickly ({@code
 * -Xshare:auto -XX:TieredStopAtLevel=1}, for a test's short-lived child); a child whose speed is
 * measured uses {@link Launch#fullSpeed} (both JIT compilers), and cfn's commands start their nodes
 * and workers with {@link Launch#nodeDefaults}. It inherits this JVM's environment, with changes
 * ({@link Launch#environment}, {@link Launch#without}).
 *
 * <h2>Its standard error</h2>
 *
 * Discarded by default; written to a file ({@link Launch#errorTo}, replacing it) or appended to one
 * ({@link Launch#logTo}). With a file, {@link #cause} tells why the child failed: the child's own
 * one-line error (the line starting with the prefix given to {@link Launch#named}), else its last
 * line that is not the JVM's own logging, else its exit status.
 *
 * <h2>Its standard output</h2>
 *
 * A thread of its own reads every line as it comes and keeps it for the child's whole life (a child
 * is not meant to print millions of lines), except <em>status</em> lines ({@link Launch#status}),
 * frequent progress reports of which only the latest is kept ({@link #status}). Two ways to look at
 * the lines, which may be mixed:
 *
 * <ul>
 *   <li>in order, each line once: {@link #readLine}, {@link #awaitLine}, {@link #readToEnd}, {@link
 *       #readInBackground} (blocking until a line comes or the output ends);
 *   <li>all of them, as often as wanted: {@link #await(String, long)} (the first line with a
 *       prefix, or a {@link Failure} naming the log when the child stops or the time runs out),
 *       {@link #await(Predicate, Duration)} (null instead of a failure), {@link #count}, {@link
 *       #printed}, {@link #last}, {@link #lines}.
 * </ul>
 *
 * <h2>Signals and its end</h2>
 *
 * {@link #kill} SIGKILLs it (no shutdown hook runs) and waits for it; {@link #stop} is a SIGTERM (a
 * clean stop) with a SIGKILL after a grace time; {@link #signal} sends any signal ({@code STOP},
 * {@code CONT}) to its PID. {@link #close} SIGKILLs it if it still runs. Every signal goes to the
 * child's own PID, never to a name. {@link #send} writes a line to its standard input.
 *
 * <pre>{@code
 * try (ChildJvm cfn = ChildJvm.start(OrphanChild.class, script.toString())) {
 *   assertThat(cfn.awaitLine(l -> l.startsWith("STARTED"))).isEqualTo("STARTED");
 *   assertThat(cfn.kill()).isTrue();
 *   assertThat(cfn.exitValue()).isEqualTo(ChildJvm.SIGKILLED);
 * }
 * }</pre>
 *
 * <p>Linux (and other Unix) only for {@link #signal}; the rest is the JDK's.
 */
public final class ChildJvm implements AutoCloseable {
  /** The exit value of a JVM that SIGKILL ended (128 + 9), by {@link #kill} or by itself. */
  public static final int SIGKILLED = 137;

  private final Process process;
  private final String noun;
  private final String errorPrefix;
  private final Path log;
  private final List<String> lines = new ArrayList<>(); // guarded by itself
  private boolean ended; // guarded by lines: the output ended
  private int next; // guarded by lines: the next line readLine() returns
  private volatile String status;

  private ChildJvm(Process process, Launch l) {
    this.process = process;
    this.noun = l.noun;
    this.errorPrefix = l.errorPrefix;
    this.log = l.log;
    String statusPrefix = l.statusPrefix;
    Thread.ofPlatform()
        .daemon(true)
        .name("child-jvm-out-" + process.pid())
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
                // the child was killed: its output ends here
              } finally {
                synchronized (lines) {
                  ended = true;
                  lines.notifyAll();
                }
              }
            });
  }

  /**
   * Starts {@code main.main(args)} in a child JVM, quickly, its standard error discarded.
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
   * A child JVM to set up before it starts.
   *
   * @param main the class whose {@code main} runs
   * @param args its arguments
   * @return the launch, not started yet
   */
  public static Launch of(Class<?> main, String... args) {
    return new Launch(main.getName(), List.of(args));
  }

  /**
   * A child JVM to set up before it starts, its main class by name (a class this JVM need not
   * load).
   *
   * @param mainClass the binary name of the class whose {@code main} runs
   * @param args its arguments
   * @return the launch, not started yet
   */
  public static Launch of(String mainClass, List<String> args) {
    return new Launch(mainClass, List.copyOf(args));
  }

  /** A child JVM not started yet ({@link ChildJvm#of}); {@link #start} starts it. */
  public static final class Launch {
    private final String main;
    private final List<String> args;
    private final List<String> prefix = new ArrayList<>();
    private final List<String> options = new ArrayList<>();
    private final List<String> unset = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private boolean quick = true;
    private ProcessBuilder.Redirect error = ProcessBuilder.Redirect.DISCARD;
    private Path log;
    private String noun = "child JVM";
    private String errorPrefix;
    private String statusPrefix;

    private Launch(String main, List<String> args) {
      this.main = Objects.requireNonNull(main, "main");
      this.args = args;
    }

    /**
     * Writes the child's standard error to {@code file} (replacing it), for a test to point at when
     * the child fails, and for {@link ChildJvm#cause}.
     *
     * @param file where its standard error goes
     * @return this launch
     */
    public Launch errorTo(Path file) {
      error = ProcessBuilder.Redirect.to(file.toFile());
      log = file;
      return this;
    }

    /**
     * Appends the child's standard error to {@code file} (a log kept across restarts of a node),
     * for {@link ChildJvm#cause} and {@link Failure#log}.
     *
     * @param file where its standard error goes
     * @return this launch
     */
    public Launch logTo(Path file) {
      error = ProcessBuilder.Redirect.appendTo(file.toFile());
      log = file;
      return this;
    }

    /**
     * How the child is called in failures ({@code node}, {@code worker}; default {@code child
     * JVM}), and the prefix of its own one-line error on standard error, which {@link
     * ChildJvm#cause} looks for (null: none).
     *
     * @param noun what it is called
     * @param errorPrefix the prefix of its one-line error, or null
     * @return this launch
     */
    public Launch named(String noun, String errorPrefix) {
      this.noun = Objects.requireNonNull(noun, "noun");
      this.errorPrefix = errorPrefix;
      return this;
    }

    /**
     * Adds a JVM option, such as {@code -Duser.home=DIR}, before the class name; null adds nothing.
     *
     * @param option the option, or null
     * @return this launch
     */
    public Launch jvmOption(String option) {
      if (option != null) {
        options.add(option);
      }
      return this;
    }

    /**
     * Drops the quick-start options ({@code -Xshare:auto -XX:TieredStopAtLevel=1}): for a child
     * whose speed is measured, which must run with both JIT compilers as a real node does.
     *
     * @return this launch
     */
    public Launch fullSpeed() {
      quick = false;
      return this;
    }

    /**
     * What cfn's commands give the nodes and workers they start ({@code cfn certify}, {@code cfn
     * chaos}, {@code cfn dr drill}): {@link #fullSpeed}, a 256 MB heap ({@code -Xmx256m}), {@code
     * sun.misc.Unsafe} allowed without a warning, and the JVM's own warnings on standard error
     * ({@code -Xlog:all=warning:stderr}), never mixed into the lines the child prints.
     *
     * @return this launch
     */
    public Launch nodeDefaults() {
      fullSpeed();
      options.addAll(
          List.of("-Xmx256m", "--sun-misc-unsafe-memory-access=allow", "-Xlog:all=warning:stderr"));
      return this;
    }

    /**
     * Words before {@code java} on the command line, such as {@code ip netns exec NS}.
     *
     * @param words the command prefix
     * @return this launch
     */
    public Launch prefix(List<String> words) {
      prefix.addAll(words);
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
     * Sets an environment variable of the child, such as {@code TMPDIR} for a child whose temporary
     * files are to land in a given folder.
     *
     * @param name the variable
     * @param value its value
     * @return this launch
     */
    public Launch environment(String name, String value) {
      environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * Keeps only the latest line starting with {@code prefix}: see {@link ChildJvm#status}.
     *
     * @param prefix the status lines' prefix
     * @return this launch
     */
    public Launch status(String prefix) {
      this.statusPrefix = prefix;
      return this;
    }

    /**
     * Starts the child.
     *
     * @return the running child
     * @throws IOException if the JVM cannot be started
     */
    public ChildJvm start() throws IOException {
      List<String> command = new ArrayList<>(prefix);
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      if (quick) {
        command.addAll(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1"));
      }
      command.add("--enable-native-access=ALL-UNNAMED");
      command.addAll(options);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
      command.addAll(args);
      ProcessBuilder builder = new ProcessBuilder(command).redirectError(error);
      unset.forEach(builder.environment()::remove);
      builder.environment().putAll(environment);
      return new ChildJvm(builder.start(), this);
    }
  }

  /** A child that stopped, or did not print what was awaited in time ({@link #await}). */
  public static final class Failure extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String problem;
    private final transient Path log;

    Failure(String problem, Path log) {
      super(log == null ? problem : problem + " (see its log " + log + ")");
      this.problem = problem;
      this.log = log;
    }

    /**
     * What went wrong, without the log's name.
     *
     * @return the problem
     */
    public String problem() {
      return problem;
    }

    /**
     * The child's log.
     *
     * @return the file its standard error went to; null when it was discarded
     */
    public Path log() {
      return log;
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
   * The file its standard error goes to.
   *
   * @return the file; null when it is discarded
   */
  public Path log() {
    return log;
  }

  /**
   * Reads the child's next line of standard output (each line once, in order); blocks until then.
   *
   * @return the line, or null if the child closed its output first
   * @throws IOException never, kept for callers written when it read the pipe itself
   */
  public String readLine() throws IOException {
    synchronized (lines) {
      while (next >= lines.size() && !ended) {
        try {
          lines.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the child's output", e);
        }
      }
      return next < lines.size() ? lines.get(next++) : null;
    }
  }

  /**
   * Reads the child's standard output up to the first line that {@code wanted} accepts; blocks
   * until then.
   *
   * @param wanted which line to wait for
   * @return that line, or null if the child closed its output first
   * @throws IOException if interrupted while waiting
   */
  public String awaitLine(Predicate<String> wanted) throws IOException {
    String line;
    do {
      line = readLine();
    } while (line != null && !wanted.test(line));
    return line;
  }

  /**
   * Reads the child's standard output to its end (the child exited, or closed it); blocks until
   * then.
   *
   * @return every line not read before
   * @throws IOException if interrupted while waiting
   */
  public List<String> readToEnd() throws IOException {
    List<String> rest = new ArrayList<>();
    for (String line = readLine(); line != null; line = readLine()) {
      rest.add(line);
    }
    return rest;
  }

  /**
   * Hands each line of the child's standard output not read before to {@code each}, on a virtual
   * thread of its own, until the output ends (an output cut by a kill ends it too). Join the thread
   * to know every line was handed over.
   *
   * @param each what to do with a line
   * @return the reading thread, started
   */
  public Thread readInBackground(Consumer<String> each) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                for (String line = readLine(); line != null; line = readLine()) {
                  each.accept(line);
                }
              } catch (IOException interrupted) {
                // stopped
              }
            });
  }

  /**
   * Every line it printed so far (but status lines).
   *
   * @return a copy
   */
  public List<String> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /**
   * The last {@code n} of {@link #lines()}.
   *
   * @param n how many
   * @return at most that many lines, the latest last
   */
  public List<String> lastLines(int n) {
    synchronized (lines) {
      return List.copyOf(lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }
  }

  /**
   * What follows the status prefix in its latest status line ({@link Launch#status}).
   *
   * @return that text; null before the first
   */
  public String status() {
    return status;
  }

  /**
   * Whether it printed a line starting with {@code prefix}.
   *
   * @param prefix the line's start
   * @return true once it did
   */
  public boolean printed(String prefix) {
    return count(prefix) > 0;
  }

  /**
   * How many lines starting with {@code prefix} it has printed so far.
   *
   * @param prefix the lines' start
   * @return their number
   */
  public int count(String prefix) {
    synchronized (lines) {
      return (int) lines.stream().filter(l -> l.startsWith(prefix)).count();
    }
  }

  /**
   * The latest line starting with {@code prefix} it printed.
   *
   * @param prefix the line's start
   * @return that line; null when none yet
   */
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

  /**
   * Waits for a line starting with {@code prefix}, printed before or after the call, at most {@code
   * seconds}.
   *
   * @param prefix the line's start
   * @param seconds how long to wait at most
   * @return the first such line
   * @throws Failure when the child stopped first, or printed no such line in time
   * @throws InterruptedException if interrupted while waiting
   */
  public String await(String prefix, long seconds) throws InterruptedException {
    String line = await(l -> l.startsWith(prefix), Duration.ofSeconds(seconds));
    if (line != null) {
      return line;
    }
    boolean outputEnded;
    synchronized (lines) {
      outputEnded = ended;
    }
    if (outputEnded || !process.isAlive()) {
      process.waitFor(5, TimeUnit.SECONDS); // its output ends just before it exits
    }
    throw new Failure(
        process.isAlive() && !outputEnded
            ? "the "
                + noun
                + " printed no '"
                + prefix.strip()
                + "' within "
                + seconds
                + " s (its last lines: "
                + lastLines(10)
                + ")"
            : "the " + noun + " stopped: " + cause(),
        log);
  }

  /**
   * Waits for a line {@code test} accepts, printed before or after the call, at most {@code
   * timeout}.
   *
   * @param test which line
   * @param timeout how long to wait at most
   * @return the first such line; null when none came in time, or the child's output ended first
   * @throws InterruptedException if interrupted while waiting
   */
  public String await(Predicate<String> test, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long exitSeenAt = 0; // an exited child's output may be held open by a process it started
    int seen = 0;
    synchronized (lines) {
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (test.test(lines.get(seen))) {
            return lines.get(seen);
          }
        }
        long now = System.nanoTime();
        if (!process.isAlive() && exitSeenAt == 0) {
          exitSeenAt = now;
        }
        if (ended
            || now >= deadline
            || exitSeenAt != 0 && now - exitSeenAt > TimeUnit.SECONDS.toNanos(1)) {
          return null;
        }
        lines.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(deadline - now))));
      }
    }
  }

  /**
   * Why it failed, from its log: its own one-line error, else the last line that is not the JVM's
   * own logging, else its exit status.
   *
   * @return a short text
   */
  public String cause() {
    List<String> text = List.of();
    if (log != null) {
      try {
        text = Files.readAllLines(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        // no log to read: the exit status says what there is
      }
    }
    String last = null;
    for (String line : text) {
      if (errorPrefix != null && line.startsWith(errorPrefix)) {
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

  /**
   * The last {@code chars} characters of its log, for failure messages.
   *
   * @param chars how many at most
   * @return the text, or why there is none
   */
  public String tail(int chars) {
    if (log == null) {
      return "(its standard error was discarded)";
    }
    try {
      String text = Files.readString(log);
      return text.length() > chars ? text.substring(text.length() - chars) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * Writes {@code line} to its standard input.
   *
   * @param line the line, without its end
   * @throws IOException if its input is closed
   */
  public void send(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
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
   * Waits up to {@code seconds} for the child to exit, and SIGKILLs it after that.
   *
   * @param seconds how long to wait at most
   * @return its exit value, or -1 when it had to be killed
   * @throws InterruptedException if interrupted while waiting
   */
  public int exitWithin(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
      return -1;
    }
    return process.exitValue();
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
    return kill(Duration.ofSeconds(60));
  }

  /**
   * SIGKILLs the child (no shutdown hook runs) and waits up to {@code limit} for it to exit.
   *
   * @param limit how long to wait at most
   * @return whether it exited in that time
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean kill(Duration limit) throws InterruptedException {
    process.destroyForcibly();
    return waitFor(limit);
  }

  /**
   * SIGTERM (a clean stop: its shutdown hooks run), then waits at most {@code seconds}; SIGKILL
   * after that.
   *
   * @param seconds the grace time
   * @throws InterruptedException if interrupted while waiting
   */
  public void stop(long seconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      kill();
    }
  }

  /**
   * Sends {@code signal} ({@code STOP}, {@code CONT}, {@code KILL}, ...) to its PID with {@code
   * kill}.
   *
   * @param signal the signal's name without {@code SIG}
   * @throws IOException if {@code kill} cannot be run
   * @throws InterruptedException if interrupted while waiting for {@code kill}
   * @throws IllegalStateException if {@code kill} failed
   * @throws IllegalArgumentException if {@code signal} is not a signal's name
   */
  public void signal(String signal) throws IOException, InterruptedException {
    if (!signal.matches("[A-Z0-9]+")) {
      throw new IllegalArgumentException(
          "not a signal name: '" + signal + "' (fix: say STOP, CONT)");
    }
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
    }
  }

  /** SIGKILLs the child if it still runs, and waits up to 10 s for it to exit. */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
