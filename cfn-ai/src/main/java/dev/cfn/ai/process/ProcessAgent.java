package dev.cfn.ai.process;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.process.ProcessResult.Outcome;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
import dev.cfn.core.SupervisionStrategy;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent that runs an external command (a model CLI such as {@code claude -p}, a linter, any
 * program) under the runtime's supervision, and replies to each message with a {@link
 * ProcessResult}.
 *
 * <p>Two modes, chosen by the spec's {@link ProcessSpec.Mode}:
 *
 * <ul>
 *   <li><b>Per message</b>: each message starts the command (its text replaces {@link
 *       ProcessSpec#INPUT_PLACEHOLDER} in the arguments and/or goes to stdin), and the reply holds
 *       the exit code, stdout, the tail of stderr and the duration. A non-zero exit is a result,
 *       not a failure of the agent.
 *   <li><b>Long-lived</b>: one process starts with the agent ({@link #onStart}) and serves every
 *       message: the text is written as one line to stdin and the reply read from stdout, as one
 *       JSON object per line ({@link ProcessSpec.Mode#jsonLines()}) or as text ({@link
 *       ProcessSpec.Mode#textLine()}, {@link ProcessSpec.Mode#textLines(String)}). If the process
 *       exits, does not answer in time, or breaks the protocol, the handler replies with the
 *       failure and then throws, so the type's {@link SupervisionStrategy} restarts the agent,
 *       which starts a fresh process.
 * </ul>
 *
 * <p>Input: a {@code String} payload is the text; a {@link ProcessRequest} adds arguments and
 * environment overrides (allow-listed names only). Anything else is answered with {@link
 * Outcome#REJECTED}. Output: a request (sent with {@code request(...)}) gets the result as its
 * reply; a plain message from another agent gets the result sent back to that agent, except a
 * rejected one (so two process agents cannot bounce results forever); a plain message from outside
 * the runtime gets nothing back.
 *
 * <p>Safety: a timed-out or stopped process is killed with its whole process tree (SIGTERM, then
 * SIGKILL after the spec's grace period), and a per-message command's leftovers are killed when it
 * exits: on Linux each command runs in a session of its own and the JVM is a child subreaper, so
 * background jobs and double forks are found too, and the kill report counts what died. The JVM is
 * made non-dumpable before the first child starts, so a child cannot read the JVM's environment
 * (its API keys) through {@code /proc/<pid>/environ} (see {@code ParentProcess} in {@code
 * dev.cfn.ai.internal.os} for the side effects: no core dumps, no jcmd attach). Output is bounded;
 * stderr is drained concurrently, so a chatty program cannot stall on a full pipe; the child sees
 * only allow-listed variables. The exact command line is logged at debug level only, and variable
 * values never.
 *
 * <p>An agent runs one message at a time, so one agent runs at most one process: spread load over
 * several agent keys of the type. Handlers block, so the type must be {@link
 * AgentType.Builder#blocking() blocking}; {@link #type(String, ProcessSpec)} does that.
 *
 * <pre>{@code
 * ProcessSpec lint = ProcessSpec.builder("ruff", "check", "--stdin-filename", "x.py", "-")
 *     .timeout(Duration.ofSeconds(30))
 *     .build();
 * runtime.register(ProcessAgent.type("lint", lint));
 * ProcessResult r = runtime.request(AgentId.of("lint", "1"), source, Duration.ofMinutes(1))
 *     .join().payload(ProcessResult.class);
 * }</pre>
 */
public final class ProcessAgent implements Agent {
  private static final Logger log = LoggerFactory.getLogger(ProcessAgent.class);

  /**
   * The supervision {@link #type(String, ProcessSpec)} uses: up to 5 restarts a minute, backing off
   * from 100 ms to 5 s, so a crashing long-lived program is restarted promptly but one that cannot
   * start at all stops the agent instead of spinning.
   */
  public static final SupervisionStrategy DEFAULT_SUPERVISION =
      SupervisionStrategy.restart(
          5, Duration.ofMinutes(1), Duration.ofMillis(100), Duration.ofSeconds(5));

  private final ProcessSpec spec;
  // Set on the agent's thread in onStart; read by onStop, which a runtime shutdown may call from
  // its own thread.
  private volatile LongLivedProcess process;
  // The per-message run in progress, if any: set and cleared by the handler, read by onStop.
  private volatile PerMessageRun current;

  /** An agent running {@code spec}; create a fresh one per agent (the factory does). */
  public ProcessAgent(ProcessSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
  }

  /**
   * A blocking agent type named {@code typeName} whose agents run {@code spec}, supervised by
   * {@link #DEFAULT_SUPERVISION}. Register it with {@link AgentRuntime#register(AgentType)}.
   */
  public static AgentType type(String typeName, ProcessSpec spec) {
    return type(typeName, spec, DEFAULT_SUPERVISION);
  }

  /** As {@link #type(String, ProcessSpec)}, with the given supervision strategy. */
  public static AgentType type(String typeName, ProcessSpec spec, SupervisionStrategy supervision) {
    Objects.requireNonNull(spec, "spec");
    return AgentType.builder(typeName, id -> new ProcessAgent(spec))
        .blocking()
        .supervision(supervision)
        .build();
  }

  /** The spec this agent runs. */
  public ProcessSpec spec() {
    return spec;
  }

  /** In long-lived mode, starts the process; failing to start fails the start (supervised). */
  @Override
  public void onStart(AgentContext ctx) throws Exception {
    if (spec.mode().longLived()) {
      process = LongLivedProcess.start(spec, ctx.self());
    }
  }

  /** Runs the message through the command and answers with a {@link ProcessResult}. */
  @Override
  public void onMessage(Envelope message, AgentContext ctx) throws Exception {
    ProcessRequest request = toRequest(message.payload());
    if (request == null) {
      answer(
          message,
          ctx,
          ProcessResult.failure(
              Outcome.REJECTED,
              -1,
              "a process agent takes a String or a ProcessRequest, not "
                  + message.payload().getClass().getName()));
      return;
    }
    if (!spec.mode().longLived()) {
      PerMessageRun run = new PerMessageRun(spec, ctx.self());
      current = run;
      try {
        answer(message, ctx, run.run(request));
      } finally {
        current = null;
      }
      return;
    }
    LongLivedProcess running = process;
    if (running == null) {
      ProcessResult r =
          ProcessResult.failure(
              Outcome.START_FAILED,
              -1,
              "the long-lived process of agent "
                  + ctx.self()
                  + " is not running (it failed to start); see the agent's failure events");
      answer(message, ctx, r);
      throw new ProcessFailure(r);
    }
    String line;
    try {
      line = toLine(request);
    } catch (IllegalArgumentException e) {
      answer(message, ctx, ProcessResult.failure(Outcome.REJECTED, running.pid(), e.getMessage()));
      return;
    }
    try {
      answer(message, ctx, running.exchange(line));
    } catch (ProcessFailure f) {
      answer(message, ctx, f.result());
      throw f; // the process is unusable: let supervision restart the agent with a fresh one
    }
  }

  /** Kills the long-lived process, or the per-message run in progress, with its tree. */
  @Override
  public void onStop(AgentContext ctx) {
    PerMessageRun run = current;
    if (run != null) {
      run.stop();
    }
    LongLivedProcess running = process;
    if (running != null) {
      process = null;
      running.stop();
    }
  }

  private static ProcessRequest toRequest(Object payload) {
    return switch (payload) {
      case String s -> ProcessRequest.of(s);
      case ProcessRequest r -> r;
      default -> null;
    };
  }

  /** The line to write for {@code request}; throws IllegalArgumentException saying why not. */
  private String toLine(ProcessRequest request) {
    if (!request.args().isEmpty() || !request.env().isEmpty()) {
      throw new IllegalArgumentException(
          "arguments and environment overrides apply to per-message mode only: this agent's"
              + " long-lived process is already running; send text only");
    }
    String text = request.text();
    if (spec.mode() instanceof ProcessSpec.Mode.JsonLines) {
      JsonNode node;
      try {
        node = LongLivedProcess.JSON.readTree(text);
      } catch (JsonProcessingException e) {
        node = null;
      }
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException(
            "a JSON-lines process takes one JSON object per message; the message text is not a"
                + " JSON object");
      }
      return node.toString(); // compact: any line breaks in the input were whitespace
    }
    if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
      throw new IllegalArgumentException(
          "a long-lived text process reads one line per message; the message text contains a"
              + " line break, which would be read as two messages");
    }
    return text;
  }

  /** Replies to a request, sends back to an agent sender, or drops (see the class comment). */
  private static void answer(Envelope message, AgentContext ctx, ProcessResult result) {
    boolean isRequest = message.isRequest();
    if (isRequest) {
      ctx.reply(message, result);
      return;
    }
    AgentId sender = message.sender();
    if (sender.equals(AgentRuntime.EXTERNAL) || sender.equals(AgentRuntime.SYSTEM)) {
      log.debug(
          "agent {}: no reply for plain message {} from outside: {}",
          ctx.self(),
          message.id(),
          result);
      return;
    }
    if (result.outcome() == Outcome.REJECTED) {
      log.warn(
          "agent {}: rejected plain message {} from {}: {}",
          ctx.self(),
          message.id(),
          sender,
          result.detail());
      return;
    }
    try {
      ctx.send(sender, result);
    } catch (RuntimeException e) {
      log.warn(
          "agent {}: could not send the result back to {}: {}", ctx.self(), sender, e.toString());
    }
  }
}
