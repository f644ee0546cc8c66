package dev.cfn.testkit.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code /proc/PID/stat} says of a process: whether it runs, its parent, its session; and a
 * wait for processes to be gone. Linux only.
 */
public final class LinuxProcess {
  private LinuxProcess() {}

  /**
   * Whether {@code pid} exists and is not a zombie (a zombie has exited).
   *
   * @param pid the process
   * @return true while it runs
   * @throws IOException if {@code /proc} cannot be read
   */
  public static boolean running(long pid) throws IOException {
    String stat = stat(pid);
    return stat != null && !fields(stat)[0].equals("Z");
  }

  /**
   * The parent of {@code pid}.
   *
   * @param pid the process
   * @return its parent's pid, or -1 if it is gone
   * @throws IOException if {@code /proc} cannot be read
   */
  public static long parentOf(long pid) throws IOException {
    String stat = stat(pid);
    return stat == null ? -1 : Long.parseLong(fields(stat)[1]);
  }

  /**
   * The session {@code pid} is in: the pid of the session's leader.
   *
   * @param pid the process
   * @return its session id, or -1 if it is gone
   * @throws IOException if {@code /proc} cannot be read
   */
  public static long sessionOf(long pid) throws IOException {
    String stat = stat(pid);
    return stat == null ? -1 : Long.parseLong(fields(stat)[3]);
  }

  /**
   * Waits until none of {@code pids} runs, looking every 50 ms, for at most {@code limit}: a safety
   * net, not a measurement.
   *
   * @param limit how long to wait at most
   * @param pids the processes
   * @return true once all are gone, false if one still ran after {@code limit}
   * @throws IOException if {@code /proc} cannot be read
   * @throws InterruptedException if interrupted while waiting
   */
  public static boolean awaitGone(Duration limit, long... pids)
      throws IOException, InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (anyRunning(pids)) {
      if (System.nanoTime() - end > 0) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  private static boolean anyRunning(long... pids) throws IOException {
    for (long pid : pids) {
      if (running(pid)) {
        return true;
      }
    }
    return false;
  }

  private static String stat(long pid) throws IOException {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (NoSuchFileException gone) {
      return null;
    }
  }

  /** The fields after the command name: state, parent, process group, session, ... */
  private static String[] fields(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }
}
