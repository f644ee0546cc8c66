package dev.cfn.flow.spec;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.flow.graph.TaskGraph;
import dev.cfn.flow.graph.TaskSpec;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Topology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * A task graph written as a file, YAML or JSON, checked whole when read: every problem is reported
 * at once with its line and fix, and nothing runs until the file is right. {@link #bind} then ties
 * each task to an agent definition (by name, or by a capability a definition offers) and builds the
 * {@link TaskGraph}.
 *
 * <pre>
 * graph: research                 # 1 to 64 letters, digits, '_' or '-'
 * deadline: 10m                   # optional: the run is cancelled after this long
 * state:                          # optional: the run's initial state
 *   topic: durable message queues
 * tasks:
 *   - id: outline
 *     agent: planner              # an agent definition's name ...
 *     input: "Two questions about {{state.topic}}"
 *   - id: answer-1
 *     capability: research        # ... or a capability (or type) a definition offers
 *     after: [outline]            # dependencies: a name or a list
 *     input: "Answer the first: {{result.outline}}"
 *     timeout: 2m                 # per attempt (default 5m)
 *     retry: {retries: 2, backoff: 1s}   # 3 attempts in all, backoff doubling
 *     writes: answer-1            # also put the result in the run's state
 * </pre>
 *
 * <p>A graph may run its tasks through a swarm ({@link SwarmSpec}): then every task names a
 * capability, each attempt goes to the swarm member the strategy picks among those offering it, and
 * one budget covers every member's model calls:
 *
 * <pre>
 * swarm: review-team              # the swarm's name (its ledger keeps what it spent) ...
 * swarm:                          # ... or a mapping
 *   name: review-team
 *   strategy: round-robin         # capability (default) or least-loaded, round-robin, sticky
 *   topology: mesh                # auto (default), mesh, hierarchical, star, ring
 * </pre>
 *
 * <p>Placeholders: {@code {{state.KEY}}} and {@code {{result.TASK}}}, where TASK must be one the
 * task depends on (directly or through others), so that its result exists when the input is made.
 */
public final class GraphFile {
  /** The largest graph file read. */
  public static final int MAX_CHARS = 1 << 20;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Set<String> TOP = Set.of("graph", "deadline", "state", "swarm", "tasks");
  private static final Set<String> SWARM = Set.of("name", "strategy", "topology");
  private static final List<String> STRATEGIES =
      List.of("capability", "least-loaded", "round-robin", "sticky");
  private static final Set<String> TASK =
      Set.of("id", "agent", "capability", "after", "input", "timeout", "retry", "writes");
  private static final LoadSettings SETTINGS =
      LoadSettings.builder()
          .setSchema(new CoreSchema())
          .setAllowDuplicateKeys(false)
          .setAllowRecursiveKeys(false)
          .setMaxAliasesForCollections(0)
          .setCodePointLimit(MAX_CHARS + 1)
          .build();

  /** One task as the file writes it. */
  private record Entry(
      int line,
      String id,
      String agent,
      String capability,
      List<String> after,
      String input,
      Duration timeout,
      int retries,
      Duration backoff,
      String writes) {}

  private final String source;
  private final String name;
  private final Duration deadline;
  private final Map<String, String> state;
  private final List<Entry> tasks;
  private final SwarmSpec swarm; // null: tasks go to agents

  private GraphFile(
      String source,
      String name,
      Duration deadline,
      Map<String, String> state,
      List<Entry> tasks,
      SwarmSpec swarm) {
    this.source = source;
    this.name = name;
    this.deadline = deadline;
    this.state = Collections.unmodifiableMap(new LinkedHashMap<>(state));
    this.tasks = List.copyOf(tasks);
    this.swarm = swarm;
  }

  /**
   * The file's {@code swarm:}: the graph's tasks go to the members of a swarm of this name, picked
   * by capability with {@code strategy}, and one budget covers them all (run it with {@code
   * GraphRunner.Builder.swarm(swarm, spec.assignment())}).
   *
   * @param name the swarm's name, 1 to 64 letters, digits, '_' or '-'
   * @param strategy how a member is picked among those offering a task's capability: {@code
   *     capability} or {@code least-loaded} (the least loaded; the default), {@code round-robin}
   *     (in turn), {@code sticky} (the same member for the same capability while it stays)
   * @param topology the swarm's topology (default {@link Topology#AUTO})
   */
  public record SwarmSpec(String name, String strategy, Topology topology) {
    /** Checks the parts. */
    public SwarmSpec {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(topology, "topology");
      if (!STRATEGIES.contains(strategy)) {
        throw new IllegalArgumentException(
            "unknown strategy '" + strategy + "'; use one of " + String.join(", ", STRATEGIES));
      }
    }

    /** How a task's capability becomes the swarm's pick under {@link #strategy}. */
    public Function<String, Assignment> assignment() {
      return switch (strategy) {
        case "round-robin" -> c -> Assignment.capability(c, Assignment.roundRobin());
        case "sticky" -> c -> Assignment.capability(c, Assignment.sticky(c));
        default -> Assignment::capability;
      };
    }
  }

  /** The file's {@code swarm:}, or empty when its tasks go to agents directly. */
  public Optional<SwarmSpec> swarm() {
    return Optional.ofNullable(swarm);
  }

  /**
   * Reads and checks {@code file}.
   *
   * @throws GraphFileException listing every problem, or saying why the file cannot be read
   */
  public static GraphFile read(Path file) {
    Objects.requireNonNull(file, "file");
    String text;
    try {
      if (Files.size(file) > MAX_CHARS) {
        throw new GraphFileException(
            List.of(
                file
                    + ": error: the file is over "
                    + MAX_CHARS
                    + " bytes (fix: a graph file lists tasks; keep long inputs in the state or"
                    + " split the graph)"));
      }
      text = dev.cfn.core.io.TextFile.readUtf8(file);
    } catch (dev.cfn.core.io.TextFile.NotTextException e) {
      throw new GraphFileException(
          List.of(
              file
                  + ":"
                  + e.line()
                  + ": error: "
                  + e.getMessage()
                  + " (fix: save it as UTF-8, e.g. iconv -f latin1 -t utf-8 "
                  + file.getFileName()
                  + " > fixed.yaml)"));
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new GraphFileException(
          List.of(
              file
                  + ": error: cannot read it: "
                  + e.getMessage()
                  + " (fix: give a readable UTF-8 YAML or JSON file)"));
    }
    return parse(text, file.toString());
  }

  /**
   * Reads and checks {@code text}; {@code source} names it in messages.
   *
   * @throws GraphFileException listing every problem
   */
  public static GraphFile parse(String text, String source) {
    return new Reader(source).read(text);
  }

  /** The graph's name. */
  public String name() {
    return name;
  }

  /** The run deadline, or null. */
  public Duration deadline() {
    return deadline;
  }

  /** The initial state the file gives. */
  public Map<String, String> state() {
    return state;
  }

  /** The task ids, in the file's order. */
  public List<String> taskIds() {
    return tasks.stream().map(Entry::id).toList();
  }

  /**
   * A graph bound to agent definitions.
   *
   * @param graph the graph, whose tasks go to agent types named as the definitions (or, with a
   *     swarm, name their capabilities)
   * @param agents the definition's name each task goes to, by task id, in the file's order; with a
   *     swarm, the first by name of those offering the task's capability (the member is picked when
   *     the task runs)
   * @param members with a swarm, every definition offering a capability the graph names, by name:
   *     the swarm's members; empty without one
   */
  public record Bound(TaskGraph graph, Map<String, String> agents, Set<String> members) {
    /** Copies the collections. */
    public Bound {
      agents = Collections.unmodifiableMap(new LinkedHashMap<>(agents));
      members = Collections.unmodifiableSet(new TreeSet<>(members));
    }

    /** A graph whose tasks go to agents directly. */
    public Bound(TaskGraph graph, Map<String, String> agents) {
      this(graph, agents, Set.of());
    }

    /** The definitions the graph uses, by name: the tasks' agents and the swarm's members. */
    public Set<String> definitions() {
      TreeSet<String> all = new TreeSet<>(agents.values());
      all.addAll(members);
      return all;
    }
  }

  /**
   * Ties every task to a definition of {@code definitions}: {@code agent: NAME} to the definition
   * so named, {@code capability: C} to the definition offering C (in its {@code capabilities} or as
   * its {@code type}; the first by name when several do).
   *
   * @throws GraphFileException naming every task whose agent or capability is not there
   */
  public Bound bind(Collection<AgentDefinition> definitions) {
    return bind(definitions, name);
  }

  /**
   * {@link #bind(Collection)}, naming the graph {@code graphName} instead of the file's name (a
   * runner keeps one graph per name: a caller that runs several versions of a file names each
   * apart, e.g. with a digest of its text).
   *
   * @throws GraphFileException naming every task whose agent or capability is not there
   * @throws dev.cfn.flow.graph.GraphValidationException when {@code graphName} is not a valid name
   */
  public Bound bind(Collection<AgentDefinition> definitions, String graphName) {
    Map<String, AgentDefinition> byName = new HashMap<>();
    for (AgentDefinition d : definitions) {
      byName.put(d.name(), d);
    }
    List<String> names = new ArrayList<>(new TreeSet<>(byName.keySet()));
    List<String> problems = new ArrayList<>();
    Map<String, String> agents = new LinkedHashMap<>();
    Set<String> members = new TreeSet<>();
    for (Entry e : tasks) {
      if (e.agent() != null) {
        if (byName.containsKey(e.agent())) {
          agents.put(e.id(), e.agent());
        } else {
          problems.add(
              at(e.line())
                  + "task '"
                  + e.id()
                  + "' goes to agent '"
                  + e.agent()
                  + "', and there is no agent definition of that name (fix: use one of "
                  + (names.isEmpty() ? "none: add agent files" : String.join(", ", names))
                  + ", or add "
                  + e.agent()
                  + ".md to the agents folder)");
        }
        continue;
      }
      String found = null;
      TreeSet<String> offered = new TreeSet<>();
      for (String n : names) {
        AgentDefinition d = byName.get(n);
        if (d.type() != null) {
          offered.add(d.type().toLowerCase(Locale.ROOT));
        }
        d.capabilities().forEach(c -> offered.add(c.toLowerCase(Locale.ROOT)));
        boolean offers =
            e.capability().equalsIgnoreCase(d.type() == null ? "" : d.type())
                || d.capabilities().stream().anyMatch(c -> c.equalsIgnoreCase(e.capability()));
        if (offers && found == null) {
          found = n;
        }
        if (offers && swarm != null) {
          members.add(n);
        }
      }
      if (found != null) {
        agents.put(e.id(), found);
      } else {
        problems.add(
            at(e.line())
                + "task '"
                + e.id()
                + "' needs capability '"
                + e.capability()
                + "', which no agent definition offers (fix: use one of "
                + (offered.isEmpty() ? "none" : String.join(", ", offered))
                + ", or list it under capabilities: in an agent file)");
      }
    }
    if (!problems.isEmpty()) {
      throw new GraphFileException(problems);
    }
    return new Bound(build(agents, graphName), agents, members);
  }

  private TaskGraph build(Map<String, String> agents, String graphName) {
    TaskGraph.Builder g = TaskGraph.builder(graphName);
    if (deadline != null) {
      g.deadline(deadline);
    }
    for (Entry e : tasks) {
      TaskSpec t = TaskSpec.of(e.id());
      if (swarm != null && e.capability() != null) {
        t.capability(e.capability());
      } else {
        t.agent(agents.getOrDefault(e.id(), "unbound"));
      }
      t.input(new InputTemplate(e.input()))
          .after(e.after().toArray(String[]::new))
          .timeout(e.timeout())
          .retries(e.retries(), e.backoff());
      if (e.writes() != null) {
        t.writes(e.writes());
      }
      g.task(t);
    }
    return g.build();
  }

  private String at(int line) {
    return source + ":" + line + ": error: ";
  }

  // ---------------------------------------------------------------- reading

  /** Reads one file, collecting problems. */
  private static final class Reader {
    private final String source;
    private final List<String> problems = new ArrayList<>();

    Reader(String source) {
      this.source = source;
    }

    private void problem(Node at, String what) {
      problems.add(source + ":" + line(at) + ": error: " + what);
    }

    private static int line(Node n) {
      return n == null ? 1 : n.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }

    GraphFile read(String text) {
      Node root;
      try {
        root =
            new Composer(SETTINGS, new ParserImpl(SETTINGS, new StreamReader(SETTINGS, text)))
                .getSingleNode()
                .orElse(null);
      } catch (MarkedYamlEngineException e) {
        int line = e.getProblemMark().or(e::getContextMark).map(m -> m.getLine() + 1).orElse(1);
        throw new GraphFileException(
            List.of(
                source
                    + ":"
                    + line
                    + ": error: not valid YAML or JSON: "
                    + e.getProblem()
                    + " (fix: indent with spaces, quote text holding ': ' or '#')"));
      } catch (YamlEngineException e) {
        throw new GraphFileException(
            List.of(
                source
                    + ": error: not valid YAML or JSON: "
                    + e.getMessage()
                    + " (fix: give a UTF-8 text file in YAML or JSON)"));
      }
      if (!(root instanceof MappingNode top)) {
        throw new GraphFileException(
            List.of(
                source
                    + ":1: error: a graph file is a mapping with graph: and tasks: (fix: start"
                    + " with 'graph: my-graph' and list the tasks under 'tasks:')"));
      }
      String name = null;
      Duration deadline = null;
      Map<String, String> state = new LinkedHashMap<>();
      List<Entry> tasks = new ArrayList<>();
      Node tasksNode = null;
      SwarmSpec swarm = null;
      for (NodeTuple kv : top.getValue()) {
        String key = scalar(kv.getKeyNode());
        Node value = kv.getValueNode();
        switch (key == null ? "" : key) {
          case "graph" -> {
            name = scalar(value);
            if (name == null || !NAME.matcher(name).matches()) {
              problem(
                  value,
                  "graph name '"
                      + name
                      + "' is not 1 to 64 letters, digits, '_' or '-' (fix: graph: research)");
              name = null;
            }
          }
          case "deadline" -> deadline = duration(value, "deadline");
          case "state" -> state = state(value);
          case "swarm" -> swarm = swarm(value);
          case "tasks" -> tasksNode = value;
          default ->
              problem(
                  kv.getKeyNode(),
                  "unknown key '" + key + "' (fix: use only " + new TreeSet<>(TOP) + ")");
        }
      }
      if (name == null && problems.isEmpty()) {
        problem(top, "the file has no graph: name (fix: add 'graph: my-graph' at the top)");
      }
      if (tasksNode == null) {
        problem(top, "the file has no tasks: (fix: list the tasks under 'tasks:')");
      } else if (!(tasksNode instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
        problem(tasksNode, "tasks: must be a non-empty list (fix: '- id: first' under tasks:)");
      } else {
        for (Node t : seq.getValue()) {
          Entry e = task(t);
          if (e != null) {
            tasks.add(e);
          }
        }
      }
      if (swarm != null) {
        for (Entry e : tasks) {
          if (e.agent() != null) {
            problems.add(
                source
                    + ":"
                    + e.line()
                    + ": error: task '"
                    + e.id()
                    + "' goes to agent '"
                    + e.agent()
                    + "', but the graph runs through swarm '"
                    + swarm.name()
                    + "', whose members are picked by capability (fix: capability: C instead of"
                    + " agent:, or remove swarm:)");
          }
        }
      }
      if (problems.isEmpty()) {
        checkGraph(tasks, top);
      }
      if (!problems.isEmpty()) {
        throw new GraphFileException(problems);
      }
      GraphFile file = new GraphFile(source, name, deadline, state, tasks, swarm);
      try {
        file.build(Map.of(), name); // the cycle check, on the graph's shape
      } catch (IllegalArgumentException e) { // GraphValidationException among them
        throw new GraphFileException(List.of(source + ": error: " + e.getMessage()));
      }
      return file;
    }

    private Entry task(Node node) {
      if (!(node instanceof MappingNode m)) {
        problem(node, "a task is a mapping (fix: '- id: name' then agent:, input:, ...)");
        return null;
      }
      Map<String, Node> f = new LinkedHashMap<>();
      for (NodeTuple kv : m.getValue()) {
        String key = scalar(kv.getKeyNode());
        if (key == null || !TASK.contains(key)) {
          problem(
              kv.getKeyNode(),
              "unknown task key '" + key + "' (fix: use only " + new TreeSet<>(TASK) + ")");
        } else {
          f.put(key, kv.getValueNode());
        }
      }
      String id = f.containsKey("id") ? scalar(f.get("id")) : null;
      if (id == null || !NAME.matcher(id).matches()) {
        problem(
            f.getOrDefault("id", node),
            (id == null ? "a task without an id" : "task id '" + id + "' is not valid")
                + " (fix: id: 1 to 64 letters, digits, '_' or '-', such as 'search-3')");
        return null;
      }
      String agent = f.containsKey("agent") ? scalar(f.get("agent")) : null;
      String capability = f.containsKey("capability") ? scalar(f.get("capability")) : null;
      if ((agent == null) == (capability == null)) {
        problem(
            node,
            "task '"
                + id
                + "' needs "
                + (agent == null ? "an agent" : "one of agent and capability, not both")
                + " (fix: agent: NAME for an agent definition, or capability: C for one that"
                + " offers C)");
      }
      List<String> after = new ArrayList<>();
      Node deps = f.get("after");
      if (deps instanceof SequenceNode s) {
        for (Node d : s.getValue()) {
          String dep = scalar(d);
          if (dep == null) {
            problem(d, "task '" + id + "': after: lists task ids (fix: after: [a, b])");
          } else {
            after.add(dep);
          }
        }
      } else if (deps != null) {
        String dep = scalar(deps);
        if (dep == null) {
          problem(deps, "task '" + id + "': after: is a task id or a list (fix: after: [a, b])");
        } else {
          after.add(dep);
        }
      }
      String input = "";
      if (f.containsKey("input")) {
        input = scalar(f.get("input"));
        if (input == null) {
          problem(f.get("input"), "task '" + id + "': input: is text (fix: quote it, or use |)");
          input = "";
        }
      }
      String malformed = new InputTemplate(input).malformed();
      if (malformed != null) {
        problem(
            f.getOrDefault("input", node),
            "task '"
                + id
                + "': the input's "
                + malformed
                + " is not a placeholder (fix: {{state.KEY}} or {{result.TASK}})");
      }
      Duration timeout =
          f.containsKey("timeout")
              ? duration(f.get("timeout"), "task '" + id + "': timeout")
              : TaskSpec.DEFAULT_TIMEOUT;
      int retries = 0;
      Duration backoff = Duration.ZERO;
      if (f.get("retry") instanceof MappingNode r) {
        for (NodeTuple kv : r.getValue()) {
          String key = scalar(kv.getKeyNode());
          if ("retries".equals(key)) {
            String n = scalar(kv.getValueNode());
            retries = n != null && n.matches("\\d{1,3}") ? Integer.parseInt(n) : -1;
            if (retries < 0 || retries > 100) {
              problem(
                  kv.getValueNode(),
                  "task '" + id + "': retries must be 0 to 100, was " + n + " (fix: retries: 2)");
              retries = 0;
            }
          } else if ("backoff".equals(key)) {
            backoff = duration(kv.getValueNode(), "task '" + id + "': backoff");
          } else {
            problem(
                kv.getKeyNode(),
                "task '" + id + "': unknown retry key '" + key + "' (fix: retries:, backoff:)");
          }
        }
      } else if (f.containsKey("retry")) {
        problem(
            f.get("retry"),
            "task '" + id + "': retry: is a mapping (fix: {retries: 2, backoff: 1s})");
      }
      String writes = f.containsKey("writes") ? scalar(f.get("writes")) : null;
      if (f.containsKey("writes")
          && (writes == null || writes.isBlank() || writes.contains("\n"))) {
        problem(
            f.get("writes"), "task '" + id + "': writes: is a state key (fix: writes: summary)");
        writes = null;
      }
      return new Entry(
          line(node),
          id,
          agent,
          capability,
          after,
          input,
          timeout == null ? TaskSpec.DEFAULT_TIMEOUT : timeout,
          retries,
          backoff == null ? Duration.ZERO : backoff,
          writes);
    }

    /** Duplicates, unknown dependencies and placeholders of tasks not depended on. */
    private void checkGraph(List<Entry> tasks, Node top) {
      Map<String, Entry> byId = new LinkedHashMap<>();
      for (Entry e : tasks) {
        if (byId.putIfAbsent(e.id(), e) != null) {
          problems.add(
              source
                  + ":"
                  + e.line()
                  + ": error: task '"
                  + e.id()
                  + "' is listed twice (also line "
                  + byId.get(e.id()).line()
                  + ") (fix: give every task its own id)");
        }
      }
      for (Entry e : tasks) {
        for (String d : e.after()) {
          if (!byId.containsKey(d)) {
            problems.add(
                source
                    + ":"
                    + e.line()
                    + ": error: task '"
                    + e.id()
                    + "' comes after '"
                    + d
                    + "', which is not in the graph (fix: one of "
                    + byId.keySet()
                    + ")");
          }
        }
      }
      if (!problems.isEmpty()) {
        return;
      }
      for (Entry e : tasks) {
        Set<String> before = ancestors(e.id(), byId, new HashSet<>());
        for (String r : new InputTemplate(e.input()).results()) {
          if (!before.contains(r)) {
            problems.add(
                source
                    + ":"
                    + e.line()
                    + ": error: task '"
                    + e.id()
                    + "' reads {{result."
                    + r
                    + "}}, "
                    + (byId.containsKey(r)
                        ? "but does not come after '" + r + "'"
                        : "and there is no task '" + r + "'")
                    + " (fix: add it to after:, or read another task's result)");
          }
        }
      }
    }

    private static Set<String> ancestors(String id, Map<String, Entry> byId, Set<String> seen) {
      Entry e = byId.get(id);
      if (e == null) {
        return seen;
      }
      for (String d : e.after()) {
        if (seen.add(d)) {
          ancestors(d, byId, seen);
        }
      }
      return seen;
    }

    /** {@code swarm: NAME}, or a mapping of name, strategy and topology; null on a problem. */
    private SwarmSpec swarm(Node node) {
      String fix = " (fix: swarm: my-team, or swarm: {name: my-team, strategy: round-robin})";
      Node nameNode = node;
      String name = scalar(node);
      String strategy = STRATEGIES.getFirst();
      Topology topology = Topology.AUTO;
      boolean ok = true;
      if (node instanceof MappingNode m) {
        name = null;
        for (NodeTuple kv : m.getValue()) {
          String key = scalar(kv.getKeyNode());
          String value = scalar(kv.getValueNode());
          if (key == null || !SWARM.contains(key)) {
            problem(
                kv.getKeyNode(),
                "unknown swarm key '" + key + "' (fix: use only " + new TreeSet<>(SWARM) + ")");
            ok = false;
          } else if (value == null) {
            problem(kv.getValueNode(), "swarm: " + key + ": is text" + fix);
            ok = false;
          } else if (key.equals("name")) {
            name = value;
            nameNode = kv.getValueNode();
          } else if (key.equals("strategy")) {
            strategy = value.strip().toLowerCase(Locale.ROOT);
            if (!STRATEGIES.contains(strategy)) {
              problem(
                  kv.getValueNode(),
                  "unknown swarm strategy '"
                      + value
                      + "' (fix: one of "
                      + String.join(", ", STRATEGIES)
                      + ")");
              ok = false;
            }
          } else {
            try {
              topology = Topology.parse(value);
            } catch (IllegalArgumentException e) {
              problem(
                  kv.getValueNode(),
                  "unknown swarm topology '"
                      + value
                      + "' (fix: one of auto, mesh, hierarchical, star, ring)");
              ok = false;
            }
          }
        }
        if (name == null && ok) {
          problem(node, "swarm: has no name:" + fix);
          return null;
        }
      } else if (name == null) {
        problem(node, "swarm: is a name or a mapping" + fix);
        return null;
      }
      if (name != null && !NAME.matcher(name).matches()) {
        problem(
            nameNode,
            "swarm name '"
                + name
                + "' is not 1 to 64 letters, digits, '_' or '-' (fix: swarm: review-team)");
        return null;
      }
      return ok ? new SwarmSpec(name, strategy, topology) : null;
    }

    private Map<String, String> state(Node node) {
      Map<String, String> out = new LinkedHashMap<>();
      if (!(node instanceof MappingNode m)) {
        problem(node, "state: is a mapping of keys to text (fix: state: {topic: queues})");
        return out;
      }
      for (NodeTuple kv : m.getValue()) {
        String k = scalar(kv.getKeyNode());
        String v = scalar(kv.getValueNode());
        if (k == null || k.isBlank() || k.contains("\n") || k.length() > 200 || v == null) {
          problem(kv.getKeyNode(), "state: key '" + k + "' needs a one-line key and a text value");
        } else {
          out.put(k, v);
        }
      }
      return out;
    }

    private Duration duration(Node node, String what) {
      String text = scalar(node);
      Duration d = text == null ? null : Durations.parse(text);
      if (d == null || d.isZero() || d.isNegative()) {
        if (what.endsWith("backoff") && d != null && d.isZero()) {
          return d;
        }
        problem(
            node, what + " '" + text + "' is not a positive duration (fix: 250ms, 30s, 5m, 1h)");
        return null;
      }
      return d;
    }

    private static String scalar(Node node) {
      return node instanceof ScalarNode s ? s.getValue() : null;
    }
  }
}
