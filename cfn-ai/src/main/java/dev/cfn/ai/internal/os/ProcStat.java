package dev.cfn.ai.internal.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The fields of {@code /proc/<pid>/stat} that process supervision needs, read in one go.
 *
 * @param zombie true when the process has exited and waits to be reaped
 * @param parent the parent pid
 * @param group the process group id
 * @param session the session id
 * @param start the start time in clock ticks after boot (with the pid, it names one process)
 */
public record ProcStat(boolean zombie, long parent, long group, long session, long start) {
  /**
   * Reads {@code pid}'s stat line.
   *
   * @param pid the process
   * @return its fields, or empty when it is gone or there is no procfs
   */
  public static Optional<ProcStat> of(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // after "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
      // cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 21);
      char state = f[0].charAt(0);
      return Optional.of(
          new ProcStat(
              state == 'Z' || state == 'X',
              Long.parseLong(f[1]),
              Long.parseLong(f[2]),
              Long.parseLong(f[3]),
              Long.parseLong(f[19])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // gone, or no procfs
    }
  }
}
