package dev.cfn.ai.process;

import dev.cfn.ai.internal.os.Linux;
import dev.cfn.ai.internal.os.OrphanReaper;
import dev.cfn.ai.internal.os.ParentProcess;
import dev.cfn.ai.internal.os.ParentWatch;
import dev.cfn.ai.internal.os.ProcStat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started process and every process it spawned, killed together: SIGTERM to all of them (and to
 * the run's process group), then SIGKILL to those still alive after the grace period, then the ones
 * re-parented to the JVM are reaped.
 *
 * <p><b>Finding them.</b> On Linux the JVM is a child subreaper ({@link ParentProcess}) and each
 * command starts in a session of its own ({@link SessionLauncher}), so a process the run left
 * behind is always found among:
 *
 * <ul>
 *   <li>the root's current {@link ProcessHandle#descendants() descendants};
 *   <li>the descendants remembered by {@link #track()} while the root lived;
 *   <li>the JVM's children (where every orphan of the run lands, however it double-forked) that are
 *       in the run's session, that were remembered, or that left for a session of their own ({@code
 *       setsid}) after the root started and belong to no other live run's session; and all their
 *       descendants.
 * </ul>
 *
 * The third rule cannot tell apart two runs that are alive at once when an orphan of one of them
 * left its session: such a process is killed by whichever run ends first. Without the subreaper
 * (not Linux) only the first two rules apply, and a process that double-forked away before it was
 * seen cannot be found.
 *
 * <p>The parent watch that {@link SessionLauncher} may start beside the command ({@link
 * ParentWatch}) is not part of the run: it is never a target nor counted (a group signal ends it
 * anyway, and it exits by itself once the command has ended).
 *
 * <p>{@link #kill} returns how many processes actually died, counted after the kill, so a report
 * built on it is true; a process that survives SIGKILL (stuck in the kernel) is logged.
 *
 * <p>Thread-safe: the handler, a watchdog and the runtime's stop may all call {@link #kill}.
 */
final class ProcessTree {
  private static final Logger log = LoggerFactory.getLogger(ProcessTree.class);

  /** How long to wait for SIGKILLed processes to be gone; SIGKILL cannot be caught. */
  private static final Duration AFTER_SIGKILL = Duration.ofSeconds(5);

  /**
   * How long the zombie of a killed process that leads a session of its own must stay unreaped
   * before cfn reaps it (see {@link OrphanReaper#reapKilled}).
   */
  private static final Duration LINGER = Duration.ofSeconds(1);

  /** The roots of every live tree in this JVM, so that one run never claims another's root. */
  private static final Set<Long> LIVE_ROOTS = ConcurrentHashMap.newKeySet();

  private static final long JVM_PID = ProcessHandle.current().pid();
  private static final long JVM_SESSION = sessionOfJvm();

  private final Process root;
  private final long rootPid;
  private final boolean ownSession;
  private final Instant rootStart;
  private final Set<ProcessHandle> seen = new LinkedHashSet<>(); // guarded by this
  private final Set<Long> unreaped = ConcurrentHashMap.newKeySet();
  private final Object killLock = new Object();

  /**
   * The tree of {@code root}; {@code ownSession} is true when it was started in a session of its
   * own (its pid is then its session and process group id).
   */
  ProcessTree(Process root, boolean ownSession) {
    this.root = root;
    this.rootPid = root.pid();
    this.ownSession = ownSession;
    this.rootStart = root.toHandle().info().startInstant().orElse(Instant.EPOCH);
    LIVE_ROOTS.add(rootPid);
    OrphanReaper.own(root);
  }

  Process root() {
    return root;
  }

  long pid() {
    return rootPid;
  }

  /** Remembers the root's current descendants, so they can be killed after the root is gone. */
  void track() {
    if (!root.isAlive()) {
      return;
    }
    List<ProcessHandle> now = root.descendants().toList();
    OrphanReaper.remember(now);
    synchronized (this) {
      seen.removeIf(h -> !running(h));
      seen.addAll(now);
    }
  }

  /**
   * Kills the root and every process of the tree that still runs (see the class comment): SIGTERM,
   * up to {@code grace} to exit, then SIGKILL, then reaps those re-parented to the JVM. Returns how
   * many processes died. If the calling thread is interrupted it skips the grace period (and keeps
   * its interrupt status). Called once the root exited normally, it kills what the run left behind.
   */
  int kill(Duration grace) {
    synchronized (killLock) { // the agent's stop and an interrupted handler may both kill
      return killNow(grace);
    }
  }

  private int killNow(Duration grace) {
    Set<ProcessHandle> targets = collect();
    if (targets.isEmpty()) {
      reap(Set.of());
      release();
      OrphanReaper.reapOrphans();
      return 0;
    }
    boolean group = ownSession && targets.stream().anyMatch(h -> inRunGroup(h.pid()));
    signalGroup(group, Linux.SIGTERM);
    for (ProcessHandle h : targets) {
      h.destroy();
    }
    boolean interrupted = awaitExit(targets, grace);
    Set<ProcessHandle> survivors = new LinkedHashSet<>();
    for (ProcessHandle h : targets) {
      if (running(h)) {
        survivors.add(h);
      }
    }
    for (ProcessHandle h : collect()) { // spawned while we waited
      if (targets.add(h)) {
        survivors.add(h);
      }
    }
    if (!survivors.isEmpty()) {
      log.debug(
          "process tree of pid {}: {} processes outlived SIGTERM by {}; sending SIGKILL",
          rootPid,
          survivors.size(),
          grace);
      signalGroup(group, Linux.SIGKILL);
      for (ProcessHandle h : survivors) {
        h.destroyForcibly();
      }
      if (!interrupted) {
        interrupted = awaitExit(survivors, AFTER_SIGKILL);
      }
    }
    reap(targets);
    int died = 0;
    for (ProcessHandle h : targets) {
      if (running(h)) {
        log.warn(
            "process {} (in the tree of pid {}) is still alive after SIGKILL; it may be stuck in"
                + " the kernel (uninterruptible I/O)",
            h.pid(),
            rootPid);
      } else {
        died++;
      }
    }
    release();
    OrphanReaper.reapOrphans(); // orphans of other runs and MCP servers too
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return died;
  }

  /** Forgets the root once it is gone, so that other trees may claim what has its pid later. */
  private void release() {
    if (!running(root.toHandle())) { // a zombie root is the JDK's to reap, but gone for us
      LIVE_ROOTS.remove(rootPid);
    }
  }

  /** Every running process of the tree; reaps the tree's re-parented zombies on the way. */
  private Set<ProcessHandle> collect() {
    Set<ProcessHandle> targets = new LinkedHashSet<>();
    if (root.isAlive()) {
      targets.add(root.toHandle());
      List<ProcessHandle> descendants = root.descendants().toList();
      OrphanReaper.remember(descendants);
      targets.addAll(descendants); // before the root dies and they are re-parented
    }
    Set<ProcessHandle> remembered;
    synchronized (this) {
      remembered = new LinkedHashSet<>(seen);
    }
    targets.addAll(remembered);
    if (ParentProcess.isSubreaper()) {
      for (ProcessHandle child : ProcessHandle.current().children().toList()) {
        long pid = child.pid();
        if (pid == rootPid || LIVE_ROOTS.contains(pid)) {
          continue; // our root is handled above; another run's root is that run's
        }
        ProcStat st = ProcStat.of(pid).orElse(null);
        if (st == null) {
          continue;
        }
        boolean mine =
            (ownSession && st.session() == rootPid)
                || remembered.contains(child)
                || (st.session() != JVM_SESSION
                    && !LIVE_ROOTS.contains(st.session())
                    && child.info().startInstant().map(s -> !s.isBefore(rootStart)).orElse(false));
        if (!mine) {
          continue;
        }
        if (st.zombie()) {
          if (OrphanReaper.reapIfOrphan(pid) == OrphanReaper.Outcome.NOT_MINE) {
            unreaped.add(pid); // an orphan of the run that exited on its own: see reap()
          }
          continue;
        }
        targets.add(child);
        child.descendants().forEach(targets::add);
      }
    }
    targets.removeIf(h -> !running(h) || (h.pid() != rootPid && ParentWatch.isWatcher(h)));
    return targets;
  }

  private boolean inRunGroup(long pid) {
    return ProcStat.of(pid).map(st -> st.group() == rootPid).orElse(false);
  }

  private void signalGroup(boolean group, int signal) {
    if (!group) {
      return;
    }
    try {
      Linux.kill(-rootPid, signal);
    } catch (Linux.ErrnoException e) {
      if (e.errno() != Linux.ESRCH) {
        log.debug("signal {} to process group {}: {}", signal, rootPid, e.getMessage());
      }
    }
  }

  /**
   * Reaps the killed processes the JVM is now the parent of, as far as {@link OrphanReaper} can
   * prove the JDK did not start them (the root is the JDK's to reap). The run's own session and the
   * descendants remembered by {@link #track()} prove it for every process of the run except one
   * that left for a session of its own before it was ever seen: that one is killed but stays a
   * zombie until the JVM exits.
   */
  private void reap(Collection<ProcessHandle> killed) {
    if (!ParentProcess.isSubreaper()) {
      return;
    }
    // An interrupt (the runtime shutting down) must not leave killed processes unreaped: the waits
    // here are bounded, so they run with the interrupt status cleared and it is restored after.
    boolean interrupted = Thread.interrupted();
    long end = System.nanoTime() + AFTER_SIGKILL.toNanos();
    List<Long> unproven = new ArrayList<>();
    for (ProcessHandle h : killed) {
      if (h.pid() == rootPid) {
        continue;
      }
      OrphanReaper.Outcome outcome;
      while ((outcome = OrphanReaper.reapIfOrphan(h.pid())) == OrphanReaper.Outcome.RUNNING) {
        if (System.nanoTime() - end > 0) {
          unproven.add(h.pid()); // still dying: reapKilled takes it if it becomes a zombie
          break;
        }
        interrupted |= pause(2);
      }
      if (outcome == OrphanReaper.Outcome.NOT_MINE) {
        unproven.add(h.pid());
      }
    }
    unproven.addAll(unreaped);
    unreaped.clear();
    while (true) {
      try {
        OrphanReaper.reapKilled(unproven, LINGER);
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the status is cleared: try again, the wait is bounded
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sleeps {@code millis}; true if interrupted meanwhile (the status is then cleared). */
  private static boolean pause(long millis) {
    try {
      Thread.sleep(millis);
      return false;
    } catch (InterruptedException e) {
      return true;
    }
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

  private static long sessionOfJvm() {
    return ProcStat.of(JVM_PID).map(ProcStat::session).orElse(-1L);
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
