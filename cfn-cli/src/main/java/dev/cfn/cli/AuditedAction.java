package dev.cfn.cli;

import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.audit.AuditLog;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A privileged action the command line takes on a node's files ({@code cfn restore}, {@code cfn dr
 * restore}, {@code cfn token create|revoke}), recorded in the node's append-only audit log ({@code
 * .cfn/audit}, the log {@code cfn serve} writes and {@code cfn audit verify|tail} read) as the
 * server records its privileged routes: one entry, SUCCESS, or FAILURE with the reason when the
 * action failed.
 *
 * <p>The log is opened before the action, so an action that cannot be recorded does not happen: the
 * log takes one writer at a time, and a running node holds it (which is also when these actions are
 * refused).
 */
final class AuditedAction {
  private AuditedAction() {}

  /**
   * Runs {@code action} with its audit entry in the log under {@code cfn}.
   *
   * @param cfn the node's {@code .cfn} folder
   * @param name the entry's action, such as {@code dr.restore}
   * @param target what it acts on (a path)
   * @param detail what the entry says on success (never a secret; file names rather than paths,
   *     which the log's redaction takes for random runs when long)
   * @throws CommandFailure when the log cannot be opened (nothing was done), or as the action threw
   */
  static <T> T run(
      Path cfn, String name, String target, Map<String, String> detail, Supplier<T> action) {
    String what = clip(target);
    AuditLog log;
    try {
      log = AuditLog.open(cfn);
    } catch (AuditException | dev.cfn.store.crypto.KeyringException e) {
      throw new CommandFailure(
          ExitCode.FAILED,
          "cannot record " + name + " in the audit log: " + e.getMessage() + "; nothing was done",
          "stop the node that holds it (cfn serve), then run it again",
          e);
    }
    try (log) {
      T result;
      try {
        result = action.get();
      } catch (RuntimeException e) {
        log.append(
            AuditEvent.now(
                KeysCommand.user(),
                name,
                what,
                AuditEvent.Outcome.FAILURE,
                Map.of("reason", clip(e.getMessage()))));
        throw e;
      }
      log.append(
          AuditEvent.now(KeysCommand.user(), name, what, AuditEvent.Outcome.SUCCESS, detail));
      return result;
    }
  }

  /**
   * Records {@code name}, done, in the audit log under {@code cfn}; when the log cannot be opened
   * (a running node holds it) says so on stderr as {@code command: warning: ...} instead: for the
   * actions that must work while a node runs ({@code cfn token create|revoke}).
   */
  static void record(
      CommandSpec spec,
      String command,
      Path cfn,
      String name,
      String target,
      Map<String, String> detail) {
    try (AuditLog log = AuditLog.open(cfn)) {
      log.append(
          AuditEvent.now(
              KeysCommand.user(), name, clip(target), AuditEvent.Outcome.SUCCESS, detail));
    } catch (RuntimeException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          command + ": warning: " + name + " is not in the audit log (" + e.getMessage() + ")");
      err.flush();
    }
  }

  private static String clip(String s) {
    return s == null ? "" : s.length() > 1000 ? s.substring(0, 1000) : s;
  }
}
