package dev.cfn.cli;

import dev.cfn.store.journal.JournalReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * A graph run as the journal holds it, read without the lock (see {@link JournalReader}): the
 * committed state of its coordinator {@code cfn-flow-run/RUN}, laid out as {@code
 * dev.cfn.flow.graph}'s {@code Run} documents it. What {@code cfn task status}, {@code cfn status}
 * and the end of {@code cfn task submit} print.
 *
 * @param runId the run
 * @param status RUNNING, SUCCEEDED, FAILED, CANCELLED, or NOT_STARTED when the journal has nothing
 * @param tasks the tasks, in the graph file's order
 * @param state the run's state (blackboard)
 * @param cancelled why the run was cancelled, or null
 */
record RunView(
    String runId, String status, List<Task> tasks, Map<String, String> state, String cancelled) {

  /** One task. */
  record Task(String id, String status, int iteration, int attempts, String result, String error) {
    boolean isFinal() {
      return !status.equals("PENDING") && !status.equals("RUNNING");
    }
  }

  static final String NOT_STARTED = "NOT_STARTED";

  /** Reads run {@code runId}, its tasks in {@code order}. */
  static RunView read(JournalReader journal, String runId, List<String> order) {
    SortedMap<String, String> all =
        journal.stateByPrefix(
            "cfn-flow-run/" + runId, "", dev.cfn.core.spi.Journal.MAX_PREFIX_ENTRIES);
    if (!all.containsKey("graph")) {
      List<Task> tasks = new ArrayList<>();
      for (String id : order) {
        tasks.add(new Task(id, "PENDING", 1, 0, null, null));
      }
      return new RunView(runId, NOT_STARTED, tasks, Map.of(), null);
    }
    List<Task> tasks = new ArrayList<>();
    for (String id : order) {
      String t = all.get("t." + id);
      String[] parts = t == null ? new String[] {"PENDING", "1", "0"} : t.split("\\|", -1);
      tasks.add(
          new Task(
              id,
              parts[0],
              Integer.parseInt(parts[1]),
              Math.abs(Integer.parseInt(parts[2])),
              all.get("r." + id),
              all.get("e." + id)));
    }
    Map<String, String> state = new LinkedHashMap<>();
    String keys = all.getOrDefault("s", "");
    if (!keys.isEmpty()) {
      for (String k : keys.split("\n", -1)) {
        String v = all.get("s." + k);
        if (v != null) {
          state.put(k, v);
        }
      }
    }
    return new RunView(
        runId, all.getOrDefault("status", "RUNNING"), tasks, state, all.get("cancel"));
  }

  boolean isFinal() {
    return !status.equals("RUNNING") && !status.equals(NOT_STARTED);
  }

  long count(String taskStatus) {
    return tasks.stream().filter(t -> t.status().equals(taskStatus)).count();
  }

  Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run", runId);
    m.put("status", status);
    if (cancelled != null) {
      m.put("cancelled", cancelled);
    }
    List<Map<String, Object>> ts = new ArrayList<>();
    for (Task t : tasks) {
      Map<String, Object> tm = new LinkedHashMap<>();
      tm.put("id", t.id());
      tm.put("status", t.status());
      tm.put("iteration", t.iteration());
      tm.put("attempts", t.attempts());
      tm.put("result", t.result());
      tm.put("error", t.error());
      ts.add(tm);
    }
    m.put("tasks", ts);
    m.put("state", state);
    return m;
  }
}
