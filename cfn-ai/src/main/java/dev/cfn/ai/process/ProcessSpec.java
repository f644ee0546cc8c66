package dev.cfn.ai.process;

import dev.cfn.ai.internal.os.ParentProcess;
import dev.cfn.core.AgentId;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a {@link ProcessAgent} runs and how: the command, its working directory, the environment the
 * child gets, the per-message timeout, the output bounds, what goes to stdin, the {@link Mode} (a
 * process per message, or one long-lived process speaking a line protocol) and the charset.
 *
 * <p>The environment is an allow-list: the child gets only the parent variables named with {@link
 * Builder#inheritEnv} (by default {@link #DEFAULT_INHERITED_ENV}, which holds no credentials) plus
 * those set with {@link Builder#env}. It never gets the whole parent environment, so an API key in
 * the JVM's environment reaches a child only when its name is listed. {@link #toString()} shows
 * variable names and the program, never variable values or arguments (which may hold secrets).
 *
 * <pre>{@code
 * ProcessSpec claude = ProcessSpec.builder("claude", "-p")
 *     .inheritEnv("ANTHROPIC_API_KEY")
 *     .timeout(Duration.ofMinutes(5))
 *     .build();   // per message: the message text goes to stdin, stdout comes back
 * }</pre>
 *
 * @param command the program and its arguments; in {@link Mode.PerMessage} mode every {@link
 *     #INPUT_PLACEHOLDER} in an argument is replaced by the message text
 * @param workingDirectory the directory the process runs in
 * @param environment exactly the variables the child gets (allow-listed parent values and explicit
 *     ones); a {@link ProcessRequest} may override only names in {@code overridableEnv}
 * @param overridableEnv the variable names a {@link ProcessRequest} may set: the allow-list plus
 *     the explicitly set names
 * @param timeout how long one message may take: the whole run in per-message mode, the wait for the
 *     reply in long-lived mode; then the process tree is killed
 * @param maxStdoutBytes the most stdout bytes kept per message; the rest is read and dropped, and
 *     the result is flagged truncated
 * @param maxStderrBytes the most stderr bytes kept (the last ones) per message
 * @param stdin what a per-message process reads on stdin
 * @param mode per message, or long-lived with a line protocol
 * @param charset how text is encoded on stdin and decoded from stdout and stderr
 * @param killGrace how long a process tree has to exit after SIGTERM before it gets SIGKILL
 */
public record ProcessSpec(
    List<String> command,
    Path workingDirectory,
    Map<String, String> environment,
    Set<String> overridableEnv,
    Duration timeout,
    int maxStdoutBytes,
    int maxStderrBytes,
    Stdin stdin,
    Mode mode,
    Charset charset,
    Duration killGrace) {

  /** Replaced by the message text in each argument of a per-message command. */
  public static final String INPUT_PLACEHOLDER = "{input}";

  /**
   * The parent variables a child inherits unless told otherwise: what most CLIs need to find
   * programs, their home and their locale, and no credentials.
   */
  public static final Set<String> DEFAULT_INHERITED_ENV =
      Set.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ");

  /** Default per-message timeout: one minute. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(1);

  /** Default bound on the stdout kept per message: 1 MiB. */
  public static final int DEFAULT_MAX_STDOUT_BYTES = 1 << 20;

  /** Default bound on the stderr tail kept per message: 64 KiB. */
  public static final int DEFAULT_MAX_STDERR_BYTES = 64 << 10;

  /** Default pause between SIGTERM and SIGKILL: two seconds. */
  public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(2);

  /** The largest output bound accepted, 256 MiB: output is held in memory. */
  public static final int MAX_OUTPUT_BOUND = 256 << 20;

  /** Validates the spec; every message names the setting and the fix. */
  public ProcessSpec {
    command = List.copyOf(Objects.requireNonNull(command, "command"));
    if (command.isEmpty() || command.get(0).isBlank()) {
      throw new IllegalArgumentException(
          "the command is empty; give the program and its arguments, e.g. [\"claude\", \"-p\"]");
    }
    Objects.requireNonNull(workingDirectory, "workingDirectory");
    environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
    environment.forEach(ProcessSpec::checkVariable);
    overridableEnv = Set.copyOf(Objects.requireNonNull(overridableEnv, "overridableEnv"));
    overridableEnv.forEach(name -> checkVariable(name, ""));
    requirePositive(timeout, "timeout");
    requirePositive(killGrace, "killGrace");
    checkBound(maxStdoutBytes, "maxStdoutBytes");
    checkBound(maxStderrBytes, "maxStderrBytes");
    Objects.requireNonNull(stdin, "stdin");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(charset, "charset");
    if (mode.longLived()) {
      if (!(stdin instanceof Stdin.FromMessage)) {
        throw new IllegalArgumentException(
            "stdin "
                + stdin
                + " applies only to per-message mode; a long-lived process reads each message"
                + " as one line, so leave stdin at Stdin.message()");
      }
      for (String arg : command) {
        if (arg.contains(INPUT_PLACEHOLDER)) {
          throw new IllegalArgumentException(
              "the command contains "
                  + INPUT_PLACEHOLDER
                  + ", but a long-lived process is started once, before any message; use"
                  + " per-message mode or remove the placeholder");
        }
      }
    }
  }

  /** Starts a builder for {@code command} (the program, then its arguments). */
  public static Builder builder(String... command) {
    return new Builder(List.of(command));
  }

  /** Starts a builder for {@code command} (the program, then its arguments). */
  public static Builder builder(List<String> command) {
    return new Builder(command);
  }

  /**
   * Runs this per-message spec once for {@code request} on the calling thread, outside any agent,
   * with the same machinery as a {@link ProcessAgent}: a session of its own, the allow-listed
   * environment, bounded output, the timeout and the kill of the whole process tree (leftovers
   * included). For callers that run a command as one step of their own work (cfn's hooks). Blocks
   * until the result; never throws for the command's failures (they are the result's {@link
   * ProcessResult.Outcome}); an interrupt kills the tree, returns {@link
   * ProcessResult.Outcome#CANCELLED} and leaves the thread's interrupt status set.
   *
   * @param request the text (stdin and {@link #INPUT_PLACEHOLDER}), arguments and overrides
   * @param onBehalfOf the agent the command runs for, named in logs
   * @return the result
   * @throws IllegalStateException when the spec is long-lived
   */
  public ProcessResult runOnce(ProcessRequest request, AgentId onBehalfOf) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(onBehalfOf, "onBehalfOf");
    if (mode.longLived()) {
      throw new IllegalStateException(
          "runOnce needs a per-message spec; this one is " + mode + ": use a ProcessAgent");
    }
    return new PerMessageRun(this, onBehalfOf).run(request);
  }

  /** The program name, without its arguments: safe to log. */
  public String program() {
    return command.get(0);
  }

  /**
   * The command for one message: {@link #INPUT_PLACEHOLDER} replaced by {@code input} in every
   * argument (never in the program name), then {@code extraArgs} appended.
   *
   * <p>Message text can come from a model, and so from a prompt injection: when the placeholder is
   * a whole argument and the text starts with {@code -}, the program would read it as an option
   * ({@code --dangerously-skip-permissions}, {@code -f/etc/passwd}). Such input is refused ({@link
   * IllegalArgumentException}, answered as REJECTED) unless an earlier argument is {@code --}, the
   * usual end of options. {@code extraArgs} come from the requesting agent's code, not from the
   * text, and are appended as given.
   */
  List<String> commandFor(String input, List<String> extraArgs) {
    List<String> cmd = new ArrayList<>(command.size() + extraArgs.size());
    cmd.add(command.get(0));
    boolean endOfOptions = false;
    for (int i = 1; i < command.size(); i++) {
      String arg = command.get(i);
      if (arg.equals(INPUT_PLACEHOLDER) && input.startsWith("-") && !endOfOptions) {
        throw new IllegalArgumentException(
            "the message text starts with '-', so "
                + program()
                + " would read it as an option; put \"--\" before "
                + INPUT_PLACEHOLDER
                + " in the command if the program takes it, or send text that does not start"
                + " with '-'");
      }
      endOfOptions |= arg.equals("--");
      cmd.add(arg.replace(INPUT_PLACEHOLDER, input));
    }
    cmd.addAll(extraArgs);
    return cmd;
  }

  /**
   * The child's environment with {@code overrides} applied. Throws {@link IllegalArgumentException}
   * naming (never showing the value of) a variable that is not in {@link #overridableEnv()}.
   */
  Map<String, String> environmentWith(Map<String, String> overrides) {
    if (overrides.isEmpty()) {
      return environment;
    }
    Map<String, String> env = new LinkedHashMap<>(environment);
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      if (!overridableEnv.contains(e.getKey())) {
        throw new IllegalArgumentException(
            "the request sets environment variable '"
                + e.getKey()
                + "', which is not on this agent's allow-list "
                + new TreeSet<>(overridableEnv)
                + "; add it with ProcessSpec.Builder.inheritEnv or env");
      }
      checkVariable(e.getKey(), e.getValue());
      env.put(e.getKey(), e.getValue());
    }
    return env;
  }

  /**
   * A process builder for {@code cmd} with exactly {@code env} and the working directory, started
   * in a session of its own ({@link SessionLauncher}). Prepares the JVM as a parent first ({@link
   * ParentProcess}: children cannot read its environment, orphans re-parent to it).
   */
  ProcessBuilder processBuilder(List<String> cmd, Map<String, String> env) {
    ParentProcess.prepareForChildren();
    ProcessBuilder pb =
        new ProcessBuilder(SessionLauncher.wrap(cmd, workingDirectory))
            .directory(workingDirectory.toFile());
    Map<String, String> childEnv = pb.environment();
    childEnv.clear(); // ProcessBuilder starts from the whole parent environment: never pass it on
    childEnv.putAll(env);
    return pb;
  }

  /** Shows the program, the argument count and variable names; never arguments or values. */
  @Override
  public String toString() {
    return "ProcessSpec[program="
        + program()
        + ", args="
        + (command.size() - 1)
        + ", workingDirectory="
        + workingDirectory
        + ", env="
        + new TreeSet<>(environment.keySet())
        + ", overridableEnv="
        + new TreeSet<>(overridableEnv)
        + ", timeout="
        + timeout
        + ", maxStdoutBytes="
        + maxStdoutBytes
        + ", maxStderrBytes="
        + maxStderrBytes
        + ", stdin="
        + stdin
        + ", mode="
        + mode
        + ", charset="
        + charset
        + ", killGrace="
        + killGrace
        + "]";
  }

  private static void checkVariable(String name, String value) {
    Objects.requireNonNull(name, "environment variable name");
    Objects.requireNonNull(value, "value of environment variable " + name);
    if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "environment variable name '"
              + name
              + "' is invalid: use a non-empty name without '=' or NUL");
    }
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "the value of environment variable '" + name + "' contains NUL; remove it");
    }
  }

  private static void requirePositive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, was " + d);
    }
  }

  private static void checkBound(int bytes, String what) {
    if (bytes < 1 || bytes > MAX_OUTPUT_BOUND) {
      throw new IllegalArgumentException(
          what + " is " + bytes + "; use 1 to " + MAX_OUTPUT_BOUND + " bytes");
    }
  }

  /**
   * How the agent talks to the command: a fresh process per message, or one long-lived process,
   * started with the agent, that reads one line per message on stdin and answers on stdout.
   */
  public sealed interface Mode
      permits Mode.PerMessage, Mode.JsonLines, Mode.TextLine, Mode.TextLines {

    /** A process per message; its exit ends the reply. The default. */
    static Mode perMessage() {
      return new PerMessage();
    }

    /**
     * Long-lived, one JSON object per line each way; replies match requests in order. A reply line
     * that is not a JSON object is a protocol error: the process is restarted. The program must
     * print nothing else on stdout (no banner, no logs: those go to stderr).
     */
    static Mode jsonLines() {
      return new JsonLines();
    }

    /** Long-lived, one text line in, one text line out. */
    static Mode textLine() {
      return new TextLine();
    }

    /** Long-lived, one text line in, lines out until a line equal to {@code terminator}. */
    static Mode textLines(String terminator) {
      return new TextLines(terminator);
    }

    /** True when one process serves every message. */
    default boolean longLived() {
      return !(this instanceof PerMessage);
    }

    /** A process per message. */
    record PerMessage() implements Mode {}

    /** Long-lived, JSON lines. */
    record JsonLines() implements Mode {}

    /** Long-lived, one line in and one line out. */
    record TextLine() implements Mode {}

    /**
     * Long-lived, one line in, lines out until {@code terminator} (not part of the reply).
     *
     * @param terminator the line that ends a reply, non-empty, without line breaks
     */
    record TextLines(String terminator) implements Mode {
      /** Validates the terminator. */
      public TextLines {
        Objects.requireNonNull(terminator, "terminator");
        if (terminator.isEmpty()
            || terminator.indexOf('\n') >= 0
            || terminator.indexOf('\r') >= 0) {
          throw new IllegalArgumentException(
              "the reply terminator must be a non-empty single line, e.g. \"END\"");
        }
      }
    }
  }

  /** What a per-message process reads on stdin. */
  public sealed interface Stdin permits Stdin.FromMessage, Stdin.Text, Stdin.None {

    /** The message text, then end of file. The default. */
    static Stdin message() {
      return new FromMessage();
    }

    /** The same {@code text} for every message, then end of file. */
    static Stdin text(String text) {
      return new Text(text);
    }

    /** End of file at once. */
    static Stdin none() {
      return new None();
    }

    /** The message text. */
    record FromMessage() implements Stdin {}

    /**
     * Fixed text.
     *
     * @param text what every run reads
     */
    record Text(String text) implements Stdin {
      /** Requires the text. */
      public Text {
        Objects.requireNonNull(text, "text");
      }

      /** Shows the length only: the text may be a prompt with private content. */
      @Override
      public String toString() {
        return "Text[" + text.length() + " chars]";
      }
    }

    /** Nothing. */
    record None() implements Stdin {}
  }

  /** Builds a {@link ProcessSpec}; every setter validates at once and names the fix. */
  public static final class Builder {
    private final List<String> command;
    private Path workingDirectory = Path.of("").toAbsolutePath();
    private final Set<String> inherited = new LinkedHashSet<>(DEFAULT_INHERITED_ENV);
    private final Map<String, String> explicit = new LinkedHashMap<>();
    private Map<String, String> parent = System.getenv();
    private Duration timeout = DEFAULT_TIMEOUT;
    private int maxStdoutBytes = DEFAULT_MAX_STDOUT_BYTES;
    private int maxStderrBytes = DEFAULT_MAX_STDERR_BYTES;
    private Stdin stdin = Stdin.message();
    private Mode mode = Mode.perMessage();
    private Charset charset = StandardCharsets.UTF_8;
    private Duration killGrace = DEFAULT_KILL_GRACE;

    private Builder(List<String> command) {
      this.command = List.copyOf(Objects.requireNonNull(command, "command"));
    }

    /** Runs the process in {@code dir}, which must exist (default: the JVM's working directory). */
    public Builder workingDirectory(Path dir) {
      Objects.requireNonNull(dir, "dir");
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(
            "working directory " + dir + " is not a directory; create it or fix the path");
      }
      this.workingDirectory = dir.toAbsolutePath();
      return this;
    }

    /** Adds parent variables the child may see (and a request may override). */
    public Builder inheritEnv(String... names) {
      for (String name : names) {
        checkVariable(name, "");
        inherited.add(name);
      }
      return this;
    }

    /** Empties the allow-list, defaults included: the child sees only explicitly set variables. */
    public Builder inheritNoEnv() {
      inherited.clear();
      return this;
    }

    /** Sets {@code name} to {@code value} in the child's environment, whatever the parent has. */
    public Builder env(String name, String value) {
      checkVariable(name, value);
      explicit.put(name, value);
      return this;
    }

    /**
     * The environment the allow-list picks from (default {@link System#getenv()}). For tests, and
     * for embedders that keep their own view of the environment.
     */
    public Builder parentEnvironment(Map<String, String> parentEnv) {
      this.parent = Map.copyOf(Objects.requireNonNull(parentEnv, "parentEnv"));
      return this;
    }

    /** How long one message may take (default {@link #DEFAULT_TIMEOUT}). */
    public Builder timeout(Duration timeout) {
      requirePositive(timeout, "timeout");
      this.timeout = timeout;
      return this;
    }

    /** The most stdout bytes kept per message (default {@link #DEFAULT_MAX_STDOUT_BYTES}). */
    public Builder maxStdoutBytes(int bytes) {
      checkBound(bytes, "maxStdoutBytes");
      this.maxStdoutBytes = bytes;
      return this;
    }

    /** The most stderr bytes kept per message (default {@link #DEFAULT_MAX_STDERR_BYTES}). */
    public Builder maxStderrBytes(int bytes) {
      checkBound(bytes, "maxStderrBytes");
      this.maxStderrBytes = bytes;
      return this;
    }

    /** What a per-message process reads on stdin (default {@link Stdin#message()}). */
    public Builder stdin(Stdin stdin) {
      this.stdin = Objects.requireNonNull(stdin, "stdin");
      return this;
    }

    /** Per message (the default) or long-lived with a line protocol. */
    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** The charset of stdin, stdout and stderr (default UTF-8). */
    public Builder charset(Charset charset) {
      this.charset = Objects.requireNonNull(charset, "charset");
      return this;
    }

    /** The pause between SIGTERM and SIGKILL (default {@link #DEFAULT_KILL_GRACE}). */
    public Builder killGrace(Duration grace) {
      requirePositive(grace, "killGrace");
      this.killGrace = grace;
      return this;
    }

    /** The spec; resolves the allow-list against the parent environment now. */
    public ProcessSpec build() {
      Map<String, String> env = new LinkedHashMap<>();
      for (String name : inherited) {
        String value = parent.get(name);
        if (value != null) {
          env.put(name, value);
        }
      }
      env.putAll(explicit);
      Set<String> overridable = new LinkedHashSet<>(inherited);
      overridable.addAll(explicit.keySet());
      return new ProcessSpec(
          command,
          workingDirectory,
          env,
          overridable,
          timeout,
          maxStdoutBytes,
          maxStderrBytes,
          stdin,
          mode,
          charset,
          killGrace);
    }
  }
}
