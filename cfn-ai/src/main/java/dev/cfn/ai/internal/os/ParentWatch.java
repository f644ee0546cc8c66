package dev.cfn.ai.internal.os;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a child process die with the JVM, even when the JVM is killed with SIGKILL (no shutdown
 * hook runs) and the child ignores the end of its standard input, as some MCP stdio servers do.
 *
 * <p>Linux's {@code prctl(PR_SET_PDEATHSIG)} cannot be used: it must be set in the child between
 * fork and exec, which the JDK does not allow, and it fires when the <em>thread</em> that started
 * the child ends, not the JVM (the MCP SDK starts servers on a pooled thread that is retired after
 * a minute idle). Instead the command is run through {@code /bin/sh}, which forks a small watcher
 * and then {@code exec}s the command in its own process, so the pid the JDK holds is still the
 * command's (its exit code, {@link Process#destroy()} and the process tree are unchanged). The
 * watcher ({@link #SCRIPT}) is a child of the command, with standard streams on {@code /dev/null}:
 * every second it reads its own parent and the command's parent from {@code /proc}; it exits when
 * its parent is no longer the command (the command ended), and when the command's parent is no
 * longer the JVM (the JVM died and the command was re-parented) it SIGKILLs the command, or its
 * whole process group when the command leads one (started with {@code setsid}), and exits. Reading
 * parents rather than testing the JVM's pid is immune to pid reuse: a process cannot be re-parented
 * back. Cost: one {@code sleep} process started per second per watched command, and a command
 * outlives the JVM by at most about a second.
 *
 * <p>Linux only ({@code /proc}); elsewhere, or without {@code /bin/sh}, commands are started as
 * they are and a child that ignores the end of its input can outlive a killed JVM.
 */
public final class ParentWatch {
  /** The name the watcher script runs under ({@code $0}), seen in {@code ps}. */
  public static final String NAME = "cfn-parent-watch";

  /**
   * The watcher: {@code $PPID} is the JVM, {@code $$} the command once exec'd. In {@code
   * /proc/<pid>/stat} the fields after the command name in parentheses are the state, the parent
   * and the process group. The shell exports {@code PWD}, which the command was not given: it is
   * unset again, so the command's environment is exactly the one it was started with (a {@code PWD}
   * set in it is dropped too). The watcher finds {@code sleep} on a {@code PATH} of its own: the
   * command's environment (which it shares until the {@code exec}) may have none.
   */
  static final String SCRIPT =
      """
      j=$PPID; s=$$
      (
        PATH=/usr/bin:/bin
        while sleep 1; do
          read -r t </proc/self/stat || exit 0
          t=${t##*) }; set -- $t
          [ "$2" = "$s" ] || exit 0
          read -r t </proc/"$s"/stat || exit 0
          t=${t##*) }; set -- $t
          [ "$2" = "$j" ] && continue
          if [ "$3" = "$s" ]; then kill -KILL -"$s"; else kill -KILL "$s"; fi
          exit 0
        done
      ) </dev/null >/dev/null 2>&1 &
      unset PWD
      exec "$@"
      """;

  private static final String SH = find("/bin/sh");
  private static final String SETSID = SH == null ? null : find("/usr/bin/setsid", "/bin/setsid");

  private ParentWatch() {}

  private static String find(String... candidates) {
    if (!Linux.available() || !Files.isReadable(Path.of("/proc/self/stat"))) {
      return null;
    }
    for (String candidate : candidates) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return null;
  }

  /** True when commands can be watched here (Linux with {@code /proc} and {@code /bin/sh}). */
  public static boolean available() {
    return SH != null;
  }

  /**
   * {@code command}, its program resolved as the JDK would ({@link #resolve}), run under the
   * watcher; or {@code command} itself when watching is not available or the program cannot be
   * found (so that starting it fails with the JDK's usual error).
   */
  public static List<String> wrap(List<String> command, Path workingDirectory) {
    return wrap(command, workingDirectory, false);
  }

  /**
   * As {@link #wrap(List, Path)}, and started with util-linux's {@code setsid} (when installed) so
   * that the command leads a session and process group of its own: the watcher then kills the whole
   * group, the processes the command started included, and the JVM's orphan reaper can tell the
   * watcher from a child the JDK started (it is in a third session).
   */
  public static List<String> wrapInSession(List<String> command, Path workingDirectory) {
    return wrap(command, workingDirectory, SETSID != null);
  }

  private static List<String> wrap(
      List<String> command, Path workingDirectory, boolean ownSession) {
    if (SH == null) {
      return command;
    }
    String program = resolve(command.getFirst(), workingDirectory);
    if (program == null) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(command.size() + 5);
    if (ownSession) {
      wrapped.add(SETSID);
    }
    wrapped.add(SH);
    wrapped.add("-c");
    wrapped.add(SCRIPT);
    wrapped.add(NAME);
    wrapped.add(program);
    wrapped.addAll(command.subList(1, command.size()));
    return wrapped;
  }

  /**
   * True when {@code process} is part of a watcher rather than of the watched command: the watcher
   * (its arguments are {@link #SCRIPT}'s) or a process it started (its {@code sleep}). The watched
   * command's own pid carries the watcher's arguments too until it {@code exec}s the command:
   * callers that know the command's pid must not ask about it. False when {@code /proc} cannot
   * tell.
   */
  public static boolean isWatcher(ProcessHandle process) {
    return runsScript(process.pid())
        || process.parent().map(p -> runsScript(p.pid())).orElse(false);
  }

  private static boolean runsScript(long pid) {
    byte[] raw;
    try {
      raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
    } catch (java.io.IOException | RuntimeException e) {
      return false; // gone, or no procfs
    }
    String[] args = new String(raw, java.nio.charset.StandardCharsets.UTF_8).split("\0", 5);
    return args.length >= 4
        && args[1].equals("-c")
        && args[2].equals(SCRIPT)
        && args[3].equals(NAME);
  }

  /**
   * The program's path as the JDK would execute it (a path with a {@code /} relative to {@code
   * workingDirectory}, else searched on the JVM's {@code PATH}), or null when it is not found. The
   * child's own {@code PATH} may differ (an environment allow-list may have emptied it), so a
   * wrapper that executes the program must be given this path.
   */
  public static String resolve(String program, Path workingDirectory) {
    if (program.contains("/")) {
      Path p = Path.of(program);
      Path file = p.isAbsolute() ? p : workingDirectory.resolve(p);
      return Files.isExecutable(file) && !Files.isDirectory(file)
          ? file.toAbsolutePath().toString()
          : null;
    }
    String path = System.getenv("PATH");
    if (path == null) {
      path = "/bin:/usr/bin";
    }
    for (String dir : path.split(File.pathSeparator, -1)) {
      Path file = Path.of(dir.isEmpty() ? "." : dir).resolve(program);
      if (Files.isExecutable(file) && !Files.isDirectory(file)) {
        return file.toAbsolutePath().toString();
      }
    }
    return null;
  }
}
