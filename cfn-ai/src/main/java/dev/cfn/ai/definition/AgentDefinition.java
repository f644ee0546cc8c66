package dev.cfn.ai.definition;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An agent as a Markdown file describes it: YAML frontmatter between {@code ---} lines, then the
 * system prompt. The fields are those of Claude Code's {@code .claude/agents/**}{@code /*.md}
 * ({@code name}, {@code description}, {@code tools}, {@code model}, {@code color}) and
 * claude-flow-novice's additions ({@code provider}, {@code type}, {@code capabilities}, {@code
 * priority}, {@code hooks}, {@code lifecycle}), and Claude Code's {@code maxTurns}, read into
 * {@link Lifecycle#maxTurns()}; anything else the file says is kept in {@link #extra()}, so nothing
 * written is lost. Read files with {@link DefinitionLoader}, which reports every problem with its
 * line instead of throwing at the first.
 *
 * <p>Values are immutable; lists and maps are unmodifiable copies.
 *
 * @param name the agent's identifier: lowercase letters and digits in groups joined by single
 *     hyphens or dots ({@link #isValidName(String)}), unique among the definitions loaded together
 * @param description when to use the agent; Claude Code routes tasks by it
 * @param tools the tools the agent may use, in the file's order; {@code ["*"]} ({@link #ALL_TOOLS})
 *     when the file says {@code tools: "*"}; empty when the file has no {@code tools} field or says
 *     {@code tools: []}: cfn denies by default, where Claude Code would give an agent without a
 *     {@code tools} line every tool (the loader warns about such files)
 * @param model a model alias ({@code sonnet}, {@code opus}, {@code haiku}, {@code inherit}) or a
 *     full model id; null when the file does not say (Claude Code then inherits the caller's)
 * @param provider the model provider (claude-flow-novice), or null
 * @param type the agent's kind, such as {@code coordinator} or {@code specialist}, or null
 * @param capabilities what the agent is good at, in the file's order; empty when not given
 * @param priority how urgent the agent's work is, or null when not given
 * @param hooks claude-flow-novice's shell snippets by moment ({@code pre}, {@code post}) or Claude
 *     Code's structured hooks; values are strings, lists or maps as written; empty when not given
 * @param lifecycle retry, turn and timeout limits; {@link Lifecycle#NONE} when not given
 * @param color the display color Claude Code shows the agent in, or null
 * @param systemPrompt the Markdown body after the closing {@code ---}, without its leading blank
 *     lines and trailing whitespace
 * @param extra fields this model does not know, by name ({@code lifecycle.pre_task} for an unknown
 *     key inside a known map), with their YAML values (strings, numbers, booleans, lists, maps, or
 *     null)
 * @param source the file the definition came from
 */
public record AgentDefinition(
    String name,
    String description,
    List<String> tools,
    String model,
    String provider,
    String type,
    List<String> capabilities,
    Priority priority,
    Map<String, Object> hooks,
    Lifecycle lifecycle,
    String color,
    String systemPrompt,
    Map<String, Object> extra,
    Path source) {

  /** The tool list entry that stands for every tool, as Claude Code writes it. */
  public static final String ALL_TOOLS = "*";

  /** The model aliases Claude Code accepts in an agent file. */
  public static final List<String> MODEL_ALIASES = List.of("sonnet", "opus", "haiku", "inherit");

  private static final Pattern NAME = Pattern.compile("[a-z0-9]+(?:[.-][a-z0-9]+)*");

  /** How urgent an agent's work is (claude-flow-novice's {@code priority} field). */
  public enum Priority {
    /** Background work. */
    LOW,
    /** Ordinary work. */
    MEDIUM,
    /** Urgent work. */
    HIGH,
    /** Work that must not wait. */
    CRITICAL;

    /** The word the files use: {@code low}, {@code medium}, {@code high} or {@code critical}. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The mailbox lane for this agent's messages on the cfn runtime: {@code medium} is the
     * runtime's {@link dev.cfn.core.Priority#NORMAL}, the others have the same name.
     */
    public dev.cfn.core.Priority messagePriority() {
      return switch (this) {
        case LOW -> dev.cfn.core.Priority.LOW;
        case MEDIUM -> dev.cfn.core.Priority.NORMAL;
        case HIGH -> dev.cfn.core.Priority.HIGH;
        case CRITICAL -> dev.cfn.core.Priority.CRITICAL;
      };
    }
  }

  /**
   * claude-flow-novice's {@code lifecycle} limits: how often to retry a failed task, how long one
   * may take, and how many model calls (turns) one may make. Any may be absent (null); {@link
   * #maxRetriesOr(int)}, {@link #timeoutOr(Duration)} and {@link #maxTurnsOr(int)} let the caller
   * supply its own default.
   *
   * <p>{@code max_retries} is informational in cfn: nothing re-runs a failed task by it. Model
   * calls are retried by the provider layer ({@code retry:} of the provider in the providers file),
   * and a RELIABLE message whose handler failed by the journal's retry policy. It is kept for tools
   * that read it. {@code timeout_ms} and {@code max_turns} bound each task of an {@code LlmAgent}.
   *
   * @param maxRetries {@code lifecycle.max_retries}, 0 or more, or null when not given
   *     (informational, see above)
   * @param timeout {@code lifecycle.timeout_ms} as a duration, positive, or null when not given
   * @param maxTurns the most model calls per task, 1 or more, or null when not given: {@code
   *     lifecycle.max_turns}, or Claude Code's top-level {@code maxTurns} (also read as {@code
   *     max_turns})
   */
  public record Lifecycle(Integer maxRetries, Duration timeout, Integer maxTurns) {
    /** No limits given. */
    public static final Lifecycle NONE = new Lifecycle(null, null, null);

    /** Checks that the limits, when given, make sense. */
    public Lifecycle {
      if (maxRetries != null && maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be 0 or more, got " + maxRetries);
      }
      if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      }
      if (maxTurns != null && maxTurns < 1) {
        throw new IllegalArgumentException("maxTurns must be 1 or more, got " + maxTurns);
      }
    }

    /**
     * Limits without a turn limit.
     *
     * @param maxRetries the retry limit, or null
     * @param timeout the timeout, or null
     */
    public Lifecycle(Integer maxRetries, Duration timeout) {
      this(maxRetries, timeout, null);
    }

    /** The turn limit, or {@code fallback} when the file gives none. */
    public int maxTurnsOr(int fallback) {
      return maxTurns == null ? fallback : maxTurns;
    }

    /** The retry limit, or {@code fallback} when the file gives none. */
    public int maxRetriesOr(int fallback) {
      return maxRetries == null ? fallback : maxRetries;
    }

    /** The timeout, or {@code fallback} when the file gives none. */
    public Duration timeoutOr(Duration fallback) {
      return timeout == null ? fallback : timeout;
    }
  }

  /**
   * Checks the required parts and makes unmodifiable copies of the collections.
   *
   * @throws IllegalArgumentException if the name breaks {@link #isValidName(String)} or the
   *     description is blank
   */
  public AgentDefinition {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(systemPrompt, "systemPrompt");
    Objects.requireNonNull(source, "source");
    if (!isValidName(name)) {
      throw new IllegalArgumentException(
          "agent name '"
              + name
              + "' is invalid: use lowercase letters and digits joined by single hyphens or dots,"
              + " such as code-reviewer");
    }
    if (description.isBlank()) {
      throw new IllegalArgumentException(
          "agent '" + name + "' has a blank description: say when to use the agent");
    }
    tools = tools == null ? List.of() : List.copyOf(tools);
    capabilities = capabilities == null ? List.of() : List.copyOf(capabilities);
    hooks = hooks == null ? Map.of() : deepCopy(hooks);
    lifecycle = lifecycle == null ? Lifecycle.NONE : lifecycle;
    extra = extra == null ? Map.of() : deepCopy(extra);
  }

  /**
   * Whether {@code name} is a valid agent name: lowercase letters and digits in groups joined by
   * single hyphens or dots ({@code code-reviewer}, {@code tdd-london-swarm}, {@code v2}, {@code
   * powershell-5.1-expert}).
   *
   * <p>Claude Code's documentation asks for lowercase letters and hyphens, but Claude Code itself
   * loads any text as a name except one with a {@code :} (refused since 2.1.218: the colon is
   * reserved for plugin-scoped names such as {@code my-plugin:db-agent}), and public collections
   * use dots for versions. cfn accepts the dots and keeps the rest of the rule: a name is also an
   * agent id, a route glob's subject and a word in printed tables, so it holds no spaces, capitals,
   * colons or control characters.
   */
  public static boolean isValidName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /** Whether the agent may use every tool ({@code tools} absent, or containing {@code "*"}). */
  public boolean allowsAllTools() {
    return tools.contains(ALL_TOOLS);
  }

  /**
   * A short description for logs: name, source, model and tools. It leaves out the prompt, the
   * hooks and {@link #extra()}, which may hold anything, secrets included.
   */
  @Override
  public String toString() {
    return "AgentDefinition[name="
        + name
        + ", source="
        + source
        + ", model="
        + model
        + ", type="
        + type
        + ", tools="
        + tools
        + "]";
  }

  private static Map<String, Object> deepCopy(Map<String, ?> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "map key"), deepCopyValue(v)));
    return Collections.unmodifiableMap(copy);
  }

  private static Object deepCopyValue(Object v) {
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> copy = new LinkedHashMap<>();
      m.forEach((k, x) -> copy.put(String.valueOf(k), deepCopyValue(x)));
      return Collections.unmodifiableMap(copy);
    }
    if (v instanceof List<?> l) {
      List<Object> copy = new ArrayList<>(l.size());
      l.forEach(x -> copy.add(deepCopyValue(x)));
      return Collections.unmodifiableList(copy);
    }
    return v;
  }
}
