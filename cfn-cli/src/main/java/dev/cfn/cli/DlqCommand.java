package dev.cfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.Envelope;
import dev.cfn.store.journal.DeadLetterRecord;
import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.RawPayload;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn dlq list|show|replay|purge}: the dead-letter store of a journal. {@code list} and
 * {@code show} only read, through {@link SqliteJournal#openReadOnly}, so they work beside a running
 * runtime; {@code replay} and {@code purge} write, so the journal must not be open in a running
 * runtime (one process holds it at a time); replayed messages are delivered when a runtime next
 * opens it.
 */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = {
      "Lists, shows, replays and purges dead-lettered reliable messages.",
      "list and show only read and work while a runtime has the journal open; replay and purge"
          + " need the runtime stopped, or --server URL to act through a running node's API."
    },
    subcommands = {
      DlqCommand.ListDead.class,
      DlqCommand.Show.class,
      DlqCommand.Replay.class,
      DlqCommand.Purge.class
    })
final class DlqCommand extends CommandGroup {

  /** The options that name a local journal, refused with {@code --server}. */
  static final String[] LOCAL_FILE = {"--journal", "--db"};

  static int remoteList(NodeClient node, PrintWriter out, boolean json) {
    JsonNode all = node.get("/v1/dead-letters").orElseThrow().path("deadLetters");
    if (json) {
      out.println(AgentCommand.json(all));
      out.flush();
      return ExitCode.OK;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "DEAD AT", "RECIPIENT", "ATTEMPTS", "CAUSE"});
    for (JsonNode r : all) {
      rows.add(
          new String[] {
            r.path("id").asText(),
            r.path("deadAt").asText(),
            r.path("to").asText(),
            r.path("attempts").asText(),
            oneLine(r.path("cause").asText(), 80)
          });
    }
    Table.print(out, rows);
    out.println(all.size() + " dead letter(s) on " + node.base());
    out.flush();
    return ExitCode.OK;
  }

  static int remoteShow(NodeClient node, long id, PrintWriter out, boolean json) {
    JsonNode r = node.get("/v1/dead-letters/" + id).orElseThrow(() -> noSuchDeadLetter(id));
    if (json) {
      out.println(AgentCommand.json(r));
      out.flush();
      return ExitCode.OK;
    }
    out.println("id:          " + r.path("id").asText());
    out.println("type:        " + r.path("type").asText());
    out.println("from:        " + r.path("from").asText());
    out.println("to:          " + r.path("to").asText());
    out.println("headers:     " + r.path("headers"));
    out.println("created at:  " + r.path("createdAt").asText());
    out.println("dead at:     " + r.path("deadAt").asText());
    out.println("attempts:    " + r.path("attempts").asText());
    out.println("cause:       " + r.path("cause").asText());
    JsonNode p = r.path("payload");
    out.println("payload:     " + (p.isTextual() ? p.asText() : p.toString()));
    for (JsonNode a : r.path("history")) {
      out.println(
          "  attempt "
              + a.path("attempt").asText()
              + " at "
              + a.path("at").asText()
              + ": "
              + a.path("error").asText());
    }
    out.flush();
    return ExitCode.OK;
  }

  static SqliteJournal open(StoreOptions store) {
    return SqliteJournal.builder(store.existing()).open();
  }

  /**
   * Runs a local replay or purge with its entry in the audit log of the journal's folder ({@code
   * .cfn/audit} for the embedded default), under the action the node's API records for the same
   * change, so {@code cfn audit tail} shows both alike. A file that is not a journal is refused
   * first, read-only, before anything is created beside it (the audit log, its keys, the journal's
   * lock).
   */
  static <T> T audited(Path journal, String action, String target, Supplier<T> change) {
    return AuditedAction.run(
        journal.getParent(),
        action,
        target,
        Map.of("journal", String.valueOf(journal.getFileName())),
        () -> requireJournal(journal),
        change);
  }

  /** Refuses (as the read-only commands do) a file that is not a cfn journal; writes nothing. */
  static void requireJournal(Path journal) {
    try (JournalReader j = SqliteJournal.openReadOnly(journal)) {
      j.file(); // opening it checked it
    }
  }

  /** There is no such dead letter: a failure (exit 1) naming where to look. */
  static CommandFailure noSuchDeadLetter(long id) {
    return CommandFailure.failed("no dead letter with id " + id, "cfn dlq list shows the ids");
  }

  static long validId(long id) {
    ValueConverters.atLeast("ID", id, 1);
    return id;
  }

  static String payloadText(Envelope e) {
    Object p = e.payload();
    if (p instanceof RawPayload raw) {
      return raw.json() + "  (" + raw.className() + ")";
    }
    return String.valueOf(p);
  }

  static String oneLine(String s, int max) {
    String flat = s.replace('\n', ' ');
    return flat.length() <= max ? flat : flat.substring(0, max - 1) + "…";
  }

  static Map<String, Object> json(DeadLetterRecord r) {
    Envelope e = r.envelope();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.id());
    m.put("type", String.valueOf(e.type()));
    m.put("from", String.valueOf(e.sender()));
    m.put("to", String.valueOf(e.recipient()));
    m.put("priority", String.valueOf(e.priority()));
    m.put("headers", e.headers());
    m.put("createdAt", String.valueOf(e.createdAt()));
    m.put("deadAt", r.deadAt().toString());
    m.put("attempts", r.attempts());
    m.put("cause", r.cause());
    m.put("payload", payloadText(e));
    List<Map<String, Object>> history = new ArrayList<>();
    for (DeadLetterRecord.Attempt a : r.history()) {
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("attempt", a.attempt());
      h.put("at", a.at().toString());
      h.put("error", a.error());
      history.add(h);
    }
    m.put("history", history);
    return m;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists dead letters.")
  static final class ListDead implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();
    @Mixin ServerOptions server = new ServerOptions();

    @Option(names = "--json", description = "Print the dead letters as a JSON array.")
    boolean json;

    @Override
    public Integer call() {
      if (server.remote()) {
        return remoteList(server.connect(LOCAL_FILE), spec.commandLine().getOut(), json);
      }
      try (JournalReader j = SqliteJournal.openReadOnly(store.existing())) {
        List<DeadLetterRecord> all = j.deadLetters();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
          out.println(AgentCommand.json(all.stream().map(DlqCommand::json).toList()));
          out.flush();
          return ExitCode.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "DEAD AT", "RECIPIENT", "ATTEMPTS", "CAUSE"});
        for (DeadLetterRecord r : all) {
          rows.add(
              new String[] {
                Long.toString(r.envelope().id()),
                r.deadAt().toString(),
                String.valueOf(r.envelope().recipient()),
                Integer.toString(r.attempts()),
                oneLine(r.cause(), 80)
              });
        }
        Table.print(out, rows);
        out.println(all.size() + " dead letter(s) in " + store.db);
        out.flush();
        return ExitCode.OK;
      }
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one dead letter.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();
    @Mixin ServerOptions server = new ServerOptions();

    @Parameters(paramLabel = "ID", description = "The message id (see cfn dlq list).")
    long id;

    @Option(names = "--json", description = "Print the dead letter as a JSON object.")
    boolean json;

    @Override
    public Integer call() {
      validId(id);
      if (server.remote()) {
        return remoteShow(server.connect(LOCAL_FILE), id, spec.commandLine().getOut(), json);
      }
      try (JournalReader j = SqliteJournal.openReadOnly(store.existing())) {
        Optional<DeadLetterRecord> found = j.deadLetter(id);
        if (found.isEmpty()) {
          throw noSuchDeadLetter(id);
        }
        DeadLetterRecord r = found.get();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
          out.println(AgentCommand.json(DlqCommand.json(r)));
          out.flush();
          return ExitCode.OK;
        }
        Envelope e = r.envelope();
        out.println("id:          " + e.id());
        out.println("type:        " + e.type());
        out.println("from:        " + e.sender());
        out.println("to:          " + e.recipient());
        out.println("priority:    " + e.priority());
        out.println("headers:     " + e.headers());
        out.println("created at:  " + e.createdAt());
        out.println("dead at:     " + r.deadAt());
        out.println("attempts:    " + r.attempts());
        out.println("cause:       " + r.cause());
        out.println("payload:     " + payloadText(e));
        for (DeadLetterRecord.Attempt a : r.history()) {
          out.println("  attempt " + a.attempt() + " at " + a.at() + ": " + a.error());
        }
        out.flush();
        return ExitCode.OK;
      }
    }
  }

  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description = "Makes a dead letter pending again (attempts reset).")
  static final class Replay implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();
    @Mixin ServerOptions server = new ServerOptions();

    @Parameters(paramLabel = "ID", description = "The message id (see cfn dlq list).")
    long id;

    @Override
    public Integer call() {
      validId(id);
      if (server.remote()) {
        NodeClient node = server.connect(LOCAL_FILE);
        node.call("POST", "/v1/dead-letters/" + id + "/replay", null)
            .orElseThrow(() -> noSuchDeadLetter(id));
        PrintWriter out = spec.commandLine().getOut();
        out.println("message " + id + " was delivered again by the running node at " + node.base());
        out.flush();
        return ExitCode.OK;
      }
      Path journal = store.existing().toAbsolutePath().normalize();
      Envelope replayed =
          audited(
              journal,
              "POST /v1/dead-letters/{id}/replay",
              "dead-letter:" + id,
              () -> {
                try (SqliteJournal j = open(store)) {
                  return j.deadLetterQueue().replay(id).orElseThrow(() -> noSuchDeadLetter(id));
                }
              });
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "message "
              + id
              + " to "
              + replayed.recipient()
              + " is pending again; a runtime delivers it when it next opens "
              + store.db);
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "purge",
      mixinStandardHelpOptions = true,
      description = "Deletes dead letters: one by id, or all with --all.")
  static final class Purge implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store = new StoreOptions();
    @Mixin ServerOptions server = new ServerOptions();

    @Parameters(arity = "0..1", paramLabel = "ID", description = "The message id to delete.")
    Long id;

    @Option(names = "--all", description = "Delete every dead letter.")
    boolean all;

    @Override
    public Integer call() {
      if ((id == null) == !all) {
        throw CommandFailure.usage(
            "give either one ID or --all", "cfn dlq purge 42, or cfn dlq purge --all");
      }
      if (id != null) {
        validId(id);
      }
      PrintWriter out = spec.commandLine().getOut();
      if (server.remote()) {
        NodeClient node = server.connect(LOCAL_FILE);
        if (all) {
          JsonNode done = node.call("DELETE", "/v1/dead-letters", null).orElseThrow();
          out.println("deleted " + done.path("deleted").asLong() + " dead letter(s)");
        } else {
          node.call("DELETE", "/v1/dead-letters/" + id, null)
              .orElseThrow(() -> noSuchDeadLetter(id));
          out.println("deleted dead letter " + id);
        }
        out.flush();
        return ExitCode.OK;
      }
      Path journal = store.existing().toAbsolutePath().normalize();
      if (all) {
        long deleted =
            audited(
                journal,
                "DELETE /v1/dead-letters",
                "*",
                () -> {
                  try (SqliteJournal j = open(store)) {
                    return j.deadLetterQueue().purge();
                  }
                });
        out.println("deleted " + deleted + " dead letter(s)");
      } else {
        audited(
            journal,
            "DELETE /v1/dead-letters/{id}",
            "dead-letter:" + id,
            () -> {
              try (SqliteJournal j = open(store)) {
                if (!j.deadLetterQueue().remove(id)) {
                  throw noSuchDeadLetter(id);
                }
                return id;
              }
            });
        out.println("deleted dead letter " + id);
      }
      out.flush();
      return ExitCode.OK;
    }
  }
}
