package dev.cfn.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * One run of the {@code cfn} command line in this JVM ({@link Main#commandLine()}), with what it
 * printed to its out and err writers: the tests' way to call a command as a user would.
 *
 * @param code the exit code
 * @param out what it printed to standard output
 * @param err what it printed to standard error
 */
record CliRun(int code, String out, String err) {

  /** Runs {@code cfn ARGS} and captures its output. */
  static CliRun run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }
}
