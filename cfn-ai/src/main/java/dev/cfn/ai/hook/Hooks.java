package dev.cfn.ai.hook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.AgentId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hooks of an agent type, by {@link Moment}, in the order they were added; immutable and
 * thread-safe. Tool hooks apply to the tools their glob matches ({@code file_*}, {@code
 * file_write|memory_put}, {@code *}).
 *
 * <pre>{@code
 * Hooks hooks = Hooks.builder()
 *     .preTool("file_write", CommandHook.builder("./check-write").timeout(Duration.ofSeconds(5)).build())
 *     .postEdit(PostEditPipeline.builder()
 *         .language(PostEditPipeline.Language.builder("python", "py")
 *             .format("ruff", "format", "{file}").lint("ruff", "check", "{file}").build())
 *         .build())
 *     .preTask(event -> HookOutcome.proceed())
 *     .build();
 * LlmAgent.builder(definition).router(router).tools(registry).hooks(hooks).register(rt, "coder");
 * }</pre>
 *
 * <p>The {@code before}/{@code after} methods are what the agent loop ({@code LlmAgent}) and the
 * {@code ToolExecutor} call: each runs the matching hooks in order on the calling thread. At a
 * {@code PRE_} moment the first hook that blocks (or throws) ends the run and its message is
 * returned; the later hooks do not run. At the other moments every matching hook runs, and what
 * they say (feedback, or a failure) is joined into the text the agent sees.
 */
public final class Hooks {
  private static final Logger LOG = LoggerFactory.getLogger(Hooks.class);
  private static final Hooks NONE = new Hooks(List.of());

  /** One hook at one moment, for the tools {@code glob} matches (null: not a tool moment). */
  private record Entry(Moment moment, ToolGlob glob, Hook hook) {
    boolean appliesTo(Moment m, String tool) {
      return moment == m && (glob == null || glob.matches(tool));
    }
  }

  private final List<Entry> entries;

  private Hooks(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /** No hooks. */
  public static Hooks none() {
    return NONE;
  }

  /** A builder with no hooks yet. */
  public static Builder builder() {
    return new Builder();
  }

  /** Whether there is no hook at all. */
  public boolean isEmpty() {
    return entries.isEmpty();
  }

  /** How many hooks there are at {@code moment}. */
  public int count(Moment moment) {
    return (int) entries.stream().filter(e -> e.moment == moment).count();
  }

  /**
   * Runs the pre-task hooks.
   *
   * @return the message of the hook that blocked the task, or empty when it may start
   */
  public Optional<String> beforeTask(AgentId agent, String task) {
    return before(new HookEvent.PreTask(agent, task), "");
  }

  /** Runs the post-task hooks; they observe only, so their failures are logged. */
  public void afterTask(AgentId agent, String task, boolean succeeded, String result) {
    String said = after(new HookEvent.PostTask(agent, task, succeeded, result), "");
    if (!said.isEmpty()) {
      LOG.info("agent {}: post-task hooks: {}", agent, said);
    }
  }

  /**
   * Runs the pre-tool hooks whose glob matches {@code tool}.
   *
   * @return the message of the hook that blocked the call, or empty when it may run
   */
  public Optional<String> beforeTool(AgentId agent, String tool, JsonNode arguments) {
    return before(new HookEvent.PreTool(agent, tool, arguments), tool);
  }

  /**
   * Runs the post-tool hooks whose glob matches {@code tool}.
   *
   * @return what they said, one line per hook that said something; empty when nothing
   */
  public String afterTool(
      AgentId agent, String tool, JsonNode arguments, String result, boolean isError) {
    return after(new HookEvent.PostTool(agent, tool, arguments, result, isError), tool);
  }

  /**
   * Runs the post-edit hooks for a file a built-in file tool wrote.
   *
   * @return what they said (such as a check report); empty when nothing
   */
  public String afterEdit(AgentId agent, String tool, Path workspace, String path) {
    return after(new HookEvent.PostEdit(agent, tool, workspace, path), tool);
  }

  private Optional<String> before(HookEvent event, String tool) {
    for (Entry e : entries) {
      if (!e.appliesTo(event.moment(), tool)) {
        continue;
      }
      HookOutcome outcome = run(e.hook, event);
      if (outcome.blocked()) {
        LOG.info(
            "agent {}: {} hook {} blocked {}: {}",
            event.agent(),
            event.moment().label(),
            name(e.hook),
            tool.isEmpty() ? "the task" : "tool " + tool,
            outcome.message());
        return Optional.of(
            "the "
                + event.moment().label()
                + " hook "
                + name(e.hook)
                + " blocked it: "
                + outcome.message());
      }
    }
    return Optional.empty();
  }

  private String after(HookEvent event, String tool) {
    StringBuilder said = new StringBuilder();
    for (Entry e : entries) {
      if (!e.appliesTo(event.moment(), tool)) {
        continue;
      }
      HookOutcome outcome = run(e.hook, event);
      if (outcome.message().isEmpty()) {
        continue;
      }
      if (!said.isEmpty()) {
        said.append('\n');
      }
      said.append('[')
          .append(event.moment().label())
          .append(" hook ")
          .append(name(e.hook))
          .append(outcome.blocked() ? " failed" : "")
          .append("]\n")
          .append(outcome.message());
    }
    return said.toString();
  }

  /** Runs one hook; an exception or a null outcome is a failure naming it. */
  private static HookOutcome run(Hook hook, HookEvent event) {
    try {
      HookOutcome outcome = hook.run(event);
      return outcome != null
          ? outcome
          : HookOutcome.block("the hook " + name(hook) + " returned no outcome");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return HookOutcome.block("the hook " + name(hook) + " was interrupted");
    } catch (Exception | LinkageError e) {
      LOG.warn("agent {}: hook {} threw", event.agent(), name(hook), e);
      return HookOutcome.block(
          "the hook "
              + name(hook)
              + " failed: "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
  }

  private static String name(Hook hook) {
    return switch (hook) {
      case CommandHook c -> c.name();
      case PostEditPipeline p -> "post-edit checks";
      default -> "(Java callback)";
    };
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("Hooks[");
    for (Moment m : Moment.values()) {
      int n = count(m);
      if (n > 0) {
        s.append(s.length() > 6 ? ", " : "").append(m.label()).append('=').append(n);
      }
    }
    return s.append(']').toString();
  }

  /** Builds {@link Hooks}. */
  public static final class Builder {
    private final List<Entry> entries = new ArrayList<>();

    private Builder() {}

    /** Adds a hook run before each task; blocking fails the task with the hook's message. */
    public Builder preTask(Hook hook) {
      return add(Moment.PRE_TASK, null, hook);
    }

    /** Adds a hook run after each task, answered or failed. */
    public Builder postTask(Hook hook) {
      return add(Moment.POST_TASK, null, hook);
    }

    /**
     * Adds a hook run before each call of a tool {@code toolGlob} matches; blocking refuses the
     * call with an error result the model reads, and the tool does not run.
     */
    public Builder preTool(String toolGlob, Hook hook) {
      return add(Moment.PRE_TOOL, ToolGlob.of(toolGlob), hook);
    }

    /** Adds a hook run after each call of a tool {@code toolGlob} matches. */
    public Builder postTool(String toolGlob, Hook hook) {
      return add(Moment.POST_TOOL, ToolGlob.of(toolGlob), hook);
    }

    /** Adds a hook run after each successful write by a built-in file tool. */
    public Builder postEdit(Hook hook) {
      return add(Moment.POST_EDIT, null, hook);
    }

    /**
     * Adds {@code hook} at {@code moment}; {@code toolGlob} is required for the tool moments and
     * ignored for the others.
     */
    public Builder on(Moment moment, String toolGlob, Hook hook) {
      Objects.requireNonNull(moment, "moment");
      boolean toolMoment = moment == Moment.PRE_TOOL || moment == Moment.POST_TOOL;
      return add(moment, toolMoment ? ToolGlob.of(toolGlob) : null, hook);
    }

    /** Adds every hook of {@code hooks}, after those added so far. */
    public Builder addAll(Hooks hooks) {
      entries.addAll(Objects.requireNonNull(hooks, "hooks").entries);
      return this;
    }

    private Builder add(Moment moment, ToolGlob glob, Hook hook) {
      entries.add(new Entry(moment, glob, Objects.requireNonNull(hook, "hook")));
      return this;
    }

    /** The hooks. */
    public Hooks build() {
      return entries.isEmpty() ? NONE : new Hooks(entries);
    }
  }
}
