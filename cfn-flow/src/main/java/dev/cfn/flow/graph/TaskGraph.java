package dev.cfn.flow.graph;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A directed acyclic graph of tasks, validated when built: no cycle, no dependency on a task that
 * does not exist, no duplicate task, every task with an agent (or a capability, for a swarm).
 * Immutable; run it with {@link GraphRunner}. The compositions on the builder write the common
 * shapes in a line each:
 *
 * <pre>{@code
 * TaskGraph g = TaskGraph.builder("research")
 *     .task(TaskSpec.of("plan").agent("planner").input(s -> s.get("topic").orElseThrow()))
 *     .fanOutIn("plan", searches, TaskSpec.of("summary").agent("writer"))  // 10 in parallel, joined
 *     .loop(TaskSpec.of("polish").agent("editor").after("summary"),
 *           (result, s) -> result.contains("LGTM"), 5)                     // at most 5 rounds
 *     .branch("polish", s -> s.get("publish").isPresent(),
 *           TaskSpec.of("post").agent("publisher"), TaskSpec.of("archive").agent("archivist"))
 *     .build();
 * }</pre>
 *
 * <p>A supervisor (an LLM agent that plans which member does what next) is {@code
 * dev.cfn.flow.supervisor.Supervisor}; a graph written as a YAML or JSON file is read by {@code
 * dev.cfn.flow.spec.GraphFile}.
 */
public final class TaskGraph {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final String name;
  private final List<Node> nodes; // topological order
  private final Map<String, Node> byId;
  private final Duration deadline;

  private TaskGraph(String name, List<Node> nodes, Duration deadline) {
    this.name = name;
    this.nodes = List.copyOf(nodes);
    Map<String, Node> m = new HashMap<>();
    for (Node n : nodes) {
      m.put(n.id(), n);
    }
    this.byId = Map.copyOf(m);
    this.deadline = deadline;
  }

  /** Starts a graph named {@code name} (1 to 64 letters, digits, '_' or '-'). */
  public static Builder builder(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new GraphValidationException(
          "graph name '"
              + name
              + "' is not 1 to 64 letters, digits, '_' or '-' (fix: name it like 'research')");
    }
    return new Builder(name);
  }

  /** The graph's name, unique in a {@link GraphRunner}. */
  public String name() {
    return name;
  }

  /** The task ids, in an order where every task comes after its dependencies. */
  public List<String> taskIds() {
    return nodes.stream().map(Node::id).toList();
  }

  /** The run deadline, or null when runs may take as long as their tasks do. */
  public Duration deadline() {
    return deadline;
  }

  List<Node> nodes() {
    return nodes;
  }

  Node node(String id) {
    return byId.get(id);
  }

  /** Builds a {@link TaskGraph}; {@link #build()} validates. */
  public static final class Builder {
    private final String name;
    private final Map<String, TaskSpec> specs = new LinkedHashMap<>();
    private final List<String> duplicates = new ArrayList<>();
    private Duration deadline;

    private Builder(String name) {
      this.name = name;
    }

    /** Adds tasks. */
    public Builder task(TaskSpec... tasks) {
      for (TaskSpec t : tasks) {
        Objects.requireNonNull(t, "task");
        if (specs.putIfAbsent(t.id, t) != null) {
          duplicates.add(t.id);
        }
      }
      return this;
    }

    /** Adds {@code tasks} in a chain: each runs after the one before it. */
    public Builder sequence(TaskSpec... tasks) {
      for (int i = 0; i < tasks.length; i++) {
        if (i > 0) {
          tasks[i].after(tasks[i - 1].id);
        }
        task(tasks[i]);
      }
      return this;
    }

    /** Fan-out: adds {@code branches}, each running after {@code from}, all in parallel. */
    public Builder fanOut(String from, TaskSpec... branches) {
      for (TaskSpec b : branches) {
        task(b.after(from));
      }
      return this;
    }

    /** Fan-in: adds {@code into}, running after every task of {@code from}. */
    public Builder fanIn(TaskSpec into, String... from) {
      return task(into.after(from));
    }

    /** Fan-out after {@code from} to {@code branches}, then fan-in to {@code into}. */
    public Builder fanOutIn(String from, List<TaskSpec> branches, TaskSpec into) {
      fanOut(from, branches.toArray(TaskSpec[]::new));
      return fanIn(into, branches.stream().map(TaskSpec::id).toArray(String[]::new));
    }

    /**
     * A loop: adds {@code body}, repeated until {@code exit} holds on an iteration's result, at
     * most {@code maxIterations} times (see {@link TaskSpec#repeatUntil}).
     */
    public Builder loop(TaskSpec body, BiPredicate<String, RunState> exit, int maxIterations) {
      return task(body.repeatUntil(exit, maxIterations));
    }

    /**
     * A conditional branch after {@code from}: {@code then} runs when {@code condition} holds on
     * the run's state, {@code otherwise} (may be null) when it does not; the other is skipped.
     */
    public Builder branch(
        String from, Predicate<RunState> condition, TaskSpec then, TaskSpec otherwise) {
      Objects.requireNonNull(condition, "condition");
      task(then.after(from).when(condition));
      if (otherwise != null) {
        task(otherwise.after(from).when(condition.negate()));
      }
      return this;
    }

    /** Cancels a run that has not finished {@code deadline} after it started. */
    public Builder deadline(Duration deadline) {
      if (deadline == null || deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException(
            "graph '" + name + "': deadline must be positive, was " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Validates and builds the graph.
     *
     * @throws GraphValidationException naming the task and the fix
     */
    public TaskGraph build() {
      if (!duplicates.isEmpty()) {
        throw new GraphValidationException(
            "graph '"
                + name
                + "': task '"
                + duplicates.getFirst()
                + "' is added twice (fix: give every task its own id)");
      }
      if (specs.isEmpty()) {
        throw new GraphValidationException(
            "graph '" + name + "' has no task (fix: add one with task(TaskSpec.of(...)))");
      }
      for (TaskSpec t : specs.values()) {
        if (t.agent == null && t.agentType == null && t.capability == null) {
          throw new GraphValidationException(
              "graph '"
                  + name
                  + "': task '"
                  + t.id
                  + "' has no agent (fix: .agent(\"type\"), .agent(AgentId.of(type, key)) or"
                  + " .capability(\"review\") for a swarm's member)");
        }
        for (String d : t.after) {
          if (!specs.containsKey(d)) {
            throw new GraphValidationException(
                "graph '"
                    + name
                    + "': task '"
                    + t.id
                    + "' depends on '"
                    + d
                    + "', which is not in the graph (fix: add task '"
                    + d
                    + "' or remove it from "
                    + t.id
                    + "'s after(...))");
          }
          if (d.equals(t.id)) {
            throw new GraphValidationException(
                "graph '"
                    + name
                    + "': task '"
                    + t.id
                    + "' depends on itself (fix: remove it from its own after(...); to repeat a"
                    + " task use repeatUntil)");
          }
        }
      }
      return new TaskGraph(name, order(), deadline);
    }

    /** Kahn's algorithm; what is left over holds a cycle, which is named. */
    private List<Node> order() {
      List<String> ids = new ArrayList<>(specs.keySet());
      Map<String, Integer> pending = new HashMap<>();
      Map<String, List<String>> dependents = new HashMap<>();
      for (String id : ids) {
        List<String> deps = specs.get(id).after.stream().distinct().toList();
        pending.put(id, deps.size());
        for (String d : deps) {
          dependents.computeIfAbsent(d, k -> new ArrayList<>()).add(id);
        }
      }
      ArrayDeque<String> ready = new ArrayDeque<>();
      for (String id : ids) {
        if (pending.get(id) == 0) {
          ready.add(id);
        }
      }
      List<String> sorted = new ArrayList<>(ids.size());
      while (!ready.isEmpty()) {
        String id = ready.poll();
        sorted.add(id);
        for (String next : dependents.getOrDefault(id, List.of())) {
          if (pending.merge(next, -1, Integer::sum) == 0) {
            ready.add(next);
          }
        }
      }
      if (sorted.size() < ids.size()) {
        throw new GraphValidationException(
            "graph '"
                + name
                + "' has a cycle: "
                + cycle(pending)
                + " (fix: remove one of these dependencies; to repeat a task use repeatUntil)");
      }
      Map<String, Integer> index = new HashMap<>();
      for (int i = 0; i < sorted.size(); i++) {
        index.put(sorted.get(i), i);
      }
      List<Node> nodes = new ArrayList<>(sorted.size());
      for (int i = 0; i < sorted.size(); i++) {
        TaskSpec t = specs.get(sorted.get(i));
        List<String> deps = t.after.stream().distinct().toList();
        int[] depIdx = deps.stream().mapToInt(index::get).toArray();
        int[] outIdx =
            dependents.getOrDefault(t.id, List.of()).stream().mapToInt(index::get).toArray();
        Arrays.sort(outIdx);
        nodes.add(
            new Node(
                i,
                t.id,
                t.agent,
                t.agentType,
                t.capability,
                t.input,
                deps,
                depIdx,
                outIdx,
                t.timeout,
                t.attempts,
                t.backoff,
                t.when,
                t.until,
                t.maxIterations,
                t.writes));
      }
      return nodes;
    }

    /** A path around one cycle among the tasks Kahn's algorithm could not order. */
    private String cycle(Map<String, Integer> pending) {
      String start =
          specs.keySet().stream().filter(id -> pending.get(id) > 0).findFirst().orElseThrow();
      List<String> path = new ArrayList<>();
      Map<String, Integer> seen = new HashMap<>();
      String at = start;
      while (!seen.containsKey(at)) {
        seen.put(at, path.size());
        path.add(at);
        String cur = at;
        at =
            specs.get(cur).after.stream().filter(d -> pending.get(d) > 0).findFirst().orElseThrow();
      }
      List<String> loop = new ArrayList<>(path.subList(seen.get(at), path.size()));
      Collections.reverse(loop); // walked against the arrows: show them forward
      loop.add(loop.getFirst());
      return String.join(" -> ", loop);
    }
  }
}
