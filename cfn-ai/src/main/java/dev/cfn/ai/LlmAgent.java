package dev.cfn.ai;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.budget.BudgetExhaustedException;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.hook.DefinitionHooks;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.model.ChatMessage;
import dev.cfn.ai.model.ChatRequest;
import dev.cfn.ai.model.ChatResponse;
import dev.cfn.ai.model.ModelException;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.RoutedModel;
import dev.cfn.ai.model.StreamListener;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.ToolSpec;
import dev.cfn.ai.model.Usage;
import dev.cfn.ai.tool.ToolAudit;
import dev.cfn.ai.tool.ToolExecutor;
import dev.cfn.ai.tool.ToolPermissions;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.ai.tool.ToolResult;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import dev.cfn.core.spi.CallLogException;
import dev.cfn.core.spi.JournalException;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent of the cfn runtime that does what an {@link AgentDefinition} describes by talking to a
 * language model: it receives a {@link Task} (or a plain string), asks the model with the
 * definition's system prompt and the tools it may use, runs the tools the model calls and feeds
 * their results back, until the model answers without calling tools; then it replies with a {@link
 * TaskResult}, or a {@link TaskFailed} when it cannot finish.
 *
 * <pre>{@code
 * try (ModelRouter router = ModelRouter.create(ModelConfig.discover(projectDir, System.getenv()));
 *     AgentRuntime rt = AgentRuntime.builder().build()) {
 *   Budget swarm = Budget.builder("swarm review").maxCostUsd("2.00").build();
 *   rt.register(LlmAgent.builder(reviewerDefinition)
 *       .router(router)
 *       .tools(registry)                       // offered: only what the definition's tools permit
 *       .budgetPerAgent(id -> Budget.builder("agent " + id).maxCalls(40).parent(swarm).build())
 *       .type("reviewer"));
 *   Envelope reply = rt.request(AgentId.of("reviewer", "1"), new Task("Review PR 42"),
 *       Duration.ofMinutes(10)).join();
 * }
 * }</pre>
 *
 * <h2>The loop</h2>
 *
 * Each turn is one model call ({@link ModelProvider#chat}; the model comes from the {@link
 * ModelRouter} by the definition's name, type, provider and model, or is given directly). The
 * request carries the definition's system prompt, the conversation so far and the specs of the
 * tools the agent's {@link ToolPermissions} allow ({@link ToolPermissions#forDefinition} by
 * default). Tool calls go through the {@link ToolExecutor}: a denied, unknown or invalid call, or a
 * failing tool, comes back to the model as an error result, never as an exception. The run ends
 * when the model answers without tool calls, or at a bound: {@link Builder#maxTurns} model calls
 * (the definition's {@code lifecycle.max_turns} or {@code maxTurns}, else {@value
 * #DEFAULT_MAX_TURNS}), after which a model still calling tools fails the task with {@link
 * TaskFailed.Kind#MAX_TURNS}; {@link Builder#maxToolCalls} tool calls per task ({@value
 * #DEFAULT_MAX_TOOL_CALLS}), beyond which calls are answered with an error telling the model to
 * finish; and the definition's {@code lifecycle.timeout_ms}.
 *
 * <h2>One deadline</h2>
 *
 * A task has one deadline: the earlier of {@code lifecycle.timeout_ms} (or {@link Builder#timeout})
 * from the task's start and the end of its budget's wall time ({@link Budget#remainingWallTime()},
 * e.g. {@code cfn run --timeout}). It is checked before each model call, and every model call is
 * sent with the time left ({@link ChatRequest#timeout()}), so that the provider cancels the request
 * in flight, its stream, its retries and their backoff when the deadline passes. The task then
 * fails with {@link TaskFailed.Kind#TIMEOUT} (or {@link TaskFailed.Kind#BUDGET_EXHAUSTED} when the
 * budget's wall time was the earlier bound), never with a retry.
 *
 * <h2>Budgets</h2>
 *
 * Before <b>every</b> model call the agent's {@link Budget} (and through it its parent, the
 * swarm's) is {@linkplain Budget#check(String) checked}; after it, charged. When a budget refuses,
 * the agent replies {@link TaskFailed.Kind#BUDGET_EXHAUSTED}, publishes a {@link BudgetExhausted}
 * event on {@link #BUDGET_TOPIC} (source: the agent's type) and stops itself, so it stops within
 * one call of the limit. Budgets are kept per agent id by the type, so they survive restarts; a
 * message to a stopped agent activates it again, and its exhausted budget refuses at once.
 *
 * <h2>Idempotency</h2>
 *
 * For a message that may be delivered again, a {@link DeliveryMode#RELIABLE} one or one carrying
 * the header {@value #IDEMPOTENCY_HEADER}, every model call and every call of a side-effecting tool
 * ({@link ToolExecutor#sideEffecting}) is recorded in the {@link CallLog} before its result is
 * used, under a key made of the agent id, the message id (or the header's value), a hash of the
 * definition's name and the task's prompt, the turn and the kind of call (and the tool call's
 * position and id). When the same message is handled again, after a handler failure or a crash,
 * recorded results are replayed instead of calling the model or the tool again (replayed calls are
 * not charged to the budget again). The hash keeps another task that arrives with a reused id (a
 * journal restored from an old backup numbers messages again) or the same header value from
 * replaying this task's answers. The log is not looked up for a message keyed by its id that
 * reaches a handler for the first time ({@link dev.cfn.core.Effects#firstDelivery()}): nothing can
 * be recorded under its keys yet. Read-only tools run again. Other messages are not recorded:
 * nothing delivers them twice, and their ids are reused by the next runtime without a journal. Use
 * a durable log ({@link CallLog#durable}) to survive crashes; the default is in memory. (A RELIABLE
 * task needs {@link Task} registered with the journal: {@code
 * SqliteJournal.builder(file).payloadType(Task.class)}.)
 *
 * <p><b>The crash window.</b> With a durable log a result is recorded, committed and fsynced,
 * before it is used (the reply, the next turn, a tool run on its strength). So after a crash (a
 * SIGKILL, a power cut) the only calls made again are those that had returned and whose records had
 * not committed yet: at most the one call (a model call or a side-effecting tool call) in flight
 * per task, whose answer nothing had used; it is paid for twice and its second answer may differ
 * from the first, which no one saw. Every call whose record committed is replayed, not repeated,
 * while its record is kept ({@code SqliteCallLogStore}'s retention, seven days by default). A reply
 * sent just before the crash may be sent again on redelivery, with the same content, since it is
 * rebuilt from the replayed calls.
 *
 * <p><b>Budgets in that window.</b> Every call made is {@linkplain Budget#charge charged} once,
 * right after it answers and before its answer is used or recorded; a replayed call is not charged.
 * A budget kept durably by its listener (a durable swarm's ledger) journals the charge before the
 * call log's record, or in the acknowledgement that commits a final answer (below). So a crash in
 * the window above loses, with the answer, at most that call's charge from the durable count (the
 * call made again is charged), and a commit that fails without a crash loses nothing: the charge
 * stays counted in memory and the listener records it by another route. The window cannot be
 * closed: no answer can be stored before it arrives, and chat APIs take no idempotency key that
 * would let the provider answer a repeated call from its first.
 *
 * <p><b>The final answer of a RELIABLE request commits with its acknowledgement.</b> When the task
 * is a {@link DeliveryMode#RELIABLE} request keyed by its message id (no {@value
 * #IDEMPOTENCY_HEADER} header) and the agent runs no hooks, the model's final answer (the call
 * without tool calls) is not written to the call log, nor anywhere else: the request's
 * acknowledgement, the transaction that also journals the reply carrying the answer, is its record.
 * The answer is used by nothing else before that commit, so the crash window is unchanged (a crash
 * before the commit repeats that one call, whose answer no one saw; after it, the request is
 * acknowledged and never handled again, so a record of the answer could never be looked up) and the
 * task costs one group commit less: a one-turn task writes nothing to the call log. (Earlier
 * versions also wrote the answer to the journal's call records ({@link
 * dev.cfn.core.Effects#recordCall}) in that transaction; nothing ever read it, and its randomly
 * keyed rows were three quarters of the pages each commit wrote, measured at 256 tasks in flight.)
 * A journal restored from an older backup has neither the acknowledgement nor the reply, so the
 * call is made again, as its effects are applied again. Every other record (a turn that called
 * tools, a side-effecting tool's result, an answer sent to an agent or handed to hooks before the
 * commit, a task keyed by the header, whose records outlive its message) is written to the call log
 * before it is used, as above.
 *
 * <p>On a RELIABLE message a retryable model failure ({@link ModelException#retryable()}), a
 * cancelled model call ({@link ModelException.Kind#CANCELLED}: the handler was interrupted, as at
 * shutdown), a call-log failure or a journal failure (a budget's charge its listener could not
 * journal, as a durable swarm's ledger does) is thrown from the handler, so that the journal
 * delivers the message again with backoff and the run resumes from its log; after the journal's
 * last attempt it is dead-lettered. Every other failure is answered with a {@link TaskFailed}.
 *
 * <h2>Replies</h2>
 *
 * A request ({@link AgentContext#request}) is answered with {@link AgentContext#reply}; any other
 * message from an agent with a message sent to that agent. Messages from outside the runtime that
 * are not requests get no answer (the outcome is logged): to get one from outside, send a request.
 * A RELIABLE request, from outside the runtime or from an agent ({@code
 * rt.request(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(task), timeout)}), needs no
 * relay agent: its reply ({@link TaskResult} or {@link TaskFailed}) is journaled with the request's
 * acknowledgement and reaches the requester even after a restart (see {@link
 * dev.cfn.core.MessageBus#request(Envelope.Builder, java.time.Duration)}); register both with the
 * journal ({@code payloadType(Task.class, TaskResult.class, TaskFailed.class)}). Replies, {@link
 * TaskResult}, {@link TaskFailed} and {@link BudgetExhausted} payloads are ignored, so two LLM
 * agents cannot answer each other forever.
 *
 * <p>The agent type is {@linkplain AgentType.Builder#blocking() blocking}: handlers run on virtual
 * threads, since a model call blocks for seconds.
 */
public final class LlmAgent implements Agent {
  /** A call that failed with TIMEOUT this close to the deadline was cut by the deadline. */
  private static final long DEADLINE_SLACK_NANOS = 50_000_000L;

  /** The topic type {@link BudgetExhausted} events are published on. */
  public static final String BUDGET_TOPIC = "cfn.budget.exhausted";

  /**
   * The message header whose value, when present, replaces the message id in idempotency keys: two
   * messages with the same value and the same prompt are the same task, and the second replays the
   * first's calls. It is the header {@link Envelope.Builder#idempotencyKey} sets, so a RELIABLE
   * message's producer key also deduplicates it in the journal.
   */
  public static final String IDEMPOTENCY_HEADER = Envelope.IDEMPOTENCY_KEY_HEADER;

  /** Model calls per task unless the builder or the definition says otherwise. */
  public static final int DEFAULT_MAX_TURNS = 16;

  /** Tool calls per task unless the builder says otherwise. */
  public static final int DEFAULT_MAX_TOOL_CALLS = 64;

  private static final Logger LOG = LoggerFactory.getLogger(LlmAgent.class);
  private static final int MAX_KEY_PART = 200;
  private static final MessageDigest SHA_256 = newSha256(); // never used itself: cloned

  private final Settings settings;
  private final AgentId self;
  private final ToolExecutor tools;
  private final Budget budget; // null: none

  private LlmAgent(Settings settings, AgentId self) {
    this.settings = settings;
    this.self = self;
    ToolExecutor.Builder b =
        ToolExecutor.builder(settings.registry, self)
            .permissions(settings.permissions)
            .audit(settings.audit)
            .swarm(settings.swarm)
            .project(settings.project)
            .hooks(settings.hooks);
    if (settings.toolTimeout != null) {
      b.timeout(settings.toolTimeout);
    }
    this.tools = b.build();
    this.budget =
        settings.budgetFactory == null
            ? null
            : settings.budgets.computeIfAbsent(self, settings.budgetFactory);
  }

  /**
   * Starts the configuration of an agent type that runs {@code definition}.
   *
   * @param definition the agent's definition: system prompt, tools, model and limits
   * @return the builder
   */
  public static Builder builder(AgentDefinition definition) {
    return new Builder(definition);
  }

  /**
   * Shorthand for {@code builder(definition).model(model).tools(tools).type(typeName)}: a type
   * whose agents call {@code model} and may use the tools of {@code tools} that the definition
   * permits.
   *
   * @param typeName the agent type's name
   * @param definition the agent's definition
   * @param model the model to call
   * @param tools the registered tools
   * @return the type, ready to {@linkplain AgentRuntime#register(AgentType) register}
   */
  public static AgentType type(
      String typeName, AgentDefinition definition, ModelProvider model, ToolRegistry tools) {
    return builder(definition).model(model).tools(tools).type(typeName);
  }

  @Override
  public void onMessage(Envelope message, AgentContext ctx) {
    Object payload = message.payload();
    if (message.isReply()
        || payload instanceof TaskResult
        || payload instanceof TaskFailed
        || payload instanceof BudgetExhausted) {
      LOG.debug("agent {} ignores a {} from {}", self, message.type(), message.sender());
      return;
    }
    String prompt =
        switch (payload) {
          case Task t -> t.prompt();
          case String s when !s.isBlank() -> s;
          default -> null;
        };
    if (prompt == null) {
      respond(
          message,
          ctx,
          new TaskFailed(
              TaskFailed.Kind.INVALID_TASK,
              "agent "
                  + self
                  + " takes a Task or a non-blank String, not "
                  + (payload instanceof String ? "a blank string" : payload.getClass().getName())
                  + "; send new Task(\"what to do\")"));
      return;
    }
    boolean reliable = message.delivery() == DeliveryMode.RELIABLE;
    Object outcome;
    try {
      outcome = new Run(message, ctx, prompt, keyPrefix(message, prompt)).execute();
    } catch (BudgetExhaustedException e) {
      stopOnExhaustedBudget(message, ctx, e);
      return;
    } catch (RunStopped e) {
      outcome = new TaskFailed(e.kind, e.getMessage());
    } catch (ModelException e) {
      if (reliable && (e.retryable() || e.kind() == ModelException.Kind.CANCELLED)) {
        LOG.warn(
            "agent {}: model call failed ({}); the journal retries message {} (dead-lettered after its last attempt)",
            self,
            e.kind(),
            message.id());
        throw e;
      }
      outcome =
          new TaskFailed(TaskFailed.Kind.MODEL_ERROR, "agent " + self + ": " + e.getMessage());
    } catch (CallLogException | JournalException e) {
      // A call log's record or a budget's charge (a durable swarm's ledger) that could not be
      // stored: a storage failure, not the task's outcome. On a RELIABLE message the journal
      // delivers it again with backoff (dead-lettered after its last attempt).
      if (reliable) {
        LOG.warn(
            "agent {}: storing a call's record or charge failed ({}); the journal retries message"
                + " {}",
            self,
            e.toString(),
            message.id());
        throw e;
      }
      outcome = new TaskFailed(TaskFailed.Kind.ERROR, "agent " + self + ": " + e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("agent {} failed message {}", self, message.id(), e);
      outcome =
          new TaskFailed(
              TaskFailed.Kind.ERROR,
              "agent " + self + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    if (outcome instanceof TaskFailed f) {
      LOG.warn("agent {} could not finish message {}: {}", self, message.id(), f.reason());
    }
    if (!settings.hooks.isEmpty()) {
      switch (outcome) {
        case TaskResult r -> settings.hooks.afterTask(self, prompt, true, r.text());
        case TaskFailed f -> settings.hooks.afterTask(self, prompt, false, f.reason());
        default -> {}
      }
    }
    respond(message, ctx, outcome);
  }

  private void stopOnExhaustedBudget(
      Envelope message, AgentContext ctx, BudgetExhaustedException e) {
    LOG.warn("agent {} stops: {}", self, e.getMessage());
    respond(message, ctx, new TaskFailed(TaskFailed.Kind.BUDGET_EXHAUSTED, e.getMessage()));
    try {
      ctx.publish(
          TopicId.of(BUDGET_TOPIC, self.type()),
          new BudgetExhausted(self, e.budget(), e.limit(), e.used(), e.max(), e.getMessage()));
    } catch (RuntimeException publishFailed) {
      LOG.warn("agent {} could not publish its budget event: {}", self, publishFailed.toString());
    }
    ctx.stopSelf();
  }

  /**
   * The idempotency key prefix of a message that may be delivered again, else null: the agent, the
   * message id or idempotency header, and the task (see {@link #taskHash}).
   */
  private String keyPrefix(Envelope message, String prompt) {
    String key = message.headers().get(IDEMPOTENCY_HEADER);
    if (key != null && !key.isBlank()) {
      return self
          + "|k:"
          + (key.length() > MAX_KEY_PART ? sha256(key) : key)
          + "|t:"
          + taskHash(prompt);
    }
    return message.delivery() == DeliveryMode.RELIABLE
        ? self + "|m:" + message.id() + "|t:" + taskHash(prompt)
        : null;
  }

  /**
   * The first 16 bytes (32 hex digits) of the SHA-256 of the definition's name and the prompt: a
   * message id or idempotency key reused for another task then names other records.
   */
  private String taskHash(String prompt) {
    return sha256(settings.definition.name() + "\u0000" + prompt).substring(0, 32);
  }

  private void respond(Envelope message, AgentContext ctx, Object outcome) {
    try {
      if (message.isRequest()) {
        ctx.reply(outcome);
      } else if (!message.sender().equals(AgentRuntime.EXTERNAL)
          && !message.sender().equals(AgentRuntime.SYSTEM)) {
        ctx.send(message.sender(), outcome);
      } else {
        LOG.debug(
            "agent {} finished message {} from outside the runtime, which awaits no answer: {}",
            self,
            message.id(),
            outcome);
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "agent {} could not answer message {} to {}: {}",
          self,
          message.id(),
          message.sender(),
          e.toString());
    }
  }

  private static String sha256(String text) {
    return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * A fresh SHA-256 digest, cloned from one looked up once: {@link MessageDigest#getInstance} walks
   * the security providers on every call, which cost more than hashing a prompt.
   */
  private static MessageDigest sha256() {
    try {
      return (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      return newSha256(); // a provider whose digests cannot be cloned: look it up each time
    }
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /** A bound of the run was reached: a failure with its kind. */
  private static final class RunStopped extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final TaskFailed.Kind kind;

    RunStopped(TaskFailed.Kind kind, String message) {
      super(message, null, false, false);
      this.kind = kind;
    }
  }

  /** One task, from the first model call to the answer. */
  private final class Run {
    private final Envelope message;
    private final AgentContext ctx;
    private final String prompt;
    private final String keyPrefix; // null: calls are not recorded
    // The final answer commits with the message's acknowledgement (see the class comment).
    private final boolean answerWithAcknowledgement;
    // Calls keyed by the message id of a message no handler received before: nothing can be
    // recorded under its keys, so the call log is not looked up (one read less per call).
    private final boolean nothingRecorded;
    private final long startNanos = System.nanoTime();
    private Usage usage = Usage.ZERO;
    private int turns;
    private int toolCalls;
    private int replayed;

    Run(Envelope message, AgentContext ctx, String prompt, String keyPrefix) {
      this.message = message;
      this.ctx = ctx;
      this.prompt = prompt;
      this.keyPrefix = keyPrefix;
      String header = message.headers().get(IDEMPOTENCY_HEADER);
      this.answerWithAcknowledgement =
          keyPrefix != null
              && message.delivery() == DeliveryMode.RELIABLE
              && (header == null || header.isBlank())
              && message.isRequest()
              && settings.hooks.isEmpty();
      this.nothingRecorded =
          keyPrefix != null
              && message.delivery() == DeliveryMode.RELIABLE
              && (header == null || header.isBlank())
              && ctx.effects().firstDelivery();
    }

    TaskResult execute() {
      ModelProvider model = settings.model();
      String modelName = settings.modelName();
      List<ToolSpec> specs = tools.specs();
      String system = settings.definition.systemPrompt();
      if (!settings.hooks.isEmpty()) {
        Optional<String> blocked = settings.hooks.beforeTask(self, prompt);
        if (blocked.isPresent()) {
          throw new RunStopped(
              TaskFailed.Kind.BLOCKED,
              "agent " + self + " did not start the task: " + blocked.get());
        }
      }
      List<ChatMessage> conversation = new ArrayList<>();
      conversation.add(ChatMessage.user(prompt));
      while (true) {
        checkTimeout();
        turns++;
        ChatRequest request =
            ChatRequest.builder()
                .model(modelName)
                .system(system.isBlank() ? null : system)
                .messages(conversation)
                .tools(specs)
                .maxTokens(settings.maxTokens)
                .temperature(settings.temperature)
                .build();
        ChatResponse response = callModel(model, modelName, request);
        usage = usage.plus(response.usage());
        if (!response.hasToolCalls()) {
          if (LOG.isDebugEnabled()) { // per task: off the hot path unless asked for
            LOG.debug(
                "agent {} answered message {} in {} turns ({} tool calls, {} calls replayed,"
                    + " {} input and {} output tokens)",
                self,
                message.id(),
                turns,
                toolCalls,
                replayed,
                usage.inputTokens(),
                usage.outputTokens());
          }
          return new TaskResult(response.text(), usage, turns, toolCalls, response.stopReason());
        }
        if (turns >= settings.maxTurns) {
          throw new RunStopped(
              TaskFailed.Kind.MAX_TURNS,
              "agent "
                  + self
                  + " stopped after "
                  + turns
                  + " model calls: the model was still calling tools ("
                  + response.toolCalls().stream().map(ToolCall::name).distinct().toList()
                  + "). Raise the turn limit (LlmAgent.Builder.maxTurns, or lifecycle.max_turns"
                  + " in the definition) or make the task smaller");
        }
        conversation.add(response.toMessage());
        int index = 0;
        for (ToolCall call : response.toolCalls()) {
          ToolResult result =
              toolCalls < settings.maxToolCalls
                  ? callTool(call, index)
                  : ToolResult.error(
                      "The limit of "
                          + settings.maxToolCalls
                          + " tool calls for this task is reached, so '"
                          + call.name()
                          + "' was not run. Answer now with what you have.");
          toolCalls++;
          index++;
          conversation.add(
              new ChatMessage.ToolResult(call.id(), result.content(), result.isError()));
        }
      }
    }

    private ChatResponse callModel(ModelProvider model, String modelName, ChatRequest request) {
      String key = keyPrefix == null ? null : keyPrefix + "|" + turns + "|model";
      if (key != null && !nothingRecorded) {
        // An answer committed with an acknowledgement is not looked up: the journal never delivers
        // an acknowledged message again, so no handling of it can find such a record.
        Optional<String> recorded = settings.callLog.find(key);
        if (recorded.isPresent()) {
          replayed++;
          LOG.debug("agent {} replays model call {} from the call log", self, key);
          return CallRecords.response(recorded.get(), key);
        }
      }
      if (budget != null) {
        budget.check(modelName);
      }
      Duration left = timeLeft();
      ChatRequest timed = left == null ? request : request.withTimeout(left);
      long callStart = System.nanoTime();
      ChatResponse response;
      try {
        response =
            settings.streamTo == null ? model.chat(timed) : model.stream(timed, settings.streamTo);
      } catch (ModelException e) {
        if (left != null
            && e.kind() == ModelException.Kind.TIMEOUT
            && System.nanoTime() - callStart >= left.toNanos() - DEADLINE_SLACK_NANOS) {
          // The task's deadline cut the call: report the bound that was reached, not a retryable
          // provider timeout.
          if (budget != null) {
            budget.check(modelName); // throws when the budget's wall time is the bound
          }
          throw deadlineReached(e);
        }
        throw e;
      }
      // issue 11 (durable swarm ledger): the charge comes before any use of the answer. A final
      // answer that commits with the acknowledgement has its charge ride that commit too (both or
      // neither); any other charge is made durable by the budget's listener before the call
      // log's record.
      boolean withAcknowledgement =
          key != null && answerWithAcknowledgement && !response.hasToolCalls();
      if (budget != null) {
        budget.charge(
            response.usage(),
            pricedModel(response, modelName),
            withAcknowledgement ? ctx.effects() : null);
      }
      if (key != null && !withAcknowledgement) {
        settings.callLog.record(key, CallRecords.response(response));
      }
      return response;
    }

    private String pricedModel(ChatResponse response, String requested) {
      String answered = response.model();
      if (requested != null && (answered.isBlank() || budget.prices().find(answered).isEmpty())) {
        return requested;
      }
      return answered;
    }

    private ToolResult callTool(ToolCall call, int index) {
      String key =
          keyPrefix == null || !tools.sideEffecting(call.name())
              ? null
              : keyPrefix
                  + "|"
                  + turns
                  + "|tool|"
                  + index
                  + "|"
                  + (call.id().length() > MAX_KEY_PART ? sha256(call.id()) : call.id());
      if (key != null && !nothingRecorded) {
        Optional<String> recorded = settings.callLog.find(key);
        if (recorded.isPresent()) {
          replayed++;
          LOG.debug("agent {} replays tool call {} from the call log", self, key);
          return CallRecords.toolResult(recorded.get(), key);
        }
      }
      ToolResult result = tools.execute(call, ctx);
      if (key != null) {
        settings.callLog.record(key, CallRecords.toolResult(result));
      }
      return result;
    }

    /** The time left before the task's deadline, or null when nothing limits it. */
    private Duration timeLeft() {
      Duration left = null;
      if (settings.timeout != null) {
        left = settings.timeout.minusNanos(System.nanoTime() - startNanos);
      }
      if (budget != null) {
        Optional<Duration> wall = budget.remainingWallTime();
        if (wall.isPresent() && (left == null || wall.get().compareTo(left) < 0)) {
          left = wall.get();
        }
      }
      return left == null || !left.isNegative() ? left : Duration.ZERO;
    }

    private RunStopped deadlineReached(ModelException cause) {
      long elapsed = System.nanoTime() - startNanos;
      String limit =
          settings.timeout != null
              ? "the task's time limit is "
                  + settings.timeout.toMillis()
                  + " ms (lifecycle.timeout_ms in the definition, or LlmAgent.Builder.timeout)"
              : "the budget's wall time ran out (maxWallTime, e.g. cfn run --timeout)";
      return new RunStopped(
          TaskFailed.Kind.TIMEOUT,
          "agent "
              + self
              + " stopped after "
              + Duration.ofNanos(elapsed).toMillis()
              + " ms and "
              + turns
              + " model calls: "
              + limit
              + "; the model call in flight was cancelled ("
              + cause.getMessage()
              + ")");
    }

    private void checkTimeout() {
      if (settings.timeout == null) {
        return;
      }
      long elapsed = System.nanoTime() - startNanos;
      if (elapsed >= settings.timeout.toNanos()) {
        throw new RunStopped(
            TaskFailed.Kind.TIMEOUT,
            "agent "
                + self
                + " stopped after "
                + Duration.ofNanos(elapsed).toMillis()
                + " ms and "
                + turns
                + " model calls: the task's time limit is "
                + settings.timeout.toMillis()
                + " ms (lifecycle.timeout_ms in the definition, or LlmAgent.Builder.timeout)");
      }
    }
  }

  /** What every agent of one type shares: the definition, the model, tools, budgets, the log. */
  private static final class Settings {
    final AgentDefinition definition;
    final ModelProvider directModel;
    final String directModelName;
    final ModelRouter router;
    final ToolRegistry registry;
    final ToolPermissions permissions;
    final ToolAudit audit;
    final Duration toolTimeout;
    final String swarm;
    final String project;
    final Function<AgentId, Budget> budgetFactory;
    final Map<AgentId, Budget> budgets = new ConcurrentHashMap<>();
    final CallLog callLog;
    final int maxTurns;
    final int maxToolCalls;
    final Integer maxTokens;
    final Double temperature;
    final Duration timeout;
    final StreamListener streamTo;
    final Hooks hooks;
    private volatile RoutedModel routed; // written once, under this, by resolve()

    Settings(Builder b, MeterRegistry meters) {
      this.definition = b.definition;
      this.directModel = b.model;
      this.directModelName = b.modelName;
      this.router = b.router;
      if (router != null && meters != null) {
        router.bindTo(meters); // each provider's circuit state becomes a gauge
      }
      this.registry = b.tools == null ? new ToolRegistry() : b.tools;
      this.permissions =
          b.permissions == null ? ToolPermissions.forDefinition(b.definition) : b.permissions;
      this.audit = b.audit != null ? b.audit : new ToolAudit(meters);
      this.toolTimeout = b.toolTimeout;
      this.swarm = b.swarm;
      this.project = b.project;
      this.budgetFactory = b.budgetFactory;
      this.callLog = b.callLog == null ? CallLog.inMemory() : b.callLog;
      this.maxTurns =
          b.maxTurns != null ? b.maxTurns : b.definition.lifecycle().maxTurnsOr(DEFAULT_MAX_TURNS);
      this.maxToolCalls = b.maxToolCalls;
      this.maxTokens = b.maxTokens;
      this.temperature = b.temperature;
      this.timeout = b.timeout != null ? b.timeout : b.definition.lifecycle().timeout();
      this.streamTo = b.streamTo;
      this.hooks = hooksOf(b);
    }

    /**
     * The builder's hooks, then the definition's when the user allowed them; without that allow a
     * definition's hooks are left out, and logged.
     */
    private static Hooks hooksOf(Builder b) {
      if (!DefinitionHooks.present(b.definition)) {
        return b.hooks;
      }
      if (!b.allowDefinitionHooks) {
        LOG.warn(
            "agent definition '{}' ({}) has hooks {} that will not run: commands in a project's"
                + " files run only when the user allows them (LlmAgent.Builder"
                + ".allowDefinitionHooks())",
            b.definition.name(),
            b.definition.source(),
            b.definition.hooks().keySet());
        return b.hooks;
      }
      return Hooks.builder().addAll(b.hooks).addAll(DefinitionHooks.read(b.definition)).build();
    }

    /**
     * The model to call: the one given, or the router's choice for the definition (resolved once).
     * Every task of every agent of the type asks, so after the first resolution it is a volatile
     * read, not a lock all agents queue on.
     */
    ModelProvider model() {
      if (directModel != null) {
        return directModel;
      }
      RoutedModel known = routed;
      return known != null ? known : resolve();
    }

    private synchronized RoutedModel resolve() {
      if (routed == null) {
        RoutedModel chosen =
            router.resolve(
                definition.name(), definition.type(), definition.provider(), definition.model());
        LOG.info(
            "agent definition '{}' routed to {} ({})",
            definition.name(),
            chosen.target(),
            chosen.reason());
        routed = chosen; // published whole: RoutedModel is immutable after construction
      }
      return routed;
    }

    /** The model name put in requests and checked against the budget; null for the default. */
    String modelName() {
      if (directModel != null) {
        return directModelName;
      }
      RoutedModel known = routed;
      return known == null ? null : known.model();
    }
  }

  /**
   * Configures an agent type that runs one {@link AgentDefinition}. Give it a model ({@link #model}
   * or {@link #router}); everything else has a default. Each {@link #type} or {@link #typeBuilder}
   * call makes a type with its own budgets and default call log.
   */
  public static final class Builder {
    private final AgentDefinition definition;
    private ModelProvider model;
    private String modelName;
    private ModelRouter router;
    private ToolRegistry tools;
    private ToolPermissions permissions;
    private ToolAudit audit;
    private MeterRegistry meterRegistry;
    private Duration toolTimeout;
    private String swarm;
    private String project;
    private Function<AgentId, Budget> budgetFactory;
    private CallLog callLog;
    private Integer maxTurns;
    private int maxToolCalls = DEFAULT_MAX_TOOL_CALLS;
    private Integer maxTokens;
    private Double temperature;
    private Duration timeout;
    private StreamListener streamTo;
    private Hooks hooks = Hooks.none();
    private boolean allowDefinitionHooks;

    private Builder(AgentDefinition definition) {
      this.definition = Objects.requireNonNull(definition, "definition");
    }

    /**
     * Calls {@code model} directly, asking for its default model (see {@link #modelName}). The
     * caller keeps ownership of the provider and closes it.
     *
     * @param model the provider
     * @return this builder
     */
    public Builder model(ModelProvider model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /**
     * The model name to request from a provider given with {@link #model(ModelProvider)}, and to
     * check the budget's prices against; by default the provider's own default model. (With a
     * router, the route decides.)
     *
     * @param modelName the model name, or null for the provider's default
     * @return this builder
     */
    public Builder modelName(String modelName) {
      this.modelName = modelName;
      return this;
    }

    /**
     * Takes the model from {@code router}, by the definition's name, type, provider and model; it
     * is resolved at the first task, and a configuration error fails that task.
     *
     * @param router the router
     * @return this builder
     */
    public Builder router(ModelRouter router) {
      this.router = Objects.requireNonNull(router, "router");
      return this;
    }

    /**
     * The tools the agents may be offered (those the permissions allow); none by default.
     *
     * @param tools the registry
     * @return this builder
     */
    public Builder tools(ToolRegistry tools) {
      this.tools = Objects.requireNonNull(tools, "tools");
      return this;
    }

    /**
     * Which tools the agents may use; {@link ToolPermissions#forDefinition} by default.
     *
     * @param permissions the permissions
     * @return this builder
     */
    public Builder permissions(ToolPermissions permissions) {
      this.permissions = Objects.requireNonNull(permissions, "permissions");
      return this;
    }

    /**
     * Where tool calls are audited; by default one audit per type, counting {@value
     * ToolAudit#CALLS} in the {@link #meterRegistry} (the runtime's with {@link #register}).
     *
     * @param audit the audit
     * @return this builder
     */
    public Builder audit(ToolAudit audit) {
      this.audit = Objects.requireNonNull(audit, "audit");
      return this;
    }

    /**
     * Where the default audit counts tool calls ({@value ToolAudit#CALLS}): pass the runtime's,
     * {@link AgentRuntime#meterRegistry()}, when the type is built with {@link #type}; {@link
     * #register} uses the runtime's unless this is set. Without either, calls are audited but not
     * counted (an agent cannot reach the runtime's registry from its context). Ignored when an
     * {@link #audit} is given.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * How long one tool call may run; {@link ToolExecutor#DEFAULT_TIMEOUT} by default.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder toolTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("tool timeout must be positive, got " + timeout);
      }
      this.toolTimeout = timeout;
      return this;
    }

    /**
     * The agents' swarm, for tools that act as the agent (memory access levels); none by default.
     *
     * @param swarm the swarm's name
     * @return this builder
     */
    public Builder swarm(String swarm) {
      this.swarm = swarm;
      return this;
    }

    /**
     * The agents' project, for tools that act as the agent; none by default.
     *
     * @param project the project's name
     * @return this builder
     */
    public Builder project(String project) {
      this.project = project;
      return this;
    }

    /**
     * Charges every agent of the type to one shared budget.
     *
     * @param budget the budget
     * @return this builder
     */
    public Builder budget(Budget budget) {
      Objects.requireNonNull(budget, "budget");
      this.budgetFactory = id -> budget;
      return this;
    }

    /**
     * Gives each agent of the type its own budget, made once per agent id (it survives restarts of
     * the agent). Give the budgets a {@link Budget.Builder#parent parent} to share a swarm's
     * budget.
     *
     * @param factory makes the budget of an agent id; may return null for no budget
     * @return this builder
     */
    public Builder budgetPerAgent(Function<AgentId, Budget> factory) {
      this.budgetFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Where model and side-effecting tool calls are recorded for replay; {@link CallLog#inMemory()}
     * (one per type) by default.
     *
     * @param callLog the log
     * @return this builder
     */
    public Builder callLog(CallLog callLog) {
      this.callLog = Objects.requireNonNull(callLog, "callLog");
      return this;
    }

    /**
     * Model calls per task at most; by default the definition's {@code lifecycle.max_turns}, else
     * {@value LlmAgent#DEFAULT_MAX_TURNS}.
     *
     * @param maxTurns at least 1
     * @return this builder
     */
    public Builder maxTurns(int maxTurns) {
      if (maxTurns < 1) {
        throw new IllegalArgumentException("maxTurns must be 1 or more, got " + maxTurns);
      }
      this.maxTurns = maxTurns;
      return this;
    }

    /**
     * Tool calls per task at most ({@value LlmAgent#DEFAULT_MAX_TOOL_CALLS} by default); calls
     * beyond it are answered with an error telling the model to finish.
     *
     * @param maxToolCalls 0 or more
     * @return this builder
     */
    public Builder maxToolCalls(int maxToolCalls) {
      if (maxToolCalls < 0) {
        throw new IllegalArgumentException("maxToolCalls must be 0 or more, got " + maxToolCalls);
      }
      this.maxToolCalls = maxToolCalls;
      return this;
    }

    /**
     * The hooks the agents run: pre-task and post-task here, the tool moments in their {@link
     * ToolExecutor} ({@link ToolExecutor.Builder#hooks}); none by default.
     *
     * @param hooks the hooks
     * @return this builder
     */
    public Builder hooks(Hooks hooks) {
      this.hooks = Objects.requireNonNull(hooks, "hooks");
      return this;
    }

    /**
     * Runs the definition's own {@code hooks:} too ({@link DefinitionHooks}), after those given
     * with {@link #hooks}. Call it only when the user allowed them: a definition file may come with
     * a cloned repository, and its commands run on the user's machine. Without it they do not run
     * (and a warning names them). On the command line: {@code cfn run --trust-hooks}.
     *
     * @return this builder
     * @throws IllegalArgumentException at {@link #type} when a hook is not one of the forms read
     */
    public Builder allowDefinitionHooks() {
      this.allowDefinitionHooks = true;
      return this;
    }

    /**
     * The most tokens one answer may generate; the provider's default by default.
     *
     * @param maxTokens positive
     * @return this builder
     */
    public Builder maxTokens(int maxTokens) {
      if (maxTokens < 1) {
        throw new IllegalArgumentException("maxTokens must be 1 or more, got " + maxTokens);
      }
      this.maxTokens = maxTokens;
      return this;
    }

    /**
     * Streams every model call ({@link ModelProvider#stream}) and hands the text and tool-call
     * events to {@code listener} as they arrive, for every agent of the type (such as a command
     * line printing the answer as it is written). Calls replayed from the call log are not streamed
     * again. By default calls are not streamed.
     *
     * @param listener called on the agent's thread
     * @return this builder
     */
    public Builder streamTo(StreamListener listener) {
      this.streamTo = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The sampling temperature; the server's default by default.
     *
     * @param temperature 0 or more
     * @return this builder
     */
    public Builder temperature(double temperature) {
      if (!(temperature >= 0)) {
        throw new IllegalArgumentException("temperature must be 0 or more, got " + temperature);
      }
      this.temperature = temperature;
      return this;
    }

    /**
     * How long one task may take, checked before each model call; by default the definition's
     * {@code lifecycle.timeout_ms}, else no limit.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * A blocking agent type builder named {@code typeName}, for callers that set the mailbox or the
     * supervision too.
     *
     * @param typeName the agent type's name
     * @return the type builder, already {@linkplain AgentType.Builder#blocking() blocking}
     * @throws IllegalStateException when neither or both of a model and a router were given
     */
    public AgentType.Builder typeBuilder(String typeName) {
      return typeBuilder(typeName, meterRegistry);
    }

    private AgentType.Builder typeBuilder(String typeName, MeterRegistry meters) {
      if ((model == null) == (router == null)) {
        throw new IllegalStateException(
            "agent type '"
                + typeName
                + "' needs exactly one model source: call model(provider) or router(router)");
      }
      Settings settings = new Settings(this, meters);
      return AgentType.builder(typeName, id -> new LlmAgent(settings, id)).blocking();
    }

    /**
     * The factory of this builder's agents, for a type that composes them (a canary rollout's
     * {@code dev.cfn.ai.rollout.Canary} routes between two versions' factories). Tool calls are
     * counted in the {@link #meterRegistry} when one was given, else not.
     *
     * @return a factory making a new agent per call
     * @throws IllegalStateException when neither or both of a model and a router were given
     */
    public dev.cfn.core.AgentFactory factory() {
      if ((model == null) == (router == null)) {
        throw new IllegalStateException(
            "agent '"
                + definition.name()
                + "' needs exactly one model source: call model(provider) or router(router)");
      }
      Settings settings = new Settings(this, meterRegistry);
      return id -> new LlmAgent(settings, id);
    }

    /**
     * Builds the type named {@code typeName} and registers it with {@code runtime}; unless a {@link
     * #meterRegistry} or an {@link #audit} was given, tool calls are counted ({@value
     * ToolAudit#CALLS}) in the runtime's {@link AgentRuntime#meterRegistry()}.
     *
     * @param runtime the runtime to register with
     * @param typeName the agent type's name
     * @return the runtime, as {@link AgentRuntime#register(AgentType)} returns it
     * @throws IllegalStateException when neither or both of a model and a router were given
     */
    public AgentRuntime register(AgentRuntime runtime, String typeName) {
      Objects.requireNonNull(runtime, "runtime");
      MeterRegistry meters = meterRegistry != null ? meterRegistry : runtime.meterRegistry();
      return runtime.register(typeBuilder(typeName, meters).build());
    }

    /**
     * The blocking agent type named {@code typeName}, ready to register.
     *
     * @param typeName the agent type's name
     * @return the type
     * @throws IllegalStateException when neither or both of a model and a router were given
     */
    public AgentType type(String typeName) {
      return typeBuilder(typeName).build();
    }
  }
}
