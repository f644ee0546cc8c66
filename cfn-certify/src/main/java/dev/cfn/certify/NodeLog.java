package dev.cfn.certify;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The log file of what a check runs in this JVM (the buses of checks 1 to 3, the stores of check 9,
 * the security check's in-process probes), as each child JVM node has its own ({@code node-N.log}):
 * while a check runs, this JVM's standard error, where cfn logs (slf4j-simple writes to {@code
 * System.err} as it is when it writes) and where uncaught exceptions are printed, is appended to
 * {@value #FILE} in the check's folder. The warnings such a node prints on purpose (the alert test
 * of a security probe, the dead letters of a handler failing on purpose) thus land in its log, not
 * on the user's terminal between the progress lines. {@link #close} gives standard error back.
 *
 * <p>The progress of {@code cfn certify} is unaffected: it writes to the stream it held before the
 * check started. Messages the JVM itself writes to file descriptor 2 are unaffected too.
 */
final class NodeLog implements AutoCloseable {
  /** The log's file name in the check's folder. */
  static final String FILE = "node.log";

  private final PrintStream before;
  private final PrintStream log;

  private NodeLog(PrintStream before, PrintStream log) {
    this.before = before;
    this.log = log;
  }

  /** Appends this JVM's standard error to {@code dir/}{@value #FILE} until {@link #close}. */
  static NodeLog open(Path dir) throws IOException {
    PrintStream log =
        new PrintStream(
            Files.newOutputStream(
                dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.APPEND),
            true,
            StandardCharsets.UTF_8);
    PrintStream before = System.err;
    System.setErr(log);
    return new NodeLog(before, log);
  }

  /**
   * Gives standard error back to what it was (unless someone replaced it meanwhile), then closes
   * the log.
   */
  @Override
  public void close() {
    if (System.err == log) {
      System.setErr(before);
    }
    log.close();
  }
}
