package dev.cfn.flow.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.spi.Journal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A RELIABLE graph run as the journal holds it: the committed state of its coordinator {@code
 * cfn-flow-run/RUN}, laid out as {@code Run} documents it, read by whoever shows runs without
 * running them ({@code cfn task status}, {@code cfn status}, a node's {@code GET /v1/graphs/RUN}).
 * The one reader of that layout outside the coordinator; its {@link #json()} is the shape the API
 * answers and {@link #of(JsonNode)} reads it back.
 *
 * @param runId the run
 * @param status {@code RUNNING}, {@code SUCCEEDED}, {@code FAILED}, {@code CANCELLED}, or {@link
 *     #NOT_STARTED} when the journal has nothing of it
 * @param tasks the tasks, in the order given (the graph file's)
 * @param state the run's state (blackboard), in the order its keys were first written
 * @param cancelled why the run was cancelled, or null
 */
public record RunView(
    String runId, String status, List<Task> tasks, Map<String, String> state, String cancelled) {

  /** The status of a run the journal has nothing of (its files exist, its start does not). */
  public static final String NOT_STARTED = "NOT_STARTED";

  /** Where the committed state is read: a {@link Journal}, or cfn-store's lock-free reader. */
  @FunctionalInterface
  public interface Source {
    /** As {@link Journal#stateByPrefix(String, String, int)}. */
    SortedMap<String, String> stateByPrefix(String namespace, String prefix, int limit);
  }

  /**
   * One task.
   *
   * @param id its id in the graph
   * @param status {@link TaskStatus}'s name ({@code PENDING} when not started)
   * @param iteration its iteration (a loop's), from 1
   * @param attempts its attempts in that iteration
   * @param result its result, or null
   * @param error its error, or null
   */
  public record Task(
      String id, String status, int iteration, int attempts, String result, String error) {
    /** True once it has ended (neither pending nor running). */
    public boolean isFinal() {
      return !status.equals("PENDING") && !status.equals("RUNNING");
    }
  }

  /** Copies the collections. */
  public RunView {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(status, "status");
    tasks = List.copyOf(tasks);
    state = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(state));
  }

  /**
   * Reads run {@code runId} from {@code journal}, its tasks in {@code order} (the graph's task ids;
   * a task the journal has no row of is {@code PENDING}).
   */
  public static RunView read(Source journal, String runId, List<String> order) {
    SortedMap<String, String> all =
        journal.stateByPrefix("cfn-flow-run/" + runId, "", Journal.MAX_PREFIX_ENTRIES);
    boolean started = all.containsKey("graph");
    List<Task> tasks = new ArrayList<>();
    for (String id : order) {
      String row = started ? all.get("t." + id) : null;
      String[] parts = row == null ? new String[] {"PENDING", "1", "0"} : row.split("\\|", -1);
      tasks.add(
          new Task(
              id,
              parts[0],
              Integer.parseInt(parts[1]),
              Math.abs(Integer.parseInt(parts[2])), // negative while a retry waits its backoff
              all.get("r." + id),
              all.get("e." + id)));
    }
    if (!started) {
      return new RunView(runId, NOT_STARTED, tasks, Map.of(), null);
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

  /** A run as {@link #json()} shows it (a node's {@code GET /v1/graphs/RUN}), read back. */
  public static RunView of(JsonNode run) {
    List<Task> tasks = new ArrayList<>();
    for (JsonNode t : run.path("tasks")) {
      tasks.add(
          new Task(
              t.path("id").asText(),
              t.path("status").asText(),
              t.path("iteration").asInt(1),
              t.path("attempts").asInt(0),
              t.path("result").isNull() ? null : t.path("result").asText(null),
              t.path("error").isNull() ? null : t.path("error").asText(null)));
    }
    Map<String, String> state = new LinkedHashMap<>();
    run.path("state").properties().forEach(e -> state.put(e.getKey(), e.getValue().asText()));
    return new RunView(
        run.path("run").asText(),
        run.path("status").asText(),
        tasks,
        state,
        run.hasNonNull("cancelled") ? run.path("cancelled").asText() : null);
  }

  /** True once the run has ended (neither running nor not started). */
  public boolean isFinal() {
    return !status.equals("RUNNING") && !status.equals(NOT_STARTED);
  }

  /** How many tasks are {@code taskStatus}. */
  public long count(String taskStatus) {
    return tasks.stream().filter(t -> t.status().equals(taskStatus)).count();
  }

  /** How many tasks are in each status, by status name. */
  public Map<String, Integer> counts() {
    Map<String, Integer> counts = new TreeMap<>();
    tasks.forEach(t -> counts.merge(t.status(), 1, Integer::sum));
    return counts;
  }

  /** The run as JSON-ready maps, with its state. */
  public Map<String, Object> json() {
    return json(true);
  }

  /**
   * The run as JSON-ready maps: {@code run}, {@code status}, {@code cancelled} (when it was),
   * {@code tasks} (each with {@code id}, {@code status}, {@code iteration}, {@code attempts},
   * {@code result}, {@code error}) and, with {@code withState}, {@code state}.
   */
  public Map<String, Object> json(boolean withState) {
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
    if (withState) {
      m.put("state", new LinkedHashMap<>(state));
    }
    return m;
  }
}
