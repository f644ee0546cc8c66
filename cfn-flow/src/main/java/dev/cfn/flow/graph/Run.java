package dev.cfn.flow.graph;

import dev.cfn.core.AgentId;
import dev.cfn.core.Effects;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One run's state as its coordinator holds it: every task's status, iteration, attempt, result and
 * error, the blackboard, and the run's status. In a RELIABLE run it is a mirror of the
 * coordinator's namespace in the journal: every change is also written through {@link Effects}
 * (committed with the acknowledgement of the message that caused it), and a fresh coordinator
 * (after a restart) loads it back with {@link #load}. The layout of that namespace:
 *
 * <pre>
 *  graph        the graph's name          status    the RunStatus
 *  deadline     epoch millis, or 0        cancel    why the run was cancelled, if it was
 *  t.TASK       STATUS|ITERATION|ATTEMPT|REQUESTS|MEMBER   r.TASK  result    e.TASK   error
 *  i.TASK       the input of the iteration under way, kept for its retries (tasks with retries)
 *  s.KEY        a state value             s         the state's keys, one per line
 *  seq          messages handled (to tell a memory ahead of the journal after a failed commit)
 * </pre>
 *
 * <p>ATTEMPT is negative while a retry waits out its backoff. REQUESTS are the ids of the requests
 * sent for the iteration under way, one per attempt, comma-separated: a reply names its request,
 * and that is how the coordinator knows which task answered. A RUNNING row without that field was
 * written by an earlier version, whose iteration went through an attempts agent ({@link
 * TaskAttempts}); such a task is {@link #legacy}. MEMBER is the swarm's member picked for the
 * iteration's attempts (tasks naming a capability; empty otherwise, and in rows of earlier
 * versions), written with the request that sends an attempt to it: after a restart the attempt
 * under way is still known to be at that member, and its retries go there too.
 */
final class Run implements RunState {
  final String runId;
  final TaskGraph graph;
  final TaskStatus[] status;
  final int[] iteration;
  final int[] attempt;
  final String[] result;
  final String[] error;
  final String[] input; // BEST_EFFORT runs: the input of the attempt under way
  final int[] waitingFor; // dependencies not yet final
  final long[] asked; // RELIABLE: the request of the attempt under way, 0 for none
  private final String[] askedIds; // RELIABLE: every request of the iteration under way, as written
  final Map<Long, Integer> requests = new java.util.HashMap<>(); // request id -> task index
  final boolean[] legacy; // RELIABLE: an iteration at an attempts agent (an earlier version's run)
  final AgentId[] member; // a swarm's task: the member of the iteration's attempts, or null
  private java.util.function.IntConsumer changed; // told of every change of a task's row, or null
  final Map<String, String> state = new LinkedHashMap<>();
  RunStatus runStatus = RunStatus.RUNNING;
  long deadlineAt;
  String cancelled;
  int unfinished;
  long seq; // RELIABLE: messages handled, committed with each under "seq"
  private Effects effects; // the current RELIABLE message's effects, or null

  Run(String runId, TaskGraph graph) {
    this.runId = runId;
    this.graph = graph;
    int n = graph.nodes().size();
    this.status = new TaskStatus[n];
    Arrays.fill(status, TaskStatus.PENDING);
    this.iteration = new int[n];
    Arrays.fill(iteration, 1);
    this.attempt = new int[n];
    this.result = new String[n];
    this.error = new String[n];
    this.input = new String[n];
    this.waitingFor = new int[n];
    this.asked = new long[n];
    this.askedIds = new String[n];
    this.legacy = new boolean[n];
    this.member = new AgentId[n];
    this.dirty = new boolean[n];
    for (Node node : graph.nodes()) {
      waitingFor[node.index()] = node.dependencies().length;
    }
    this.unfinished = n;
  }

  /**
   * Changes made from now on are also written to {@code effects} (null: in memory only); task rows
   * are written at {@link #flush}. Setting another target forgets rows not flushed.
   */
  void writeThrough(Effects effects) {
    if (effects == null || effects != this.effects) {
      for (int k = 0; k < dirtyCount; k++) {
        dirty[dirtyList[k]] = false;
      }
      dirtyCount = 0;
    }
    this.effects = effects;
  }

  /** Loads a RELIABLE run from its coordinator's namespace; empty when it was never started. */
  static Optional<Run> load(String runId, Effects effects, Map<String, TaskGraph> graphs) {
    Optional<String> name = effects.get("graph");
    if (name.isEmpty()) {
      return Optional.empty();
    }
    TaskGraph graph = graphs.get(name.get());
    if (graph == null) {
      throw new IllegalStateException(
          "run '"
              + runId
              + "' is of graph '"
              + name.get()
              + "', which this GraphRunner does not have (fix: add the graph to the runner's"
              + " builder before the runtime delivers the run's messages)");
    }
    Run run = new Run(runId, graph);
    run.seq = run.committedSeq(effects);
    run.runStatus = RunStatus.valueOf(effects.get("status").orElse("RUNNING"));
    run.deadlineAt = Long.parseLong(effects.get("deadline").orElse("0"));
    run.cancelled = effects.get("cancel").orElse(null);
    for (Node node : graph.nodes()) {
      int i = node.index();
      Optional<String> t = effects.get("t." + node.id());
      if (t.isPresent()) {
        String[] parts = t.get().split("\\|", 5); // a member's key may hold a '|'
        run.status[i] = TaskStatus.valueOf(parts[0]);
        run.iteration[i] = Integer.parseInt(parts[1]);
        run.attempt[i] = Integer.parseInt(parts[2]);
        if (parts.length > 3 && !parts[3].isEmpty()) {
          run.askedIds[i] = parts[3];
          for (String id : parts[3].split(",", -1)) {
            long req = Long.parseLong(id);
            run.requests.put(req, i);
            run.asked[i] = req;
          }
        }
        run.legacy[i] = run.status[i] == TaskStatus.RUNNING && parts.length < 4;
        if (parts.length > 4 && !parts[4].isEmpty()) {
          run.member[i] = AgentId.parse(parts[4]);
        }
        if (node.attempts() > 1 && run.status[i] == TaskStatus.RUNNING) {
          run.input[i] = effects.get("i." + node.id()).orElse(null);
        }
      }
      run.result[i] = effects.get("r." + node.id()).orElse(null);
      run.error[i] = effects.get("e." + node.id()).orElse(null);
    }
    for (Node node : graph.nodes()) {
      if (run.status[node.index()].isFinal()) {
        run.unfinished--;
        for (int d : node.dependents()) {
          run.waitingFor[d]--;
        }
      }
    }
    String keys = effects.get("s").orElse("");
    for (String key : keys.isEmpty() ? new String[0] : keys.split("\n", -1)) {
      effects.get("s." + key).ifPresent(v -> run.state.put(key, v));
    }
    return Optional.of(run);
  }

  /** The count of handled messages in {@code effects} (committed, or written by this batch). */
  long committedSeq(Effects effects) {
    return effects.getLong("seq").orElse(0);
  }

  /**
   * Counts a handled message (RELIABLE runs): its task rows are written, and {@code seq} with them
   * when {@code writeSeq}. A batched turn commits all its messages or none, so its coordinator
   * writes {@code seq} once, on the turn's first message: the count then stands for turns rather
   * than messages, which is all the check after a failed commit needs (memory ahead of the journal
   * is a different count either way).
   */
  void handled(boolean writeSeq) {
    flush();
    if (writeSeq) {
      seq++;
      write("seq", Long.toString(seq));
      seqEffects = effects;
    }
  }

  /** True when {@code seq} was written to {@code effects} (this turn's) already. */
  boolean seqWritten(Effects effects) {
    return effects != null && effects == seqEffects;
  }

  private Effects seqEffects; // the effects {@code seq} was last written to

  /** Records the start: the graph, the initial state and the deadline. */
  void started(Map<String, String> initial, long deadlineAt) {
    this.deadlineAt = deadlineAt;
    write("graph", graph.name());
    write("status", runStatus.name());
    write("deadline", Long.toString(deadlineAt));
    // no rows for the tasks: a task without one is PENDING, iteration 1 (see load)
    initial.forEach(this::put);
  }

  void put(String key, String value) {
    boolean added = state.put(key, value) == null;
    write("s." + key, value);
    if (added) {
      write("s", String.join("\n", state.keySet()));
    }
  }

  void setStatus(int i, TaskStatus s) {
    status[i] = s;
    writeTask(i);
  }

  void setIteration(int i, int it) {
    iteration[i] = it;
    attempt[i] = 0;
    member[i] = null; // a new iteration is assigned afresh
    forgetRequests(i);
    writeTask(i);
  }

  /**
   * Records the swarm's member picked for task {@code i}'s attempts: RELIABLE, in the same row and
   * commit as the request sending the attempt to it.
   */
  void setMember(int i, AgentId m) {
    member[i] = m;
    writeTask(i);
  }

  /** {@code hook} is told the index of every task whose status, attempt or member changes. */
  void onChange(java.util.function.IntConsumer hook) {
    this.changed = hook;
  }

  /** Records the input of task {@code i}'s iteration (written when the task may be retried). */
  void setInput(int i, String in) {
    input[i] = in;
    Node node = graph.nodes().get(i);
    if (node.attempts() > 1) {
      write("i." + node.id(), in);
    }
  }

  /** RELIABLE: request {@code id} carries task {@code i}'s attempt under way. */
  void asked(int i, long id) {
    requests.put(id, i);
    asked[i] = id;
    askedIds[i] = askedIds[i] == null ? Long.toString(id) : askedIds[i] + "," + id;
    writeTask(i);
  }

  /** Forgets the requests of task {@code i}'s iteration: replies to them are late from now on. */
  void forgetRequests(int i) {
    if (askedIds[i] != null) {
      if (askedIds[i].indexOf(',') < 0) {
        requests.remove(asked[i]); // one attempt, the common case
      } else {
        for (String id : askedIds[i].split(",", -1)) {
          requests.remove(Long.parseLong(id));
        }
      }
      askedIds[i] = null;
      asked[i] = 0;
      writeTask(i);
    }
  }

  void setAttempt(int i, int a) {
    attempt[i] = a;
    writeTask(i);
  }

  void setResult(int i, String r) {
    result[i] = r;
    write("r." + graph.nodes().get(i).id(), r);
  }

  void setError(int i, String e) {
    error[i] = e;
    write("e." + graph.nodes().get(i).id(), e);
  }

  void setRunStatus(RunStatus s) {
    runStatus = s;
    write("status", s.name());
  }

  void setCancelled(String reason) {
    cancelled = reason;
    write("cancel", reason);
  }

  // Tasks whose row changed during the current message, written once by flush(): a message often
  // changes one task's status, attempt and iteration, and each write is a row in the commit.
  private final boolean[] dirty;
  private int[] dirtyList = new int[8];
  private int dirtyCount;

  private void writeTask(int i) {
    if (changed != null) {
      changed.accept(i);
    }
    if (effects == null || dirty[i]) {
      return;
    }
    dirty[i] = true;
    if (dirtyCount == dirtyList.length) {
      dirtyList = Arrays.copyOf(dirtyList, dirtyCount * 2);
    }
    dirtyList[dirtyCount++] = i;
  }

  /** Writes the rows of the tasks changed since the last flush (RELIABLE runs). */
  void flush() {
    for (int k = 0; k < dirtyCount; k++) {
      int i = dirtyList[k];
      dirty[i] = false;
      String ids = askedIds[i] == null ? "" : askedIds[i];
      String row = status[i] + "|" + iteration[i] + "|" + attempt[i] + "|" + ids;
      write("t." + graph.nodes().get(i).id(), member[i] == null ? row : row + "|" + member[i]);
    }
    dirtyCount = 0;
  }

  private void write(String key, String value) {
    if (effects != null) {
      if (value == null) {
        effects.delete(key);
      } else {
        effects.put(key, value);
      }
    }
  }

  RunOutcome outcome() {
    Map<String, TaskOutcome> tasks = new LinkedHashMap<>();
    for (Node node : graph.nodes()) {
      int i = node.index();
      tasks.put(node.id(), new TaskOutcome(status[i], result[i], error[i], iteration[i]));
    }
    return new RunOutcome(runId, graph.name(), runStatus, tasks, state);
  }

  /** The tasks under way, for cancellation and resumption. */
  List<Node> running() {
    List<Node> out = new ArrayList<>();
    for (Node node : graph.nodes()) {
      if (status[node.index()] == TaskStatus.RUNNING) {
        out.add(node);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- RunState

  @Override
  public String runId() {
    return runId;
  }

  @Override
  public Optional<String> get(String key) {
    return Optional.ofNullable(state.get(key));
  }

  @Override
  public Optional<String> result(String task) {
    Node node = graph.node(task);
    if (node == null) {
      throw new IllegalArgumentException(
          "graph '"
              + graph.name()
              + "' has no task '"
              + task
              + "' (fix: use one of "
              + graph.taskIds()
              + ")");
    }
    return Optional.ofNullable(result[node.index()]);
  }

  @Override
  public int iteration(String task) {
    Node node = graph.node(task);
    return node == null ? 1 : iteration[node.index()];
  }

  @Override
  public Map<String, String> snapshot() {
    return Map.copyOf(state);
  }
}
