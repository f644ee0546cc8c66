package dev.cfn.cli;

import dev.cfn.flow.graph.RunView;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.spec.GraphFile;
import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.SqliteJournal;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn status}: the project's state at a glance, read-only (safe beside a running process):
 * the journal (in use or not, pending messages, dead letters, quarantined records), the graph runs
 * beside it and how each stands, what each run's processes spent, the CFN Loop runs of the journal
 * and the durable swarm runs beside it.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Shows the project's state at a glance: the journal, the task-graph runs and their states,"
          + " dead letters, what the runs spent.",
      "Read-only; works while a process has the journal open."
    })
final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin StoreOptions store = new StoreOptions();

  @Option(names = "--json", description = "Print the state as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    if (Files.isDirectory(store.db)) {
      throw CommandFailure.usage(
          "--journal " + store.db + " is a folder, not a journal file",
          "give the file, e.g. --journal " + store.db.resolve("cfn.db"));
    }
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> r = new LinkedHashMap<>();
    Map<String, Object> journal = new LinkedHashMap<>();
    journal.put("file", store.db.toString());
    boolean exists = Files.isRegularFile(store.db);
    journal.put("exists", exists);
    List<Map<String, Object>> runs = new ArrayList<>();
    BigDecimal cost = BigDecimal.ZERO;
    long tokens = 0;
    long calls = 0;
    if (exists) {
      journal.put("bytes", Files.size(store.db));
      journal.put("inUse", RunFiles.journalInUse(store.db).orElse(null));
      try (JournalReader reader = SqliteJournal.openReadOnly(store.db)) {
        journal.put("pending", reader.pendingCount());
        journal.put("deadLetters", reader.deadLetters().size());
        journal.put("quarantined", reader.quarantined().size());
        for (RunFiles run : RunFiles.all(store.db)) {
          Map<String, Object> m = new LinkedHashMap<>();
          Properties p = run.properties();
          m.put("run", run.runId());
          m.put("graph", p.getProperty("graph", "?"));
          m.put("submitted", p.getProperty("submitted", "?"));
          try {
            GraphFile g = run.graph();
            RunView view = RunView.read(reader::stateByPrefix, run.runId(), g.taskIds());
            m.put("status", view.status());
            m.put("tasks", view.tasks().size());
            m.put("succeeded", view.count("SUCCEEDED"));
            m.put("failed", view.count("FAILED"));
          } catch (CommandFailure e) {
            m.put("status", "UNREADABLE");
            m.put("problem", e.getMessage());
          }
          m.put("cancelRequests", run.cancelRequests());
          long c = RunFiles.number(p, "spent.calls");
          long t = RunFiles.number(p, "spent.tokens");
          BigDecimal usd = new BigDecimal(p.getProperty("spent.costUsd", "0"));
          m.put("modelCalls", c);
          m.put("tokens", t);
          m.put("costUsd", usd);
          calls += c;
          tokens += t;
          cost = cost.add(usd);
          runs.add(m);
        }
      }
    }
    java.util.SortedMap<String, String> loops = new java.util.TreeMap<>();
    if (exists) {
      try (JournalReader reader = SqliteJournal.openReadOnly(store.db)) {
        loops.putAll(reader.stateByPrefix(LoopRunner.INDEX, "", 10_000));
      }
    }
    List<Map<String, Object>> swarms = swarmRuns(store.db);
    r.put("journal", journal);
    r.put("runs", runs);
    r.put("loops", loops);
    r.put("swarms", swarms);
    Map<String, Object> spent = new LinkedHashMap<>();
    spent.put("modelCalls", calls);
    spent.put("tokens", tokens);
    spent.put("costUsd", cost);
    r.put("spent", spent);
    Path memory = store.db.toAbsolutePath().resolveSibling("memory.db");
    Path callLog = store.db.toAbsolutePath().resolveSibling("calls.db");
    r.put("memoryFile", Files.isRegularFile(memory) ? memory.toString() : null);
    r.put("callLog", Files.isRegularFile(callLog) ? callLog.toString() : null);
    if (json) {
      out.println(AgentCommand.json(r));
      out.flush();
      return ExitCode.OK;
    }
    if (!exists) {
      out.println(
          "no journal at "
              + store.db
              + (swarms.isEmpty()
                  ? ": nothing has run here yet (cfn task submit GRAPH_FILE starts a durable run)"
                  : ""));
      printSwarms(out, swarms);
      out.flush();
      return ExitCode.OK;
    }
    Object inUse = journal.get("inUse");
    out.printf(
        Locale.ROOT,
        "journal %s (%s)%s: %d pending, %d dead letters, %d quarantined%n",
        store.db,
        StoreCommand.bytes((Long) journal.get("bytes")),
        Boolean.TRUE.equals(inUse) ? ", open in a running process" : "",
        (Long) journal.get("pending"),
        (Integer) journal.get("deadLetters"),
        (Integer) journal.get("quarantined"));
    if (runs.isEmpty()) {
      out.println("no task-graph runs");
    } else {
      List<String[]> rows = new ArrayList<>();
      rows.add(
          new String[] {"RUN", "GRAPH", "STATUS", "TASKS", "SUBMITTED", "CALLS", "TOKENS", "COST"});
      for (Map<String, Object> m : runs) {
        rows.add(
            new String[] {
              (String) m.get("run"),
              (String) m.get("graph"),
              m.get("status")
                  + (((List<?>) m.get("cancelRequests")).isEmpty() ? "" : " (cancel asked)"),
              m.containsKey("tasks") ? m.get("succeeded") + "/" + m.get("tasks") + " done" : "-",
              (String) m.get("submitted"),
              String.valueOf(m.get("modelCalls")),
              String.valueOf(m.get("tokens")),
              "$" + ((BigDecimal) m.get("costUsd")).toPlainString()
            });
      }
      Table.print(out, rows);
    }
    out.printf(
        Locale.ROOT,
        "spent by the runs: %d model calls, %d tokens, $%s%n",
        calls,
        tokens,
        cost.toPlainString());
    if (!runs.isEmpty()) {
      out.println("cfn task status RUN shows a run's tasks; cfn dlq list the dead letters");
    }
    if (!loops.isEmpty()) {
      out.println();
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"CFN LOOP RUN", "STATUS"});
      loops.forEach((id, status) -> rows.add(new String[] {id, status}));
      Table.print(out, rows);
      out.println("cfn loop show RUN shows a loop's timeline");
    }
    printSwarms(out, swarms);
    out.flush();
    return ExitCode.OK;
  }

  /** The durable swarm runs ({@code cfn swarm run --id}) whose files are beside {@code db}. */
  static List<Map<String, Object>> swarmRuns(Path db) throws IOException {
    Path parent = db.toAbsolutePath().getParent();
    Path folder = (parent != null ? parent : db.toAbsolutePath()).resolve("swarms");
    List<Map<String, Object>> out = new ArrayList<>();
    if (!Files.isDirectory(folder)) {
      return out;
    }
    java.util.TreeMap<String, Path> sorted = new java.util.TreeMap<>();
    try (java.nio.file.DirectoryStream<Path> dirs = Files.newDirectoryStream(folder)) {
      for (Path d : dirs) {
        Path file = d.resolve("run.properties");
        if (Files.isRegularFile(file)) {
          sorted.put(String.valueOf(d.getFileName()), file);
        }
      }
    }
    for (Map.Entry<String, Path> e : sorted.entrySet()) {
      Properties p = new Properties();
      try (java.io.Reader reader =
          Files.newBufferedReader(e.getValue(), java.nio.charset.StandardCharsets.UTF_8)) {
        p.load(reader);
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run", e.getKey());
      m.put("status", p.getProperty("status", "?"));
      m.put("turns", RunFiles.number(p, "turns"));
      m.put("objective", p.getProperty("objective", ""));
      out.add(m);
    }
    return out;
  }

  private static void printSwarms(PrintWriter out, List<Map<String, Object>> swarms) {
    if (swarms.isEmpty()) {
      return;
    }
    out.println();
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"SWARM RUN", "STATUS", "TURNS", "OBJECTIVE"});
    for (Map<String, Object> m : swarms) {
      rows.add(
          new String[] {
            (String) m.get("run"),
            (String) m.get("status"),
            String.valueOf(m.get("turns")),
            DlqCommand.oneLine((String) m.get("objective"), 60)
          });
    }
    Table.print(out, rows);
    out.println("cfn swarm run --resume RUN goes on with a durable swarm run that did not finish");
  }
}
