package dev.cfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.spi.CallLogException;
import dev.cfn.core.spi.MemoryException;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.auth.TokenStoreException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.BackupInfo;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.journal.RestoreInfo;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cfn store check}, {@code cfn backup}, {@code cfn restore}: the journal file itself. */
final class StoreCommand {
  private StoreCommand() {}

  /** {@code cfn store check} and {@code cfn store quarantine}. */
  @Command(
      name = "store",
      mixinStandardHelpOptions = true,
      description = "Inspects the journal file (and the memory and call-log files).",
      subcommands = {Check.class, QuarantineCommand.class})
  static final class Store extends CommandGroup {}

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Runs PRAGMA integrity_check and verifies every record's CRC32C; lists each bad record.",
        "Works while a runtime has the journal open (read-only). With --memory, --calls and"
            + " --tokens it also checks the agents' memory, the AI call log and the API token file."
            + " Exits 1 when anything is wrong, a file that is not a cfn file of its kind included."
      })
  static final class Check implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin StoreOptions store = new StoreOptions();
    @Mixin ServerOptions server = new ServerOptions();

    @Option(
        names = "--memory",
        paramLabel = "FILE",
        description = "Also check this memory file (e.g. .cfn/memory.db).")
    Path memory;

    @Option(
        names = "--calls",
        paramLabel = "FILE",
        description =
            "Also check this call log (e.g. .cfn/calls.db; opening it sweeps records past their"
                + " retention).")
    Path calls;

    @Option(
        names = "--tokens",
        paramLabel = "FILE",
        description =
            "Also check this token file (e.g. .cfn/tokens.db; a damaged record is listed by its id,"
                + " never a secret).")
    Path tokens;

    @Option(
        names = "--json",
        description = "Print the result as JSON: {ok, files: [{file, kind, ok, problems}]}.")
    boolean json;

    private final List<Map<String, Object>> checked = new ArrayList<>();

    @Override
    public Integer call() {
      if (server.remote()) {
        return remote(server.connect("--journal", "--db", "--memory", "--calls", "--tokens"));
      }
      store.existing();
      if (memory != null) {
        PathChecks.existingFile("--memory", memory, "memory file");
      }
      if (calls != null) {
        PathChecks.existingFile("--calls", calls, "call log");
      }
      if (tokens != null) {
        PathChecks.existingFile("--tokens", tokens, "token file");
      }
      PrintWriter out = spec.commandLine().getOut();
      boolean ok = report(out, store.db, "journal", JournalFiles.check(store.db));
      if (memory != null) {
        try (SqliteMemoryStore m = SqliteMemoryStore.open(memory)) {
          ok &= report(out, memory, "memory", m.check());
        } catch (MemoryException e) {
          ok &= report(out, memory, "memory", unusable(e.getMessage()));
        }
      }
      if (calls != null) {
        try (SqliteCallLogStore c = SqliteCallLogStore.open(calls)) {
          ok &= report(out, calls, "calls", c.check());
        } catch (CallLogException e) {
          ok &= report(out, calls, "calls", unusable(e.getMessage()));
        }
      }
      if (tokens != null) {
        try (TokenStore t = TokenStore.open(tokens)) {
          ok &= report(out, tokens, "tokens", t.check());
        } catch (TokenStoreException e) {
          ok &= report(out, tokens, "tokens", unusable(e.getMessage()));
        }
      }
      if (json) {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("ok", ok);
        all.put("files", checked);
        out.println(AgentCommand.json(all));
      }
      out.flush();
      if (!ok) {
        throw CommandFailure.failed(
            json ? "found problems (in the JSON)" : "found problems (listed above)",
            "each problem says what to do; cfn restore --from FILE puts a backup in place");
      }
      return ExitCode.OK;
    }

    /** The node's journal, memory file and token file, checked by the node itself. */
    private int remote(NodeClient node) {
      JsonNode all = node.get("/v1/store/check").orElseThrow();
      PrintWriter out = spec.commandLine().getOut();
      boolean ok = all.path("ok").asBoolean(false);
      for (JsonNode f : all.path("files")) {
        List<String> problems = new ArrayList<>();
        f.path("problems").forEach(p -> problems.add(p.asText()));
        report(
            out,
            Path.of(f.path("file").asText()),
            f.path("kind").asText(),
            new StoreCheck(f.path("ok").asBoolean(false), problems));
      }
      if (json) {
        out.println(AgentCommand.json(all));
      }
      out.flush();
      if (!ok) {
        throw CommandFailure.failed(
            (json ? "found problems (in the JSON)" : "found problems (listed above)")
                + " on "
                + node.base(),
            "each problem says what to do; stop the node and cfn restore --from FILE puts a"
                + " backup in place");
      }
      return ExitCode.OK;
    }

    private boolean report(PrintWriter out, Path file, String kind, StoreCheck result) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("file", file.toString());
      m.put("kind", kind);
      m.put("ok", result.ok());
      m.put("problems", result.problems());
      checked.add(m);
      if (json) {
        return result.ok();
      }
      if (result.ok()) {
        out.println("ok: " + file + " passed the integrity check and every checksum");
        return true;
      }
      out.println(result.problems().size() + " problem(s) in " + file + ":");
      result.problems().forEach(p -> out.println("  " + p));
      return false;
    }

    private static StoreCheck unusable(String why) {
      return new StoreCheck(false, List.of(ErrorReport.oneLine(why)));
    }
  }

  /** {@code cfn backup --to FILE}. */
  @Command(
      name = "backup",
      mixinStandardHelpOptions = true,
      description = {
        "Writes a verified, consistent online snapshot of the journal to FILE.",
        "Safe while a runtime is running and traffic flows."
      })
  static final class Backup implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();
    @Mixin ServerOptions server = new ServerOptions();

    @Option(names = "--to", required = true, paramLabel = "FILE", description = "The backup file.")
    Path to;

    @Override
    public Integer call() throws IOException {
      if (server.remote()) {
        NodeClient node = server.connect("--journal", "--db");
        PathChecks.outputFile("--to", to);
        return remote(node);
      }
      store.existing();
      PathChecks.outputFile("--to", to);
      BackupInfo info = JournalFiles.backup(store.db, to);
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "backed up " + store.db + " to " + info.path() + " (" + bytes(info.bytes()) + ")");
      out.printf(
          Locale.ROOT,
          "  %d pending, %d acknowledged ids (highest %d), %d dead letters, %d state rows;"
              + " taken at %s%n",
          info.pendingMessages(),
          info.acknowledgedIds(),
          info.highestAcknowledgedId(),
          info.deadLetters(),
          info.stateRows(),
          info.takenAt());
      out.flush();
      return ExitCode.OK;
    }

    /**
     * The node streams a verified snapshot; it lands in a hidden file beside {@code --to}, is
     * checked again here (integrity and every record's checksum), and only then takes its name.
     */
    private int remote(NodeClient node) throws IOException {
      Path target = to.toAbsolutePath();
      Path folder = target.getParent();
      if (folder == null || !Files.isDirectory(folder)) {
        throw CommandFailure.usage(
            "--to " + to + ": no folder " + folder, "create the folder first, or write elsewhere");
      }
      Path part = Files.createTempFile(folder, ".cfn-backup-", ".part");
      Files.delete(part);
      try {
        java.net.http.HttpHeaders headers =
            node.download("/v1/backup", part, java.time.Duration.ofMinutes(30))
                .orElseThrow(
                    () ->
                        CommandFailure.failed(
                            node.base() + " has no backup route", "update the node's cfn"));
        StoreCheck check = JournalFiles.check(part);
        if (!check.ok()) {
          throw CommandFailure.failed(
              "the snapshot from " + node.base() + " fails its check: " + check.problems(),
              "run it again; if it fails again, run cfn store check --server on the node");
        }
        Files.move(part, target);
        PrintWriter out = spec.commandLine().getOut();
        out.println(
            "backed up the journal of "
                + node.base()
                + " to "
                + target
                + " ("
                + bytes(Files.size(target))
                + ")");
        JsonNode info =
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(headers.firstValue("Cfn-Backup-Info").orElse("{}"));
        out.printf(
            Locale.ROOT,
            "  %d pending, %d acknowledged ids (highest %d), %d dead letters, %d state rows;"
                + " taken at %s%n",
            info.path("pendingMessages").asLong(),
            info.path("acknowledgedIds").asLong(),
            info.path("highestAcknowledgedId").asLong(),
            info.path("deadLetters").asLong(),
            info.path("stateRows").asLong(),
            info.path("takenAt").asText("?"));
        out.flush();
        return ExitCode.OK;
      } finally {
        Files.deleteIfExists(part);
      }
    }
  }

  static String bytes(long n) {
    return n < 1024 * 1024
        ? String.format(Locale.ROOT, "%,d bytes", n)
        : String.format(Locale.ROOT, "%.1f MB", n / (1024.0 * 1024));
  }

  /** {@code cfn restore --from FILE}. */
  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description = {
        "Verifies a backup and puts it in place of the journal.",
        "The current file is moved aside, never deleted. Refused while a runtime has the journal"
            + " open."
      })
  static final class Restore implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin StoreOptions store = new StoreOptions();

    @Option(
        names = "--from",
        required = true,
        paramLabel = "FILE",
        description = "The backup file.")
    Path from;

    @Override
    public Integer call() {
      PathChecks.existingFile("--from", from, "backup");
      if (Files.isDirectory(store.db)) {
        throw CommandFailure.usage(
            "--journal " + store.db + " is a folder", "give the journal file to replace");
      }
      // recorded in the audit log of the journal's folder (.cfn/audit for the embedded default)
      Path journal = store.db.toAbsolutePath().normalize();
      RestoreInfo info =
          AuditedAction.run(
              journal.getParent(),
              "store.restore",
              journal.toString(),
              Map.of("from", String.valueOf(from.toAbsolutePath().normalize().getFileName())),
              () -> JournalFiles.verifyBackup(from),
              () -> JournalFiles.restore(from, store.db));
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "restored "
              + info.backup()
              + " to "
              + info.database()
              + " ("
              + bytes(info.bytes())
              + ")");
      out.printf(
          Locale.ROOT,
          "  %d pending (redelivered when a runtime next opens it), %d acknowledged ids (highest"
              + " %d), %d dead letters, %d state rows%n",
          info.pendingMessages(),
          info.acknowledgedIds(),
          info.highestAcknowledgedId(),
          info.deadLetters(),
          info.stateRows());
      for (Path moved : info.movedAside()) {
        out.println("  the previous file was moved aside to " + moved);
      }
      out.flush();
      return ExitCode.OK;
    }
  }
}
