package dev.cfn.ai.process;

import dev.cfn.ai.internal.os.Linux;
import dev.cfn.ai.internal.os.ParentWatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts each command in a session (and process group) of its own, so that the whole group can be
 * signalled at once and every process that stays in it can be found by its session id: the command
 * is run through util-linux's {@code setsid}, which calls {@code setsid()} and then executes the
 * command in the same process (a process the JVM starts is never a group leader, so {@code setsid}
 * does not fork: the started pid is the command's, and the session id is that pid).
 *
 * <p>{@code setsid} would search the program on the child's {@code PATH}, which the environment
 * allow-list may have emptied, while the JDK searches the JVM's: the program is therefore resolved
 * here on the JVM's {@code PATH} first, exactly as the JDK would. A program that cannot be found is
 * started without {@code setsid}, so that the start fails with the JDK's usual error.
 *
 * <p>Where {@link ParentWatch} works (Linux, {@code /proc}, {@code /bin/sh}), the command also runs
 * under its watcher ({@link ParentWatch#wrapInSession}): {@code setsid} executes {@code /bin/sh},
 * which forks the watcher and then executes the command in the same pid. When the JVM dies, even by
 * SIGKILL, and the command is re-parented, the watcher SIGKILLs the command's whole process group
 * within about a second, so a CLI agent such as {@code claude -p} does not outlive a killed cfn.
 * The watcher stays in the run's session and group (a group signal ends it too) but is not part of
 * the run: {@link ProcessTree} leaves it out of what it kills and counts ({@link
 * ParentWatch#isWatcher}); it exits by itself within a second once the command has ended.
 *
 * <p>Without {@code setsid} (not Linux, or not installed in {@code /usr/bin} or {@code /bin}) the
 * command starts in the JVM's process group, unwatched, as before: its tree is then followed
 * through descendant snapshots and the JVM's re-parented children only, and it can outlive a JVM
 * killed with SIGKILL.
 */
final class SessionLauncher {
  private static final String SETSID = find();

  private SessionLauncher() {}

  private static String find() {
    if (!Linux.available()) {
      return null;
    }
    for (String candidate : List.of("/usr/bin/setsid", "/bin/setsid")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return null;
  }

  /** True when commands start in a session of their own. */
  static boolean available() {
    return SETSID != null;
  }

  /**
   * {@code command} prefixed with {@code setsid} and its program resolved, under the parent watch
   * when it is available; or {@code command} itself when there is no {@code setsid} or the program
   * cannot be found.
   */
  static List<String> wrap(List<String> command, Path workingDirectory) {
    if (SETSID == null) {
      return command;
    }
    if (ParentWatch.available()) {
      List<String> watched = ParentWatch.wrapInSession(command, workingDirectory);
      if (!watched.isEmpty() && watched.getFirst().equals(SETSID)) {
        return watched;
      }
    }
    String program = ParentWatch.resolve(command.getFirst(), workingDirectory);
    if (program == null) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(command.size() + 1);
    wrapped.add(SETSID);
    wrapped.add(program);
    wrapped.addAll(command.subList(1, command.size()));
    return wrapped;
  }

  /** True when {@code command} is one {@link #wrap} prefixed with {@code setsid}. */
  static boolean wraps(List<String> command) {
    return SETSID != null && command.size() > 1 && command.getFirst().equals(SETSID);
  }
}
