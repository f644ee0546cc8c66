package dev.cfn.ai.internal.os;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the JVM a safer parent, once, just before cfn starts its first child process (a {@code
 * ProcessAgent} command or an MCP stdio server). Two Linux process attributes are set:
 *
 * <ul>
 *   <li>{@code prctl(PR_SET_DUMPABLE, 0)}: a child cannot read the JVM's {@code
 *       /proc/<pid>/environ}, {@code mem}, {@code maps}, {@code fd/} and the like (the kernel then
 *       owns those files as root), so the API keys the environment allow-list kept out of a child's
 *       own environment stay out of its reach. A child gets its own dumpability back when it
 *       executes a program. Side effects, for the whole JVM from then on (measured with JDK 25.0.3
 *       on Linux 6.18, as an ordinary user): no core dump on a crash; another process of the same
 *       user can no longer open its {@code /proc/<pid>/environ}, {@code fd/}, {@code maps} or
 *       {@code mem}, nor {@code ptrace} it (gdb, strace, ptrace-based profilers) without {@code
 *       CAP_SYS_PTRACE}. Still working: {@code jcmd} and {@code jstack} (the attach socket in
 *       {@code /tmp} is found without {@code /proc/<pid>/root}), hence JFR and thread dumps through
 *       jcmd, {@code ps}, {@code /proc/<pid>/stat} and {@code cmdline}, in-process JMX. It does not
 *       protect against root, which reads any process's environment.
 *   <li>{@code prctl(PR_SET_CHILD_SUBREAPER, 1)}: a process orphaned anywhere below the JVM (a
 *       double fork, {@code setsid cmd &} in a script that then exits) is re-parented to the JVM
 *       instead of init, so cfn can still find, kill and reap it. Side effect: orphans of children
 *       started by other code in the JVM come to it as well; {@link OrphanReaper} reaps those it
 *       can prove the JDK did not start.
 * </ul>
 *
 * <p>Elsewhere than Linux on x86_64 or aarch64 nothing is set: a warning says once that children
 * may read the JVM's environment and that orphans cannot be followed there.
 */
public final class ParentProcess {
  private static final Logger LOG = LoggerFactory.getLogger(ParentProcess.class);
  private static final Object LOCK = new Object();
  private static volatile boolean prepared;
  private static volatile boolean subreaper;

  private ParentProcess() {}

  /** Sets both attributes the first time it is called; later calls return at once. */
  public static void prepareForChildren() {
    if (prepared) {
      return;
    }
    synchronized (LOCK) {
      if (prepared) {
        return;
      }
      if (!Linux.available()) {
        LOG.warn(
            "cfn cannot harden the JVM as a parent process ({}): child processes may read its"
                + " environment through /proc, and processes they orphan cannot be followed",
            Linux.unavailableReason());
      } else {
        try {
          Linux.setNotDumpable();
        } catch (Linux.ErrnoException e) {
          LOG.warn(
              "prctl(PR_SET_DUMPABLE, 0) failed ({}): child processes may read the JVM's"
                  + " environment through /proc/<pid>/environ",
              e.getMessage());
        }
        try {
          Linux.setChildSubreaper();
          subreaper = true;
          OrphanReaper.start();
        } catch (Linux.ErrnoException e) {
          LOG.warn(
              "prctl(PR_SET_CHILD_SUBREAPER, 1) failed ({}): processes that child processes"
                  + " orphan cannot be followed and killed",
              e.getMessage());
        }
        LOG.debug(
            "the JVM is now not dumpable (no core dumps, no jcmd/attach) and a child subreaper");
      }
      prepared = true;
    }
  }

  /** True once {@link #prepareForChildren()} made the JVM a child subreaper. */
  public static boolean isSubreaper() {
    return subreaper;
  }
}
