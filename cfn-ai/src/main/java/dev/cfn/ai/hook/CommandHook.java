package dev.cfn.ai.hook;

import dev.cfn.ai.process.ProcessRequest;
import dev.cfn.ai.process.ProcessResult;
import dev.cfn.ai.process.ProcessSpec;
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

/**
 * A hook that runs a command: the event goes to its stdin as one JSON object ({@link
 * HookEvent#toJson()}); exit code 0 lets the action go on, and what it printed on stdout is the
 * feedback the agent sees (after a tool call or an edit); any other exit, a timeout or a command
 * that cannot start is a failure, whose message (stderr, else stdout) blocks a {@code PRE_} action
 * and is reported as feedback after one.
 *
 * <p>The command is an argument vector, run without a shell: {@code builder("ruff", "check",
 * "{file}")}. A shell runs only when asked for with {@link #shell(String)}. Every run goes through
 * {@code dev.cfn.ai.process} ({@link ProcessSpec#runOnce}): a session of its own, the process tree
 * killed (SIGTERM, then SIGKILL) at the timeout and whatever it left running killed when it exits,
 * stdout and stderr bounded, and an environment made of an allow-list only ({@link
 * ProcessSpec#DEFAULT_INHERITED_ENV} unless told otherwise, never the whole JVM environment, so API
 * keys stay out), plus {@code CFN_HOOK_EVENT} (the moment), {@code CFN_AGENT}, and {@code
 * CFN_TOOL}, {@code CFN_FILE} or {@code TASK} (the prompt, at most {@value #MAX_TASK_ENV_CHARS}
 * characters) when the event has them. {@value #FILE_PLACEHOLDER} in an argument is replaced by the
 * edited file's absolute path (post-edit events; empty otherwise).
 *
 * <p>It runs in {@link Builder#workingDirectory}, by default the workspace for a post-edit event
 * and the JVM's working directory otherwise.
 */
public final class CommandHook implements Hook {
  /** How long a hook command may run unless the builder says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** The most bytes of stdout, and of stderr, kept unless the builder says otherwise: 16 KiB. */
  public static final int DEFAULT_MAX_OUTPUT_BYTES = 16 << 10;

  /** Replaced in every argument by the edited file's absolute path. */
  public static final String FILE_PLACEHOLDER = "{file}";

  /** The longest prompt put in {@code TASK}; a longer one is cut. */
  public static final int MAX_TASK_ENV_CHARS = 32 << 10;

  private final List<String> command;
  private final String name;
  private final Path workingDirectory; // null: see the class comment
  private final Duration timeout;
  private final int maxOutputBytes;
  private final Set<String> inherited;
  private final Map<String, String> explicit;
  private final Map<String, String> parent;

  private CommandHook(Builder b) {
    this.command = List.copyOf(b.command);
    this.name = b.name != null ? b.name : b.shell ? "shell hook" : "'" + b.command.get(0) + "'";
    this.workingDirectory = b.workingDirectory;
    this.timeout = b.timeout;
    this.maxOutputBytes = b.maxOutputBytes;
    this.inherited = Set.copyOf(b.inherited);
    this.explicit = Map.copyOf(b.explicit);
    this.parent = b.parent;
  }

  /**
   * A builder for a command given as the program and its arguments, run without a shell.
   *
   * @param command the program, then its arguments
   * @return the builder
   */
  public static Builder builder(String... command) {
    return builder(List.of(command));
  }

  /**
   * A builder for a command given as the program and its arguments, run without a shell.
   *
   * @param command the program, then its arguments
   * @return the builder
   */
  public static Builder builder(List<String> command) {
    return new Builder(command, false);
  }

  /**
   * A builder for a shell script, run by {@code /bin/sh -c script}: only when the hook is written
   * as shell text, as claude-flow-novice's snippets are.
   *
   * @param script the script
   * @return the builder
   */
  public static Builder shell(String script) {
    Objects.requireNonNull(script, "script");
    return new Builder(List.of("/bin/sh", "-c", script), true);
  }

  /** The hook's name in messages: given, else the program's. */
  public String name() {
    return name;
  }

  @Override
  public HookOutcome run(HookEvent event) {
    ProcessResult r = execute(event, command);
    if (r.succeeded()) {
      return HookOutcome.feedback(withCut(r.stdout().strip(), r.stdoutTruncated()));
    }
    return HookOutcome.block(failure(r));
  }

  /** Runs the command for {@code event}, with no judgement of the result. */
  ProcessResult runFor(HookEvent event) {
    return execute(event, command);
  }

  /** The program, without its arguments. */
  String program() {
    return command.get(0);
  }

  /**
   * Runs {@code argv} for {@code event} with this hook's settings; used by {@link PostEditPipeline}
   * for its steps.
   */
  ProcessResult execute(HookEvent event, List<String> argv) {
    String file = event instanceof HookEvent.PostEdit e ? e.file().toString() : "";
    List<String> cmd = new ArrayList<>(argv.size());
    for (String arg : argv) {
      cmd.add(arg.replace(FILE_PLACEHOLDER, file));
    }
    ProcessSpec.Builder spec =
        ProcessSpec.builder(cmd)
            .workingDirectory(directoryFor(event))
            .timeout(timeout)
            .maxStdoutBytes(maxOutputBytes)
            .maxStderrBytes(maxOutputBytes)
            .parentEnvironment(parent)
            .inheritNoEnv()
            .inheritEnv(inherited.toArray(String[]::new));
    explicit.forEach(spec::env);
    spec.env("CFN_HOOK_EVENT", event.moment().label());
    spec.env("CFN_AGENT", event.agent().toString());
    switch (event) {
      case HookEvent.PreTask t -> spec.env("TASK", envText(t.task()));
      case HookEvent.PostTask t -> spec.env("TASK", envText(t.task()));
      case HookEvent.PreTool t -> spec.env("CFN_TOOL", t.tool());
      case HookEvent.PostTool t -> spec.env("CFN_TOOL", t.tool());
      case HookEvent.PostEdit e -> {
        spec.env("CFN_TOOL", e.tool());
        spec.env("CFN_FILE", file);
      }
    }
    return spec.build().runOnce(ProcessRequest.of(event.toJson().toString()), event.agent());
  }

  private Path directoryFor(HookEvent event) {
    if (workingDirectory != null) {
      return workingDirectory;
    }
    if (event instanceof HookEvent.PostEdit e && Files.isDirectory(e.workspace())) {
      return e.workspace();
    }
    return Path.of("").toAbsolutePath();
  }

  /** The failure of a run in words: what happened, then what the command said. */
  String failure(ProcessResult r) {
    String said =
        !r.stderrTail().isBlank()
            ? withCut(r.stderrTail().strip(), r.stderrTruncated())
            : withCut(r.stdout().strip(), r.stdoutTruncated());
    String what =
        switch (r.outcome()) {
          case COMPLETED -> "the hook " + name + " exited with code " + r.exitCode();
          case TIMED_OUT ->
              "the hook "
                  + name
                  + " did not finish within "
                  + timeout
                  + " and its process tree was killed";
          default -> "the hook " + name + " failed: " + r.detail();
        };
    return said.isEmpty() ? what : what + ": " + said;
  }

  private static String withCut(String text, boolean truncated) {
    return truncated ? text + "\n[output cut at the hook's limit]" : text;
  }

  /** Text fit for an environment variable: cut, without NUL. */
  private static String envText(String text) {
    String t = text.length() > MAX_TASK_ENV_CHARS ? text.substring(0, MAX_TASK_ENV_CHARS) : text;
    return t.replace('\0', ' ');
  }

  /** Shows the name, the argument count and the variable names; never arguments or values. */
  @Override
  public String toString() {
    return "CommandHook["
        + name
        + ", args="
        + (command.size() - 1)
        + ", timeout="
        + timeout
        + ", env="
        + inherited
        + "+"
        + explicit.keySet()
        + "]";
  }

  /** Builds a {@link CommandHook}; every setter checks at once and names the fix. */
  public static final class Builder {
    private final List<String> command;
    private final boolean shell;
    private String name;
    private Path workingDirectory;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES;
    private final Set<String> inherited = new LinkedHashSet<>(ProcessSpec.DEFAULT_INHERITED_ENV);
    private final Map<String, String> explicit = new LinkedHashMap<>();
    private Map<String, String> parent = System.getenv();

    private Builder(List<String> command, boolean shell) {
      Objects.requireNonNull(command, "command");
      if (command.isEmpty() || command.get(0) == null || command.get(0).isBlank()) {
        throw new IllegalArgumentException(
            "a hook command needs a program, e.g. builder(\"ruff\", \"check\", \"{file}\")");
      }
      for (String arg : command) {
        Objects.requireNonNull(arg, "a hook command's argument");
      }
      this.command = List.copyOf(command);
      this.shell = shell;
    }

    /** The name messages give the hook (default: its program). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** The directory the command runs in, which must exist. */
    public Builder workingDirectory(Path dir) {
      Objects.requireNonNull(dir, "dir");
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(
            "hook working directory " + dir + " is not a directory; create it or fix the path");
      }
      this.workingDirectory = dir.toAbsolutePath();
      return this;
    }

    /** How long one run may take ({@link #DEFAULT_TIMEOUT} by default); then its tree is killed. */
    public Builder timeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("a hook's timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** The most bytes of stdout, and of stderr, kept ({@link #DEFAULT_MAX_OUTPUT_BYTES}). */
    public Builder maxOutputBytes(int bytes) {
      if (bytes < 1 || bytes > ProcessSpec.MAX_OUTPUT_BOUND) {
        throw new IllegalArgumentException(
            "maxOutputBytes is " + bytes + "; use 1 to " + ProcessSpec.MAX_OUTPUT_BOUND);
      }
      this.maxOutputBytes = bytes;
      return this;
    }

    /** Adds variables of the JVM's environment the command may see. */
    public Builder inheritEnv(String... names) {
      for (String n : names) {
        if (n == null || n.isEmpty() || n.indexOf('=') >= 0 || n.indexOf('\0') >= 0) {
          throw new IllegalArgumentException(
              "environment variable name '" + n + "' is invalid: use a name without '=' or NUL");
        }
        inherited.add(n);
      }
      return this;
    }

    /** Empties the allow-list, defaults included: the command sees only variables set here. */
    public Builder inheritNoEnv() {
      inherited.clear();
      return this;
    }

    /** Sets {@code name} to {@code value} in the command's environment. */
    public Builder env(String name, String value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      explicit.put(name, value);
      return this;
    }

    /** The environment the allow-list picks from ({@link System#getenv()} by default). */
    public Builder parentEnvironment(Map<String, String> parentEnv) {
      this.parent = Map.copyOf(Objects.requireNonNull(parentEnv, "parentEnv"));
      return this;
    }

    /** The hook. */
    public CommandHook build() {
      explicit.forEach((k, v) -> ProcessSpec.builder(command).env(k, v)); // names the bad one
      return new CommandHook(this);
    }
  }
}
