package dev.cfn.ai.tool;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.ToolSpec;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Runs the tool calls of one agent: the only way from a model's {@link ToolCall} to a {@link Tool}.
 * Each call goes through the same steps, each of which can end it with an error result for the
 * model (never an exception for the agent):
 *
 * <ol>
 *   <li><b>permission</b>: a tool the agent's {@link ToolPermissions} do not allow is refused,
 *       whether or not it exists (outcome {@code denied});
 *   <li><b>lookup</b>: a tool that is not registered is refused (outcome {@code invalid});
 *   <li><b>validation</b>: arguments that are not a JSON object (the model sent broken JSON) or do
 *       not match the tool's input schema are refused with every problem listed (outcome {@code
 *       invalid}); the tool is not run;
 *   <li><b>pre-tool hooks</b> ({@link Builder#hooks}) whose glob matches the tool: one that blocks
 *       refuses the call with its message (outcome {@code denied}); the tool is not run;
 *   <li><b>run</b> on a virtual thread with a timeout: on timeout the thread is interrupted; an
 *       exception or an error result is outcome {@code error}, anything else {@code ok};
 *   <li><b>post-edit hooks</b>, after a successful write of a built-in file tool, then <b>post-tool
 *       hooks</b>: what they say is added to the result the model reads.
 * </ol>
 *
 * Every call, whatever its outcome, is recorded in the {@link ToolAudit}. {@link #specs()} offers
 * the model only the tools it may use.
 *
 * <pre>{@code
 * ToolExecutor tools = ToolExecutor.builder(registry, AgentId.of("coder", "1"))
 *     .permissions(ToolPermissions.forDefinition(definition))
 *     .audit(audit)
 *     .build();
 * ChatRequest request = ... tools.specs() ...;
 * for (ToolCall call : response.toolCalls()) {
 *   ToolResult result = tools.execute(call, ctx);   // inside the agent's handler
 * }
 * }</pre>
 *
 * <p>{@code execute} blocks until the result: call it from a blocking agent type (virtual threads),
 * not from a dispatcher carrier. Thread-safe.
 */
public final class ToolExecutor {
  /** How long a call may run unless the builder says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /** The longest result text passed to the model unless the builder says otherwise. */
  public static final int DEFAULT_MAX_RESULT_CHARS = 100_000;

  private final ToolRegistry registry;
  private final AgentId agent;
  private final String swarm;
  private final String project;
  private final ToolPermissions permissions;
  private final ToolAudit audit;
  private final Duration timeout;
  private final int maxResultChars;
  private final Hooks hooks;

  private ToolExecutor(Builder b) {
    this.registry = b.registry;
    this.agent = b.agent;
    this.swarm = b.swarm;
    this.project = b.project;
    this.permissions = b.permissions;
    this.audit = b.audit;
    this.timeout = b.timeout;
    this.maxResultChars = b.maxResultChars;
    this.hooks = b.hooks;
  }

  /**
   * A builder for the executor of {@code agent}'s calls on {@code registry}'s tools. Without {@link
   * Builder#permissions} the agent may use no tool.
   */
  public static Builder builder(ToolRegistry registry, AgentId agent) {
    return new Builder(registry, agent);
  }

  /** The agent whose calls this executor runs. */
  public AgentId agent() {
    return agent;
  }

  /** The audit every call is recorded in. */
  public ToolAudit audit() {
    return audit;
  }

  /**
   * The specs of the registered tools the agent may use, in name order: what the model is offered.
   */
  public List<ToolSpec> specs() {
    if (registry.isEmpty()) {
      return List.of(); // an agent without tools asks on every task: no stream, no sort
    }
    return registry.tools().stream()
        .filter(t -> permissions.permits(t.name()))
        .map(Tool::spec)
        .toList();
  }

  /**
   * Whether the tool named {@code tool} has side effects ({@link Tool#sideEffecting()}); true for a
   * tool that is not registered, which is the safe answer for callers that record results.
   */
  public boolean sideEffecting(String tool) {
    return registry.find(tool).map(Tool::sideEffecting).orElse(true);
  }

  /** Runs {@code call} outside a message handler: tools that send messages will refuse. */
  public ToolResult execute(ToolCall call) {
    return execute(call, null);
  }

  /**
   * Runs {@code call} as described in the class comment, and records it.
   *
   * @param call the model's call
   * @param agentContext the agent's context when called from its handler, else null
   * @return the result for the model; refusals and failures are error results
   */
  public ToolResult execute(ToolCall call, AgentContext agentContext) {
    Objects.requireNonNull(call, "call");
    Instant at = Instant.now();
    long start = System.nanoTime();
    String name = call.name();
    ToolRegistry.Registered entry = registry.entry(name);
    if (!permissions.permits(name)) {
      record(at, start, call, entry != null, ToolAudit.Outcome.DENIED, "not in the agent's tools");
      return ToolResult.error(
          "Permission denied: agent "
              + agent
              + " may not use the tool '"
              + name
              + "'. The tool was not run. Use only the tools you were offered.");
    }
    if (entry == null) {
      record(at, start, call, false, ToolAudit.Outcome.INVALID, "no such tool");
      return ToolResult.error(
          "There is no tool named '"
              + name
              + "'. The tools you may use are: "
              + specs().stream().map(ToolSpec::name).collect(Collectors.joining(", "))
              + ".");
    }
    JsonNode arguments = call.arguments();
    if (arguments.isTextual()) {
      record(at, start, call, true, ToolAudit.Outcome.INVALID, "arguments are not a JSON object");
      return ToolResult.error(
          "The arguments for tool '"
              + name
              + "' are not a JSON object"
              + parseError(arguments.asText())
              + ". The tool was not run. Call it again with one JSON object that matches its input"
              + " schema.");
    }
    List<ArgumentSchema.Problem> problems = entry.schema().check(arguments);
    if (!problems.isEmpty()) {
      record(
          at,
          start,
          call,
          true,
          ToolAudit.Outcome.INVALID,
          "schema: "
              + problems.stream()
                  .map(ArgumentSchema.Problem::summary)
                  .collect(Collectors.joining(", ")));
      StringBuilder message =
          new StringBuilder("The arguments for tool '")
              .append(name)
              .append("' do not match its input schema, so the tool was not run:");
      for (ArgumentSchema.Problem p : problems) {
        message.append("\n- ").append(p.message());
      }
      message.append("\nFix the arguments and call the tool again.");
      return ToolResult.error(message.toString());
    }
    if (!hooks.isEmpty()) {
      Optional<String> blocked = hooks.beforeTool(agent, name, arguments);
      if (blocked.isPresent()) {
        record(at, start, call, true, ToolAudit.Outcome.DENIED, "blocked by a pre-tool hook");
        return ToolResult.error(
            "The tool '"
                + name
                + "' was not run: "
                + blocked.get()
                + "\nDo not repeat the same call; change it as the message says, or go on without"
                + " it.");
      }
    }
    CallScopedContext scoped =
        agentContext == null ? null : new CallScopedContext(agentContext, name);
    ToolContext context =
        new ToolContext(agent, swarm, project, scoped, Instant.now().plus(timeout));
    Ran ran;
    try {
      ran = run(entry.tool(), arguments, context, scoped);
    } finally {
      if (scoped != null) {
        scoped.close();
      }
    }
    record(at, start, call, true, ran.outcome(), ran.detail());
    ToolResult result = truncated(ran.result());
    return hooks.isEmpty() ? result : afterHooks(entry.tool(), call, ran, result);
  }

  /** The result with what the post-edit and post-tool hooks said added to it. */
  private ToolResult afterHooks(Tool tool, ToolCall call, Ran ran, ToolResult result) {
    StringBuilder said = new StringBuilder();
    if (ran.outcome() == ToolAudit.Outcome.OK && tool instanceof FileEditingTool editing) {
      said.append(
          hooks.afterEdit(
              agent, call.name(), editing.workspace(), editing.editedPath(call.arguments())));
    }
    String afterTool =
        hooks.afterTool(agent, call.name(), call.arguments(), result.content(), result.isError());
    if (!afterTool.isEmpty()) {
      said.append(said.isEmpty() ? "" : "\n").append(afterTool);
    }
    return said.isEmpty()
        ? result
        : new ToolResult(result.content() + "\n\n" + said, result.isError());
  }

  /** A call's result with its outcome and the audit's words for it. */
  private record Ran(ToolResult result, ToolAudit.Outcome outcome, String detail) {}

  private Ran run(Tool tool, JsonNode arguments, ToolContext context, CallScopedContext scoped) {
    FutureTask<ToolResult> task = new FutureTask<>(() -> tool.call(arguments, context));
    Thread.ofVirtual().name("cfn-tool-" + tool.name()).start(task);
    try {
      ToolResult result = task.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      if (result == null) {
        return new Ran(
            ToolResult.error("The tool '" + tool.name() + "' returned no result."),
            ToolAudit.Outcome.ERROR,
            "returned null");
      }
      return result.isError()
          ? new Ran(result, ToolAudit.Outcome.ERROR, "the tool returned an error result")
          : new Ran(result, ToolAudit.Outcome.OK, "");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof ToolRefusedException refused) {
        return new Ran(
            ToolResult.error(refused.getMessage()),
            ToolAudit.Outcome.DENIED,
            refused.auditDetail());
      }
      return new Ran(
          ToolResult.error(
              "The tool '"
                  + tool.name()
                  + "' failed: "
                  + cause.getClass().getSimpleName()
                  + (cause.getMessage() == null ? "" : ": " + cause.getMessage())),
          ToolAudit.Outcome.ERROR,
          "threw " + cause.getClass().getName());
    } catch (TimeoutException e) {
      if (scoped != null) {
        scoped.close(); // before the interrupt, so the abandoned tool cannot act as the agent
      }
      task.cancel(true);
      return new Ran(
          ToolResult.error(
              "The tool '"
                  + tool.name()
                  + "' did not finish within "
                  + timeout
                  + " and was interrupted"
                  + (tool.sideEffecting() ? "; it may have done part of its work" : "")
                  + "."),
          ToolAudit.Outcome.ERROR,
          "timed out after " + timeout);
    } catch (InterruptedException e) {
      if (scoped != null) {
        scoped.close();
      }
      task.cancel(true);
      Thread.currentThread().interrupt();
      return new Ran(
          ToolResult.error("The call of tool '" + tool.name() + "' was interrupted."),
          ToolAudit.Outcome.ERROR,
          "caller interrupted");
    } catch (CancellationException e) {
      return new Ran(
          ToolResult.error("The call of tool '" + tool.name() + "' was cancelled."),
          ToolAudit.Outcome.ERROR,
          "cancelled");
    }
  }

  private ToolResult truncated(ToolResult result) {
    String content = result.content();
    if (content.length() <= maxResultChars) {
      return result;
    }
    return new ToolResult(
        content.substring(0, maxResultChars)
            + "\n[truncated: "
            + (content.length() - maxResultChars)
            + " more characters]",
        result.isError());
  }

  private void record(
      Instant at,
      long start,
      ToolCall call,
      boolean knownTool,
      ToolAudit.Outcome outcome,
      String detail) {
    audit.record(
        new ToolAudit.Entry(
            at,
            agent,
            call.id(),
            call.name(),
            outcome,
            detail,
            Duration.ofNanos(System.nanoTime() - start)),
        knownTool);
  }

  /** Jackson's words for why {@code raw} is not JSON, for the model (it sent the text). */
  private static String parseError(String raw) {
    try {
      JsonNode parsed = ToolJson.MAPPER.readTree(raw);
      return parsed == null ? " (they are empty)" : " (they are JSON " + parsed.getNodeType() + ")";
    } catch (JsonProcessingException e) {
      return " (they are not valid JSON: " + e.getOriginalMessage() + ")";
    }
  }

  /** Builds a {@link ToolExecutor}. */
  public static final class Builder {
    private final ToolRegistry registry;
    private final AgentId agent;
    private String swarm;
    private String project;
    private ToolPermissions permissions = ToolPermissions.none();
    private ToolAudit audit;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int maxResultChars = DEFAULT_MAX_RESULT_CHARS;
    private Hooks hooks = Hooks.none();

    private Builder(ToolRegistry registry, AgentId agent) {
      this.registry = Objects.requireNonNull(registry, "registry");
      this.agent = Objects.requireNonNull(agent, "agent");
    }

    /** The agent's swarm (memory access, {@link ToolContext#swarm()}); none by default. */
    public Builder swarm(String swarm) {
      this.swarm = swarm;
      return this;
    }

    /** The agent's project (memory access, {@link ToolContext#project()}); none by default. */
    public Builder project(String project) {
      this.project = project;
      return this;
    }

    /** The tools the agent may use; none by default. */
    public Builder permissions(ToolPermissions permissions) {
      this.permissions = Objects.requireNonNull(permissions, "permissions");
      return this;
    }

    /** Where calls are recorded; a fresh in-memory audit without metrics by default. */
    public Builder audit(ToolAudit audit) {
      this.audit = Objects.requireNonNull(audit, "audit");
      return this;
    }

    /** How long one call may run; {@link #DEFAULT_TIMEOUT} by default. */
    public Builder timeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("tool timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * The longest result text passed on; longer ones are cut with a note saying how much was left
     * out. {@link #DEFAULT_MAX_RESULT_CHARS} by default.
     */
    public Builder maxResultChars(int maxResultChars) {
      if (maxResultChars < 1) {
        throw new IllegalArgumentException(
            "maxResultChars must be 1 or more, got " + maxResultChars);
      }
      this.maxResultChars = maxResultChars;
      return this;
    }

    /**
     * The hooks run around each call: pre-tool (may refuse it), post-tool and post-edit (add to the
     * result the model reads); none by default. Only the tool moments are used here; pre-task and
     * post-task hooks are the agent loop's.
     */
    public Builder hooks(Hooks hooks) {
      this.hooks = Objects.requireNonNull(hooks, "hooks");
      return this;
    }

    /** The executor. */
    public ToolExecutor build() {
      if (audit == null) {
        audit = new ToolAudit();
      }
      return new ToolExecutor(this);
    }
  }
}
