package dev.cfn.ai.hook;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.process.ProcessResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The post-edit checks claude-flow-novice ran after every file edit (format, lint, test the edited
 * file), as a hook configured per language: a {@link Language} names the file extensions it covers
 * and the command of each step, all given by the user, since which formatter or linter is installed
 * differs from machine to machine. After a built-in file tool wrote a file, the steps of its
 * language run in order (each a {@link CommandHook}: no shell, the timeout, the output limit and
 * the environment allow-list of {@link Builder#commands}), and the agent reads one JSON report:
 *
 * <pre>{@code
 * {"file":"/work/app.py","path":"app.py","language":"python","ok":false,
 *  "steps":[{"step":"format","program":"ruff","status":"passed","exitCode":0,"output":""},
 *           {"step":"lint","program":"ruff","status":"failed","exitCode":1,"output":"app.py:3:1: F401 ..."},
 *           {"step":"test","program":"pytest","status":"missing","output":"could not start 'pytest' ..."}]}
 * }</pre>
 *
 * A step's status is {@code passed} (exit 0), {@code failed} (another exit code), {@code timed_out}
 * (its process tree was killed), {@code missing} (the program could not be started: not installed,
 * not on the {@code PATH}) or {@code cancelled}. A missing program is reported, not fatal: {@code
 * ok} is true when no step failed or timed out. A file of no configured language gets no report.
 * Steps run in the workspace, with {@value CommandHook#FILE_PLACEHOLDER} replaced by the file's
 * absolute path.
 */
public final class PostEditPipeline implements Hook {
  private final List<Language> languages;
  private final Map<Language, List<CommandHook>> steps;

  private PostEditPipeline(List<Language> languages, Map<Language, List<CommandHook>> steps) {
    this.languages = List.copyOf(languages);
    this.steps = Map.copyOf(steps);
  }

  /** A builder with no language yet. */
  public static Builder builder() {
    return new Builder();
  }

  /** The languages, in the order they were added. */
  public List<Language> languages() {
    return languages;
  }

  @Override
  public HookOutcome run(HookEvent event) {
    if (!(event instanceof HookEvent.PostEdit edit)) {
      return HookOutcome.proceed();
    }
    String ext = edit.extension();
    Language language =
        languages.stream().filter(l -> l.extensions().contains(ext)).findFirst().orElse(null);
    if (language == null) {
      return HookOutcome.proceed();
    }
    ObjectNode report = EventJson.MAPPER.createObjectNode();
    report.put("file", edit.file().toString()).put("path", edit.path());
    report.put("language", language.name());
    ArrayNode results = EventJson.MAPPER.createArrayNode();
    boolean ok = true;
    List<Step> configured = language.steps();
    List<CommandHook> hooks = steps.get(language);
    for (int i = 0; i < configured.size(); i++) {
      CommandHook hook = hooks.get(i);
      ProcessResult r = hook.runFor(edit);
      String status =
          switch (r.outcome()) {
            case COMPLETED -> r.exitCode() == 0 ? "passed" : "failed";
            case TIMED_OUT -> "timed_out";
            case START_FAILED -> "missing";
            case CANCELLED -> "cancelled";
            default -> "failed";
          };
      ok &= !status.equals("failed") && !status.equals("timed_out");
      ObjectNode step = results.addObject();
      step.put("step", configured.get(i).name()).put("program", hook.program());
      step.put("status", status);
      if (r.outcome() == ProcessResult.Outcome.COMPLETED) {
        step.put("exitCode", r.exitCode());
      }
      String output =
          switch (status) {
            case "passed" -> r.stdout().strip();
            case "failed" -> (r.stdout().strip() + "\n" + r.stderrTail().strip()).strip();
            default -> hook.failure(r);
          };
      step.put("output", output);
      if (r.stdoutTruncated() || r.stderrTruncated()) {
        step.put("truncated", true);
      }
      if (Thread.currentThread().isInterrupted()) {
        break;
      }
    }
    report.put("ok", ok);
    report.set("steps", results);
    return HookOutcome.feedback(report.toString());
  }

  @Override
  public String toString() {
    return "PostEditPipeline" + languages;
  }

  /**
   * One step of a language: its name ({@code format}, {@code lint}, {@code test}, or any other) and
   * its command (program and arguments, no shell).
   *
   * @param name the step's name in the report
   * @param command the program and its arguments; {@value CommandHook#FILE_PLACEHOLDER} is the file
   */
  public record Step(String name, List<String> command) {
    /** Requires a name and a program. */
    public Step {
      Objects.requireNonNull(name, "name");
      command = List.copyOf(Objects.requireNonNull(command, "command"));
      if (name.isBlank() || command.isEmpty() || command.get(0).isBlank()) {
        throw new IllegalArgumentException(
            "a post-edit step needs a name and a program, e.g. lint: [\"ruff\", \"check\","
                + " \"{file}\"]");
      }
    }
  }

  /**
   * The checks of one language.
   *
   * @param name the language's name in the report
   * @param extensions the file extensions it covers, lowercase, without the dot
   * @param steps its steps, run in order
   */
  public record Language(String name, Set<String> extensions, List<Step> steps) {
    /** Requires a name, an extension and a step. */
    public Language {
      Objects.requireNonNull(name, "name");
      extensions = Set.copyOf(Objects.requireNonNull(extensions, "extensions"));
      steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
      if (name.isBlank() || extensions.isEmpty() || steps.isEmpty()) {
        throw new IllegalArgumentException(
            "post-edit language '"
                + name
                + "' needs a name, one file extension or more and one step or more");
      }
    }

    /**
     * A builder for language {@code name}, covering files ending in the given extensions.
     *
     * @param name the language's name, such as {@code python}
     * @param extensions file extensions without the dot, such as {@code py}
     * @return the builder
     */
    public static LanguageBuilder builder(String name, String... extensions) {
      return new LanguageBuilder(name, extensions);
    }
  }

  /** Builds a {@link Language}, step by step. */
  public static final class LanguageBuilder {
    private final String name;
    private final Set<String> extensions = new LinkedHashSet<>();
    private final List<Step> steps = new ArrayList<>();

    private LanguageBuilder(String name, String... extensions) {
      this.name = Objects.requireNonNull(name, "name");
      for (String e : extensions) {
        String x = e.strip().toLowerCase(Locale.ROOT);
        this.extensions.add(x.startsWith(".") ? x.substring(1) : x);
      }
    }

    /** Adds the format step. */
    public LanguageBuilder format(String... command) {
      return step("format", command);
    }

    /** Adds the lint step. */
    public LanguageBuilder lint(String... command) {
      return step("lint", command);
    }

    /** Adds the test step. */
    public LanguageBuilder test(String... command) {
      return step("test", command);
    }

    /** Adds a step named {@code name}. */
    public LanguageBuilder step(String name, String... command) {
      steps.add(new Step(name, List.of(command)));
      return this;
    }

    /** The language. */
    public Language build() {
      return new Language(name, extensions, steps);
    }
  }

  /** Builds a {@link PostEditPipeline}. */
  public static final class Builder {
    private final List<Language> languages = new ArrayList<>();
    private UnaryOperator<CommandHook.Builder> commands = UnaryOperator.identity();

    private Builder() {}

    /** Adds a language; a file is checked by the first language that covers its extension. */
    public Builder language(Language language) {
      languages.add(Objects.requireNonNull(language, "language"));
      return this;
    }

    /**
     * Sets what every step's command gets (timeout, output limit, environment allow-list), on a
     * {@link CommandHook.Builder}; by default {@link CommandHook}'s defaults.
     *
     * <pre>{@code
     * .commands(c -> c.timeout(Duration.ofMinutes(2)).inheritEnv("VIRTUAL_ENV"))
     * }</pre>
     */
    public Builder commands(UnaryOperator<CommandHook.Builder> settings) {
      this.commands = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /** Shorthand for a step timeout: {@code commands(c -> c.timeout(timeout))}. */
    public Builder timeout(Duration timeout) {
      UnaryOperator<CommandHook.Builder> before = commands;
      this.commands = c -> before.apply(c).timeout(timeout);
      return this;
    }

    /**
     * The pipeline.
     *
     * @throws IllegalArgumentException when no language was added
     */
    public PostEditPipeline build() {
      if (languages.isEmpty()) {
        throw new IllegalArgumentException(
            "a post-edit pipeline needs a language, e.g. language(Language.builder(\"python\","
                + " \"py\").lint(\"ruff\", \"check\", \"{file}\").build())");
      }
      Map<Language, List<CommandHook>> hooks = new LinkedHashMap<>();
      for (Language l : languages) {
        List<CommandHook> built = new ArrayList<>();
        for (Step s : l.steps()) {
          built.add(
              commands
                  .apply(
                      CommandHook.builder(s.command())
                          .name(s.name() + " (" + s.command().get(0) + ")"))
                  .build());
        }
        hooks.put(l, built);
      }
      return new PostEditPipeline(languages, hooks);
    }
  }
}
