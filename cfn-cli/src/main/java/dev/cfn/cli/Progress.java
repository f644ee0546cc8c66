package dev.cfn.cli;

import java.io.PrintWriter;

/**
 * Progress of a long command on standard error: on a terminal, a status line rewritten in place
 * under the events worth keeping; otherwise (a file, a pipe, a test) the events only, as plain
 * lines, so logs stay readable. Thread-safe.
 */
final class Progress {
  private final PrintWriter err;
  private final boolean live;
  private final boolean quiet;
  private int shown; // length of the live line on screen

  /**
   * Progress on {@code err}; {@code quiet} prints nothing (for {@code --json}). Live only when the
   * process runs on a terminal (not under a pipe, a redirect or a test runner).
   */
  Progress(PrintWriter err, boolean quiet) {
    this.err = err;
    this.quiet = quiet;
    java.io.Console console = System.console();
    this.live = console != null && console.isTerminal();
  }

  /** The current state, replacing the last one; shown on a terminal only. */
  synchronized void status(String line) {
    if (quiet || !live) {
      return;
    }
    String shownLine = line.length() > 119 ? line.substring(0, 118) + "…" : line;
    err.print("\r" + shownLine + " ".repeat(Math.max(0, shown - shownLine.length())));
    shown = shownLine.length();
    err.flush();
  }

  /** A line that stays (an event worth keeping), above the live line. */
  synchronized void event(String line) {
    if (quiet) {
      return;
    }
    if (live && shown > 0) {
      err.print("\r" + " ".repeat(shown) + "\r");
      shown = 0;
    }
    err.println(line);
    err.flush();
  }

  /** Ends the live line. */
  synchronized void done() {
    if (live && shown > 0) {
      err.println();
      shown = 0;
    }
    err.flush();
  }
}
