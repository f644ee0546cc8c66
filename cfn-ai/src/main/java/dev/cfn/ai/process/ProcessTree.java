package dev.cfn.ai.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started process and the processes it spawned, killed together: SIGTERM to all of them, then
 * SIGKILL to those still alive after the grace period.
 *
 * <p>A child whose parent dies is re-parented and no longer shows among the root's {@link
 * ProcessHandle#descendants() descendants}, so the kill takes its snapshot before it signals
 * anything, and {@link #track()} lets a caller remember descendants while the root still lives (a
 * per-message run does so while it waits): a background child that outlives its parent and keeps
 * its stdout open can still be found and killed. A process that double-forked away before it was
 * ever seen cannot be; that is the limit of what the JDK can observe without process groups.
 *
 * <p>Thread-safe: the handler, a watchdog and the runtime's stop may all call {@link #kill}.
 */
final class ProcessTree {
  private static final Logger log = LoggerFactory.getLogger(ProcessTree.class);

  /** How long to wait for SIGKILLed processes to be gone; SIGKILL cannot be caught. */
  private static final Duration AFTER_SIGKILL = Duration.ofSeconds(5);

  private final Process root;
  private final Set<ProcessHandle> seen = new LinkedHashSet<>(); // guarded by this

  ProcessTree(Process root) {
    this.root = root;
  }

  Process root() {
    return root;
  }

  long pid() {
    return root.pid();
  }

  /** Remembers the root's current descendants, so they can be killed after the root is gone. */
  void track() {
    if (!root.isAlive()) {
      return;
    }
    List<ProcessHandle> now = root.descendants().toList();
    synchronized (this) {
      seen.removeIf(h -> !running(h));
      seen.addAll(now);
    }
  }

  /**
   * Kills the root and every descendant known or visible now: SIGTERM, up to {@code grace} to exit,
   * then SIGKILL. Returns how many processes were signalled. If the calling thread is interrupted
   * it skips the grace period (and keeps its interrupt status).
   */
  int kill(Duration grace) {
    // Root first, so that it cannot react to (or reap and replace) a child that dies first.
    Set<ProcessHandle> targets = new LinkedHashSet<>();
    targets.add(root.toHandle());
    if (root.isAlive()) {
      root.descendants().forEach(targets::add); // before the root dies and they are re-parented
    }
    synchronized (this) {
      targets.addAll(seen);
    }
    targets.removeIf(h -> !running(h));
    if (targets.isEmpty()) {
      return 0;
    }
    for (ProcessHandle h : targets) {
      h.destroy();
    }
    boolean interrupted = awaitExit(targets, grace);
    Set<ProcessHandle> survivors = new LinkedHashSet<>();
    for (ProcessHandle h : targets) {
      if (running(h)) {
        survivors.add(h);
        h.descendants().forEach(survivors::add); // spawned while we waited
      }
    }
    if (!survivors.isEmpty()) {
      log.debug(
          "process tree of pid {}: {} processes outlived SIGTERM by {}; sending SIGKILL",
          root.pid(),
          survivors.size(),
          grace);
      for (ProcessHandle h : survivors) {
        h.destroyForcibly();
      }
      if (!interrupted) {
        interrupted = awaitExit(survivors, AFTER_SIGKILL);
      }
      for (ProcessHandle h : survivors) {
        if (running(h)) {
          log.warn(
              "process {} (in the tree of pid {}) is still alive after SIGKILL; it may be stuck in"
                  + " the kernel (uninterruptible I/O)",
              h.pid(),
              root.pid());
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return targets.size();
  }

  /**
   * True while {@code h} runs. A zombie does not: it has exited and only waits to be reaped by its
   * parent, or by init once re-parented, which may take a while (some container inits reap lazily),
   * yet {@link ProcessHandle#isAlive()} counts it alive until then. On Linux the state letter in
   * {@code /proc/<pid>/stat} tells; elsewhere this falls back to {@code isAlive()}.
   */
  static boolean running(ProcessHandle h) {
    if (!h.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
      int afterName = stat.lastIndexOf(')'); // the name may contain spaces and parentheses
      char state = stat.charAt(afterName + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return h.isAlive(); // no procfs, or the process vanished meanwhile
    }
  }

  /**
   * Waits until every handle has exited or {@code limit} passed; true if interrupted. Polls (5 ms,
   * doubling to 50 ms): {@link ProcessHandle#onExit()} polls non-child processes only every 300 ms
   * or more, which would stretch every kill.
   */
  private static boolean awaitExit(Collection<ProcessHandle> handles, Duration limit) {
    long end = System.nanoTime() + limit.toNanos();
    long pauseMillis = 5;
    while (handles.stream().anyMatch(ProcessTree::running)) {
      long leftMillis = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
      if (leftMillis <= 0) {
        break;
      }
      try {
        Thread.sleep(Math.min(pauseMillis, leftMillis));
      } catch (InterruptedException e) {
        return true;
      }
      pauseMillis = Math.min(pauseMillis * 2, 50);
    }
    return Thread.currentThread().isInterrupted();
  }
}
