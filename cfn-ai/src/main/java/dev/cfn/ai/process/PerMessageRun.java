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
 * both streams to close, and kills what is left of the tree if they do not. A run owns every
 * process it starts: once the command exited, whatever it left running (a background job, a daemon
 * that double-forked or left for a session of its own) is killed as well.
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
  private volatile ProcessTree tree; // set once started; read by stop() from another thread

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
    ProcessBuilder builder = spec.processBuilder(command, env);
    try {
      process = builder.start();
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
    ProcessTree tree = new ProcessTree(process, SessionLauncher.wraps(builder.command()));
    this.tree = tree;
    String tag = "cfn-process-" + process.pid();
    Running running = new Running(process, start, tag);
    startStdin(process, request, tag);
    try {
      if (!awaitExit(tree, deadline)) {
        int killed = tree.kill(spec.killGrace());
        return running.ended(
            Outcome.TIMED_OUT,
            "'"
                + spec.program()
                + "' did not finish within "
                + spec.timeout()
                + "; its process tree ("
                + killed
                + " processes) was killed. Raise the timeout if the command needs longer");
      }
      if (!(running.outPump.awaitUntil(deadline) && running.errPump.awaitUntil(deadline))) {
        int killed = tree.kill(spec.killGrace());
        return running.ended(
            Outcome.TIMED_OUT,
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
      int leftovers = tree.kill(spec.killGrace());
      if (leftovers > 0) {
        log.info(
            "agent {}: '{}' exited and left {} processes running; they were killed",
            agent,
            spec.program(),
            leftovers);
      }
      return running.ended(
          Outcome.COMPLETED, code == 0 ? "" : "'" + spec.program() + "' exited with code " + code);
    } catch (InterruptedException e) {
      // The runtime is shutting down: cancel the run rather than fail the agent (a failure would
      // ask supervision for a restart nobody wants now). The caller sees the interrupt status.
      int killed = tree.kill(spec.killGrace());
      Thread.currentThread().interrupt();
      return running.result(
          Outcome.CANCELLED,
          ProcessResult.NO_EXIT_CODE,
          "the run of '"
              + spec.program()
              + "' was interrupted (the runtime is shutting down); its process tree ("
              + killed
              + " processes) was killed");
    }
  }

  /**
   * Kills the run's process tree now, from any thread: the agent's stop calls it so that a runtime
   * shutdown returns only once the run's processes are gone, not when the interrupted handler gets
   * round to it.
   */
  void stop() {
    ProcessTree t = tree;
    if (t != null) {
      t.kill(spec.killGrace());
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

  /** A started process, the buffers its output is drained into and the pumps that drain it. */
  private final class Running {
    final Process process;
    final long start;
    final HeadBuffer out = new HeadBuffer(spec.maxStdoutBytes());
    final TailBuffer err = new TailBuffer(spec.maxStderrBytes());
    final StreamPump outPump;
    final StreamPump errPump;

    Running(Process process, long start, String tag) {
      this.process = process;
      this.start = start;
      this.outPump = StreamPump.drain(process.getInputStream(), out::write, tag + "-stdout");
      this.errPump = StreamPump.drain(process.getErrorStream(), err::write, tag + "-stderr");
    }

    /** The result once the process exited or its tree was killed (then logged, with what came). */
    ProcessResult ended(Outcome outcome, String detail) {
      if (outcome != Outcome.COMPLETED) {
        // the kill closed the pipes (unless something unkillable holds them): take what came
        outPump.awaitQuietly(spec.killGrace());
        errPump.awaitQuietly(spec.killGrace());
        awaitExitQuietly(process, spec.killGrace());
        log.info("agent {}: {}", agent, detail);
      }
      return result(
          outcome, process.isAlive() ? ProcessResult.NO_EXIT_CODE : process.exitValue(), detail);
    }

    /** The result with the output taken so far. */
    ProcessResult result(Outcome outcome, int code, String detail) {
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
}
