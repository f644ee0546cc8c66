package dev.cfn.cli;

import dev.cfn.server.auth.TokenStore;
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
 * restore}, {@code cfn token create|revoke}, {@code cfn cert issue|trust|revoke}), recorded in the
 * node's append-only audit log ({@code .cfn/audit}, the log {@code cfn serve} writes and {@code cfn
 * audit verify|tail} read) as the server records its privileged routes: one entry, SUCCESS, or
 * FAILURE with the reason when the action failed.
 *
 * <p>The input is checked first, writing nothing (a journal opened read-only, a backup verified):
 * bad input is refused before the log is opened, which would create {@code audit/} and {@code
 * keys/} beside a file that is no node's. The log is opened next, before the action, so an action
 * that cannot be recorded does not happen: the log takes one writer at a time, and a running node
 * holds it (which is also when these actions are refused).
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
   * @param check refuses bad input (by throwing) without writing anything; runs before the log is
   *     opened, so a refusal leaves no trace (nor an audit entry: nothing was attempted)
   * @throws CommandFailure when the log cannot be opened (nothing was done), or as the check or the
   *     action threw
   */
  static <T> T run(
      Path cfn,
      String name,
      String target,
      Map<String, String> detail,
      Runnable check,
      Supplier<T> action) {
    String what = clip(target);
    check.run();
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
   * Moves the audit events queued in the token file {@code tokens} ({@code cfn token
   * create|revoke}, {@code cfn cert issue|trust|revoke} queue theirs there, in the transaction of
   * the change) into the audit log beside it, in order, each once. When the log cannot be opened (a
   * running node holds it, and moves them in itself within {@link TokenStore#CACHE_FOR}) says so on
   * stderr as {@code command: name is queued ...}: these actions work while a node runs.
   */
  static void drainQueued(CommandSpec spec, String command, Path tokens, String name) {
    try (AuditLog log = AuditLog.open(tokens.getParent());
        TokenStore store = TokenStore.open(tokens)) {
      store.drainAuditOutbox(log);
    } catch (RuntimeException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          command
              + ": "
              + name
              + " is queued in "
              + tokens.getFileName()
              + " for the audit log, which this command cannot open ("
              + e.getMessage()
              + "); the running node that holds the log records it, or else the next cfn token or"
              + " cfn cert command that can open it");
      err.flush();
    }
  }

  private static String clip(String s) {
    return s == null ? "" : s.length() > 1000 ? s.substring(0, 1000) : s;
  }
}
