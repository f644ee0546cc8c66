package dev.cfn.cli;

import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.QuarantinedRecord;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn store quarantine list|show|purge}: the damaged pending records a runtime's recovery
 * set aside instead of delivering (each failed its checksum). {@code list} and {@code show} read
 * the journal read-only and work beside a running runtime; {@code purge} writes, so the runtime
 * must be stopped.
 */
@Command(
    name = "quarantine",
    mixinStandardHelpOptions = true,
    description = {
      "Lists, shows and purges damaged pending records that recovery set aside.",
      "A record that fails its checksum is moved here when a runtime starts, so the others are"
          + " still delivered. list and show work while a runtime runs; purge needs it stopped."
    },
    subcommands = {
      QuarantineCommand.ListQuarantined.class,
      QuarantineCommand.Show.class,
      QuarantineCommand.Purge.class
    })
final class QuarantineCommand extends CommandGroup {

  static CommandFailure noSuchRecord(long id) {
    return CommandFailure.failed(
        "no quarantined record with id " + id, "cfn store quarantine list shows the ids");
  }

  static Map<String, Object> json(QuarantinedRecord r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("source", r.source());
    m.put("quarantinedAt", r.quarantinedAt().toString());
    m.put("problem", r.problem());
    m.put("columns", r.columns());
    return m;
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Lists the quarantined records (read-only; works while a runtime runs).")
  static final class ListQuarantined implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();

    @Option(names = "--json", description = "Print the records as a JSON array.")
    boolean json;

    @Override
    public Integer call() {
      try (JournalReader j = SqliteJournal.openReadOnly(store.existing())) {
        List<QuarantinedRecord> all = j.quarantined();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
          out.println(AgentCommand.json(all.stream().map(QuarantineCommand::json).toList()));
          out.flush();
          return ExitCode.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "QUARANTINED AT", "RECIPIENT", "PROBLEM"});
        for (QuarantinedRecord r : all) {
          rows.add(
              new String[] {
                Long.toString(r.id()),
                r.quarantinedAt().toString(),
                String.valueOf(r.columns().get("recipient")),
                DlqCommand.oneLine(r.problem(), 80)
              });
        }
        Table.print(out, rows);
        out.println(all.size() + " quarantined record(s) in " + store.db);
        out.flush();
        return ExitCode.OK;
      }
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Shows one quarantined record, every column as found (read-only).")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();

    @Parameters(paramLabel = "ID", description = "The record id (see cfn store quarantine list).")
    long id;

    @Option(names = "--json", description = "Print the record as a JSON object.")
    boolean json;

    @Override
    public Integer call() {
      DlqCommand.validId(id);
      try (JournalReader j = SqliteJournal.openReadOnly(store.existing())) {
        Optional<QuarantinedRecord> found = j.quarantined(id);
        if (found.isEmpty()) {
          throw noSuchRecord(id);
        }
        QuarantinedRecord r = found.get();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
          out.println(AgentCommand.json(QuarantineCommand.json(r)));
          out.flush();
          return ExitCode.OK;
        }
        out.println("id:              " + r.id());
        out.println("from table:      " + r.source());
        out.println("quarantined at:  " + r.quarantinedAt());
        out.println("problem:         " + r.problem());
        out.println("columns as found (none can be trusted):");
        r.columns().forEach((k, v) -> out.println("  " + k + ": " + v));
        out.flush();
        return ExitCode.OK;
      }
    }
  }

  @Command(
      name = "purge",
      mixinStandardHelpOptions = true,
      description = "Deletes one quarantined record for good (the runtime must be stopped).")
  static final class Purge implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();

    @Parameters(paramLabel = "ID", description = "The record id (see cfn store quarantine list).")
    long id;

    @Override
    public Integer call() {
      DlqCommand.validId(id);
      try (SqliteJournal j = SqliteJournal.builder(store.existing()).open()) {
        if (!j.quarantine().purge(id)) {
          throw noSuchRecord(id);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("deleted quarantined record " + id + " from " + store.db);
        out.flush();
        return ExitCode.OK;
      }
    }
  }
}
