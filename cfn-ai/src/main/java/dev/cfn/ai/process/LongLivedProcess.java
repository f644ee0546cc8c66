package dev.cfn.ai.process;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.internal.json.JsonMappers;
import dev.cfn.ai.process.ProcessResult.Outcome;
import dev.cfn.core.AgentId;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one process of a long-lived {@link ProcessAgent}: started with the agent, it reads one line
 * per message on stdin and answers on stdout, in order. stderr is drained all the time by its own
 * thread into a bounded tail; stdout is read by the handler itself, line by line with a bound,
 * under a {@link Watchdog} that kills the process tree if the answer does not come in time (which
 * ends the blocked read).
 *
 * <p>Any failure to serve (the process exited, timed out, or broke the protocol) is a {@link
 * ProcessFailure}: the process is then unusable (its stream may be out of step), and the agent's
 * supervision replaces it. Used by the agent's handler thread; {@link #stop()} may come from the
 * runtime's shutdown thread as well.
 */
final class LongLivedProcess {
  private static final Logger log = LoggerFactory.getLogger(LongLivedProcess.class);

  /** Parses reply lines: one JSON value, nothing after it. */
  static final ObjectMapper JSON =
      JsonMappers.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  private final ProcessSpec spec;
  private final AgentId agent;
  private final ProcessTree tree;
  private final OutputStream stdin;
  private final LineReader stdout;
  private final TailBuffer stderr;
  private final StreamPump errPump;

  private LongLivedProcess(ProcessSpec spec, AgentId agent, Process process, boolean ownSession) {
    this.spec = spec;
    this.agent = agent;
    this.tree = new ProcessTree(process, ownSession);
    this.stdin = process.getOutputStream();
    this.stdout = new LineReader(process.getInputStream(), spec.charset());
    this.stderr = new TailBuffer(spec.maxStderrBytes());
    this.errPump =
        StreamPump.drain(
            process.getErrorStream(), stderr::write, "cfn-process-" + process.pid() + "-stderr");
  }

  /** Starts the spec's command; the exception names the program, never the arguments. */
  static LongLivedProcess start(ProcessSpec spec, AgentId agent) throws IOException {
    ProcessBuilder pb = spec.processBuilder(spec.command(), spec.environment());
    log.debug(
        "agent {} starts {} in {} with variables {}",
        agent,
        spec.command(),
        spec.workingDirectory(),
        spec.environment().keySet());
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IOException(
          "agent "
              + agent
              + " could not start '"
              + spec.program()
              + "' in "
              + spec.workingDirectory()
              + ": "
              + e.getMessage()
              + "; check that the program is installed, on the PATH, and executable",
          e);
    }
    log.info("agent {} started '{}' as pid {}", agent, spec.program(), process.pid());
    return new LongLivedProcess(spec, agent, process, SessionLauncher.wraps(pb.command()));
  }

  long pid() {
    return tree.pid();
  }

  /**
   * Writes {@code line} (one line, no break) and reads the reply per the spec's mode. Throws {@link
   * ProcessFailure}, carrying the result to reply with, when the process cannot serve.
   */
  ProcessResult exchange(String line) throws ProcessFailure {
    Process process = tree.root();
    if (!process.isAlive()) {
      TailBuffer.Tail tail = finalStderr();
      throw new ProcessFailure(
          new ProcessResult(
              Outcome.EXITED,
              process.exitValue(),
              "",
              tail.text(),
              false,
              tail.truncated(),
              Duration.ZERO,
              pid(),
              describe()
                  + " had exited with code "
                  + process.exitValue()
                  + " before this message arrived; the agent restarts it, send the message"
                  + " again"));
    }
    long mark = stderr.written();
    long start = System.nanoTime();
    Watchdog watchdog = Watchdog.arm(spec.timeout(), () -> tree.kill(spec.killGrace()));
    Reply reply = null;
    IOException broken = null;
    try {
      stdin.write((line + "\n").getBytes(spec.charset()));
      stdin.flush();
      reply = readReply();
    } catch (IOException e) {
      broken = e;
    }
    boolean killed = watchdog.disarm();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    if (killed) {
      PerMessageRun.awaitExitQuietly(process, spec.killGrace());
      throw failure(
          Outcome.TIMED_OUT,
          reply,
          mark,
          took,
          describe()
              + " did not answer within "
              + spec.timeout()
              + "; its process tree was killed and the agent restarts it. Raise the timeout if"
              + " it needs longer");
    }
    if (reply == null || reply.incomplete()) {
      PerMessageRun.awaitExitQuietly(process, spec.killGrace());
      boolean lingered = process.isAlive();
      if (lingered) {
        tree.kill(spec.killGrace()); // it closed stdout or stdin but lives on: unusable
      }
      throw failure(
          Outcome.EXITED,
          reply,
          mark,
          took,
          describe()
              + (lingered
                  ? " closed its stdin or stdout without exiting (it was killed)"
                  : " exited with code " + process.exitValue())
              + " while handling a message"
              + (broken == null ? "" : " (" + broken.getMessage() + ")")
              + "; the agent restarts it");
    }
    if (reply.protocolError()) {
      throw failure(
          Outcome.PROTOCOL_ERROR,
          reply,
          mark,
          took,
          describe()
              + " answered with a line that is not a JSON object, which breaks the JSON-lines"
              + " protocol; the agent restarts it. Make the program print exactly one JSON object"
              + " per line on stdout (logs go to stderr)");
    }
    TailBuffer.Tail tail = stderr.since(mark, spec.charset());
    return new ProcessResult(
        Outcome.COMPLETED,
        ProcessResult.NO_EXIT_CODE,
        reply.text(),
        tail.text(),
        reply.truncated(),
        tail.truncated(),
        took,
        pid(),
        "");
  }

  /** Kills the process tree and waits (bounded) for stderr to drain. Idempotent. */
  void stop() {
    int killed = tree.kill(spec.killGrace());
    if (killed > 0) {
      log.info(
          "agent {} stopped '{}' (pid {}, {} processes)", agent, spec.program(), pid(), killed);
    }
    try {
      stdin.close();
    } catch (IOException e) {
      log.debug("agent {}: closing stdin: {}", agent, e.toString());
    }
    errPump.awaitQuietly(spec.killGrace());
  }

  private String describe() {
    return "'" + spec.program() + "' (pid " + pid() + ")";
  }

  private ProcessFailure failure(
      Outcome outcome, Reply reply, long mark, Duration took, String detail) {
    Process process = tree.root();
    boolean exited = !process.isAlive();
    TailBuffer.Tail tail = exited ? finalStderr(mark) : stderr.since(mark, spec.charset());
    log.warn("agent {}: {}", agent, detail);
    return new ProcessFailure(
        new ProcessResult(
            outcome,
            exited ? process.exitValue() : ProcessResult.NO_EXIT_CODE,
            reply == null ? "" : reply.text(),
            tail.text(),
            reply != null && reply.truncated(),
            tail.truncated(),
            took,
            pid(),
            detail));
  }

  /** The whole stderr tail once the process is gone, after the drain caught up. */
  private TailBuffer.Tail finalStderr() {
    return finalStderr(0);
  }

  private TailBuffer.Tail finalStderr(long mark) {
    errPump.awaitQuietly(spec.killGrace());
    return stderr.since(mark, spec.charset());
  }

  private Reply readReply() throws IOException {
    int limit = spec.maxStdoutBytes();
    return switch (spec.mode()) {
      case ProcessSpec.Mode.JsonLines j -> {
        LineReader.Line l = stdout.read(limit);
        if (l == null) {
          yield null;
        }
        yield new Reply(
            l.text(),
            l.truncated(),
            l.complete() && !l.truncated() && !isJsonObject(l.text()),
            !l.complete());
      }
      case ProcessSpec.Mode.TextLine t -> {
        LineReader.Line l = stdout.read(limit);
        yield l == null ? null : new Reply(l.text(), l.truncated(), false, !l.complete());
      }
      case ProcessSpec.Mode.TextLines t -> readUntil(t.terminator(), limit);
      case ProcessSpec.Mode.PerMessage p ->
          throw new IllegalStateException("a per-message spec has no long-lived process");
    };
  }

  /** Lines up to the terminator, joined with {@code \n} and bounded to {@code limit} bytes. */
  private Reply readUntil(String terminator, int limit) throws IOException {
    HeadBuffer text = new HeadBuffer(limit);
    boolean first = true;
    boolean cut = false;
    while (true) {
      LineReader.Line l = stdout.read(limit);
      if (l == null) {
        return first
            ? null
            : new Reply(text.text(spec.charset()), cut || text.truncated(), false, true);
      }
      if (l.complete() && !l.truncated() && l.text().equals(terminator)) {
        return new Reply(text.text(spec.charset()), cut || text.truncated(), false, false);
      }
      byte[] bytes = ((first ? "" : "\n") + l.text()).getBytes(spec.charset());
      text.write(bytes, 0, bytes.length);
      cut |= l.truncated();
      first = false;
    }
  }

  private static boolean isJsonObject(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      return node != null && node.isObject();
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  /**
   * A reply as read.
   *
   * @param text the reply text
   * @param truncated true when it was cut at the stdout bound
   * @param protocolError true when a JSON-lines reply was not a JSON object
   * @param incomplete true when stdout ended before the reply did (the process died mid-reply)
   */
  private record Reply(String text, boolean truncated, boolean protocolError, boolean incomplete) {}
}
