package dev.cfn.ai.internal.os;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reaps the zombies that come to the JVM because it is a child subreaper ({@link ParentProcess}):
 * orphans of any child that exited on their own, which nobody else will ever wait for, and that
 * would otherwise stay in the process table until the JVM exits.
 *
 * <p><b>Never a child the JDK started.</b> The JDK's {@link Process} implementation waits for each
 * child it started with {@code waitpid(pid)}; if cfn reaped such a child first, the JDK would read
 * its exit code as 0. So a zombie child of the JVM is reaped here only when it is provably not one
 * the JDK started, by one of two facts:
 *
 * <ul>
 *   <li>its session is neither the JVM's nor its own. A process the JDK starts inherits the JVM's
 *       session, and {@code setsid()} can only make a process the leader of a new session of its
 *       own, so a JDK child's session is always one of those two; a process in a third session
 *       (such as the session of a {@code ProcessAgent} run, in which every process the run forks
 *       stays) was forked by some other process and re-parented to the JVM;
 *   <li>it was seen, with the same start time, as a descendant of a child of the JVM: a process the
 *       JDK starts is the JVM's child from its first instant. Descendants are remembered by the
 *       periodic pass below and by the process trees of {@code ProcessAgent} runs.
 * </ul>
 *
 * A process cfn killed as part of a run that leads a session of its own ({@code setsid} in a double
 * fork, too fast to be seen as a descendant) is reaped by {@link #reapKilled} once its zombie has
 * stayed unreaped for a while, which a child of the JDK's does not.
 *
 * <p>And never a pid cfn started itself ({@link #own}), until the JDK has reaped it. All reaping of
 * processes the JDK did not start goes through this class under one lock, so a pid checked here
 * cannot be reaped and reused by another process between the check and the {@code wait4}.
 *
 * <p><b>When.</b> Once the JVM is a subreaper, a daemon thread peeks every second with {@code
 * waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT)} (one system call; it reaps nothing) whether any child
 * has exited, remembers the descendants of the JVM's children while it has any, and when a child
 * has exited reaps those that qualify. {@code ProcessAgent} also reaps after every kill.
 *
 * <p><b>What is left.</b> An orphan that is in the JVM's session or leads a session of its own and
 * that was never seen as a descendant (it was orphaned within a second of being forked, such as the
 * grandchild of a double fork by an MCP stdio server, which runs in the JVM's session) cannot be
 * told apart from a child the JDK started, and stays a zombie until the JVM exits. Elsewhere than
 * Linux there is no subreaper and nothing to reap.
 */
public final class OrphanReaper {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanReaper.class);
  private static final long PERIOD_MILLIS = 1000;
  private static final long JVM_PID = ProcessHandle.current().pid();
  private static final long JVM_SESSION = ProcStat.of(JVM_PID).map(ProcStat::session).orElse(-1L);

  /** Held while a pid the JDK did not start is checked and reaped. */
  private static final Object REAP_LOCK = new Object();

  /** Pids cfn started through the JDK that the JDK has not reaped yet: never reaped here. */
  private static final Set<Long> OWNED = ConcurrentHashMap.newKeySet();

  /** Pids seen as descendants of a child of the JVM, with their start time (clock ticks). */
  private static final Map<Long, Long> DESCENDANTS = new ConcurrentHashMap<>();

  private static final Object START_LOCK = new Object();
  private static ScheduledExecutorService timer; // guarded by START_LOCK

  private OrphanReaper() {}

  /** What {@link #reapIfOrphan} did. */
  public enum Outcome {
    /** The process had exited and was reaped. */
    REAPED,
    /** The process is a child of the JVM that still runs. */
    RUNNING,
    /**
     * Nothing to do here: the process is gone, is not the JVM's child, or may be one the JDK
     * started (which the JDK reaps).
     */
    NOT_MINE
  }

  /** Starts the periodic pass (once); called when the JVM has become a child subreaper. */
  static void start() {
    synchronized (START_LOCK) {
      if (timer != null) {
        return;
      }
      timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> Thread.ofPlatform().daemon().name("cfn-orphan-reaper").unstarted(r));
      timer.scheduleWithFixedDelay(
          OrphanReaper::tick, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Marks {@code process}, which cfn started through the JDK, as the JDK's to reap: it is never
   * reaped here, until the JDK has reaped it.
   */
  public static void own(Process process) {
    long pid = process.pid();
    OWNED.add(pid);
    process.onExit().whenComplete((p, e) -> OWNED.remove(pid)); // completes after the JDK reaped
  }

  /**
   * Remembers {@code descendants} (of a process cfn started) as processes the JDK did not start, so
   * they can be reaped once they are re-parented to the JVM and exit.
   */
  public static void remember(Collection<ProcessHandle> descendants) {
    for (ProcessHandle h : descendants) {
      ProcStat.of(h.pid())
          .filter(st -> st.parent() != JVM_PID)
          .ifPresent(st -> DESCENDANTS.put(h.pid(), st.start()));
    }
  }

  /**
   * Reaps {@code pid} if it is an exited child of the JVM that the JDK provably did not start (see
   * the class comment).
   */
  public static Outcome reapIfOrphan(long pid) {
    synchronized (REAP_LOCK) {
      ProcStat st = ProcStat.of(pid).orElse(null);
      if (st == null || st.parent() != JVM_PID) {
        return Outcome.NOT_MINE;
      }
      if (!st.zombie()) {
        return Outcome.RUNNING;
      }
      if (!notStartedByJdk(pid, st)) {
        return Outcome.NOT_MINE;
      }
      try {
        if (Linux.reap(pid)) {
          DESCENDANTS.remove(pid);
          return Outcome.REAPED;
        }
        return Outcome.RUNNING;
      } catch (Linux.ErrnoException e) {
        return Outcome.NOT_MINE; // not our child any more
      }
    }
  }

  /**
   * Reaps those of {@code pids}, processes cfn has just killed as part of a run, that are exited
   * children of the JVM which {@link #reapIfOrphan} cannot prove the JDK did not start (they lead a
   * session of their own), once nobody has reaped them for {@code linger}: the JDK waits for each
   * child it starts from its start on and reaps it the moment it exits, so a zombie it owns does
   * not stay for a second. Pids cfn started itself are never reaped. Returns how many it reaped.
   */
  public static int reapKilled(Collection<Long> pids, Duration linger) throws InterruptedException {
    Map<Long, ProcStat> waiting = new HashMap<>();
    for (long pid : pids) {
      ProcStat st = ProcStat.of(pid).orElse(null);
      if (st != null && st.parent() == JVM_PID && st.zombie() && !OWNED.contains(pid)) {
        waiting.put(pid, st);
      }
    }
    long end = System.nanoTime() + linger.toNanos();
    while (!waiting.isEmpty() && System.nanoTime() - end < 0) {
      Thread.sleep(10);
      waiting.entrySet().removeIf(e -> !ProcStat.of(e.getKey()).equals(Optional.of(e.getValue())));
    }
    int reaped = 0;
    synchronized (REAP_LOCK) {
      for (Map.Entry<Long, ProcStat> e : waiting.entrySet()) {
        long pid = e.getKey();
        if (OWNED.contains(pid) || !ProcStat.of(pid).equals(Optional.of(e.getValue()))) {
          continue;
        }
        try {
          if (Linux.reap(pid)) {
            DESCENDANTS.remove(pid);
            reaped++;
          }
        } catch (Linux.ErrnoException ex) {
          // reaped meanwhile: not ours
        }
      }
    }
    return reaped;
  }

  /** One pass over the JVM's children: reaps every qualifying zombie; returns how many. */
  public static int reapOrphans() {
    if (!ParentProcess.isSubreaper()) {
      return 0;
    }
    int reaped = 0;
    for (ProcessHandle child : ProcessHandle.current().children().toList()) {
      if (reapIfOrphan(child.pid()) == Outcome.REAPED) {
        reaped++;
      }
    }
    DESCENDANTS
        .entrySet()
        .removeIf(
            e -> !ProcStat.of(e.getKey()).map(st -> st.start() == e.getValue()).orElse(false));
    return reaped;
  }

  private static boolean notStartedByJdk(long pid, ProcStat st) {
    if (OWNED.contains(pid)) {
      return false;
    }
    // JVM_SESSION is 0, not unknown (-1), inside a PID namespace whose session leader is outside it
    // (a container): a JDK child then reads 0 too, so the rule holds as it is
    if (JVM_SESSION >= 0 && st.session() != JVM_SESSION && st.session() != pid) {
      return true;
    }
    Long seen = DESCENDANTS.get(pid);
    return seen != null && seen == st.start();
  }

  private static void tick() {
    try {
      long exited = Linux.peekExitedChild();
      if (exited < 0) {
        DESCENDANTS.clear(); // no children: nothing can be re-parented from them
        return;
      }
      remember(ProcessHandle.current().descendants().toList());
      if (exited > 0) {
        int reaped = reapOrphans();
        if (reaped > 0) {
          LOG.debug("reaped {} orphaned processes re-parented to the JVM", reaped);
        }
      }
    } catch (Linux.ErrnoException | RuntimeException e) {
      LOG.debug("orphan reaper pass failed: {}", e.toString());
    }
  }
}
