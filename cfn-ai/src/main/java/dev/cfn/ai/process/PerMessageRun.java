package dev.cfn.ai.process;

import dev.cfn.ai.process.ProcessResult.Outcome;
import dev.cfn.core.AgentId;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a per-message command: start it, feed stdin and drain stdout and stderr on their own
 * threads (so no pipe can fill up and stall the child), wait for the exit until the deadline, and
 * kill the whole process tree if it does not come. The exit alone does not end the run: a
 * background child may still hold stdout open, so the run also waits (until the same deadline) for
 * both streams to close, and kills what is left of the tree if they do not.
 */
final class PerMessageRun {
  private static final Logger log = LoggerFactory.getLogger(PerMessageRun.class);

  /**
   * How often the run looks for new descendants while it waits for the exit: first after 1 ms,
   * doubling up to every 100 ms, so that children forked at once are seen early and a long run
   * costs little.
   */
  private static final long FIRST_TRACK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private static final long TRACK_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ProcessSpec spec;
  private final AgentId agent;

  PerMessageRun(ProcessSpec spec, AgentId agent) {
    this.spec = spec;
    this.agent = agent;
  }

  /**
   * Runs the command for {@code request}. Never throws: the command's failures are results, and an
   * interrupt (the runtime shutting down) kills the tree, returns {@link Outcome#CANCELLED} and
   * leaves the thread's interrupt status set.
   */
  ProcessResult run(ProcessRequest request) {
    Map<String, String> env;
    List<String> command;
    try {
      env = spec.environmentWith(request.env());
      command = spec.commandFor(request.text(), request.args());
    } catch (IllegalArgumentException e) {
      return ProcessResult.failure(Outcome.REJECTED, -1, e.getMessage());
    }
    if (log.isDebugEnabled()) {
      log.debug(
          "agent {} runs {} in {} with variables {}",
          agent,
          command,
          spec.workingDirectory(),
          env.keySet());
    }
    long start = System.nanoTime();
    long deadline = start + spec.timeout().toNanos();
    Process process;
    try {
      process = spec.processBuilder(command, env).start();
    } catch (IOException e) {
      String detail =
          "could not start '"
              + spec.program()
              + "' in "
              + spec.workingDirectory()
              + ": "
              + e.getMessage()
              + "; check that the program is installed, on the PATH, and executable";
      log.warn("agent {}: {}", agent, detail);
      return ProcessResult.failure(Outcome.START_FAILED, -1, detail);
    }
    ProcessTree tree = new ProcessTree(process);
    String tag = "cfn-process-" + process.pid();
    HeadBuffer out = new HeadBuffer(spec.maxStdoutBytes());
    TailBuffer err = new TailBuffer(spec.maxStderrBytes());
    StreamPump outPump = StreamPump.drain(process.getInputStream(), out::write, tag + "-stdout");
    StreamPump errPump = StreamPump.drain(process.getErrorStream(), err::write, tag + "-stderr");
    startStdin(process, request, tag);
    try {
      if (!awaitExit(tree, deadline)) {
        int killed = tree.kill(spec.killGrace());
        return ended(
            Outcome.TIMED_OUT,
            process,
            out,
            err,
            outPump,
            errPump,
            start,
            "'"
                + spec.program()
                + "' did not finish within "
                + spec.timeout()
                + "; its process tree ("
                + killed
                + " processes) was killed. Raise the timeout if the command needs longer");
      }
      if (!(outPump.awaitUntil(deadline) && errPump.awaitUntil(deadline))) {
        int killed = tree.kill(spec.killGrace());
        return ended(
            Outcome.TIMED_OUT,
            process,
            out,
            err,
            outPump,
            errPump,
            start,
            "'"
                + spec.program()
                + "' exited with code "
                + process.exitValue()
                + ", but processes it left behind kept its output open past the timeout of "
                + spec.timeout()
                + " and were killed ("
                + killed
                + " processes). Make the command wait for its background jobs, or detach them"
                + " from stdout and stderr");
      }
      int code = process.exitValue();
      return ended(
          Outcome.COMPLETED,
          process,
          out,
          err,
          outPump,
          errPump,
          start,
          code == 0 ? "" : "'" + spec.program() + "' exited with code " + code);
    } catch (InterruptedException e) {
      // The runtime is shutting down: cancel the run rather than fail the agent (a failure would
      // ask supervision for a restart nobody wants now). The caller sees the interrupt status.
      int killed = tree.kill(spec.killGrace());
      Thread.currentThread().interrupt();
      return new ProcessResult(
          Outcome.CANCELLED,
          ProcessResult.NO_EXIT_CODE,
          out.text(spec.charset()),
          err.all(spec.charset()).text(),
          out.truncated(),
          err.all(spec.charset()).truncated(),
          Duration.ofNanos(System.nanoTime() - start),
          process.pid(),
          "the run of '"
              + spec.program()
              + "' was interrupted (the runtime is shutting down); its process tree ("
              + killed
              + " processes) was killed");
    }
  }

  private void startStdin(Process process, ProcessRequest request, String tag) {
    byte[] input =
        switch (spec.stdin()) {
          case ProcessSpec.Stdin.FromMessage m -> request.text().getBytes(spec.charset());
          case ProcessSpec.Stdin.Text t -> t.text().getBytes(spec.charset());
          case ProcessSpec.Stdin.None n -> new byte[0];
        };
    if (input.length == 0) {
      try {
        process.getOutputStream().close();
      } catch (IOException e) {
        log.debug("{}: closing stdin: {}", tag, e.toString());
      }
    } else {
      StreamPump.feed(process.getOutputStream(), input, tag + "-stdin");
    }
  }

  /** Waits for the exit until {@code deadline}, tracking descendants meanwhile; true if exited. */
  private static boolean awaitExit(ProcessTree tree, long deadline) throws InterruptedException {
    Process p = tree.root();
    long pause = FIRST_TRACK_NANOS;
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return !p.isAlive();
      }
      if (p.waitFor(Math.min(left, pause), TimeUnit.NANOSECONDS)) {
        return true;
      }
      tree.track();
      pause = Math.min(pause * 2, TRACK_EVERY_NANOS);
    }
  }

  /** Waits up to {@code limit} for a killed process to be reaped; keeps the interrupt status. */
  static void awaitExitQuietly(Process process, Duration limit) {
    try {
      process.waitFor(limit.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private ProcessResult ended(
      Outcome outcome,
      Process process,
      HeadBuffer out,
      TailBuffer err,
      StreamPump outPump,
      StreamPump errPump,
      long start,
      String detail) {
    if (outcome != Outcome.COMPLETED) {
      // the kill closed the pipes (unless something unkillable holds them): take what came
      outPump.awaitQuietly(spec.killGrace());
      errPump.awaitQuietly(spec.killGrace());
      awaitExitQuietly(process, spec.killGrace());
      log.info("agent {}: {}", agent, detail);
    }
    int code = process.isAlive() ? ProcessResult.NO_EXIT_CODE : process.exitValue();
    TailBuffer.Tail tail = err.all(spec.charset());
    return new ProcessResult(
        outcome,
        code,
        out.text(spec.charset()),
        tail.text(),
        out.truncated(),
        tail.truncated(),
        Duration.ofNanos(System.nanoTime() - start),
        process.pid(),
        detail);
  }
}
