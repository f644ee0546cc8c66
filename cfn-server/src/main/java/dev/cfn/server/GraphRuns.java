package dev.cfn.server;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.graph.GraphRun;
import dev.cfn.flow.graph.GraphRunner;
import dev.cfn.flow.graph.RunView;
import dev.cfn.flow.spec.GraphFile;
import dev.cfn.flow.spec.GraphFileException;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's durable task graphs: one RELIABLE {@link GraphRunner} over the node's runtime and
 * journal, and the graphs submitted to it, each kept as the run's files under {@code
 * .cfn/runs/RUN/} ({@code graph.yaml} as submitted and {@code run.properties}), the layout {@code
 * cfn task} keeps beside the journal, so that {@code cfn task status RUN} and {@code cfn status}
 * read a served run as they read their own.
 *
 * <p>A run submitted here is marked {@code origin=server}. When the node starts, the graph of every
 * such run is read, bound to the agents again and given to the runner before the runner is built,
 * so that the journal's redelivered messages find their graph and the runner resumes the unfinished
 * runs by itself. A run's progress is in the journal only (the coordinator's state, laid out as
 * {@code dev.cfn.flow.graph}'s {@code Run} documents it); the files never decide anything about it.
 *
 * <p>Tasks go to agent definitions of {@code .claude/agents} (registered as LLM agents on first
 * use, as a spawn does) or to the agent types the node was built with, each standing for a
 * definition of its own name.
 */
final class GraphRuns implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GraphRuns.class);

  static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");
  static final String GRAPH = "graph.yaml";
  static final String PROPS = "run.properties";
  static final String NOT_STARTED = RunView.NOT_STARTED;

  private final Node node;
  private final Path folder;
  private final GraphRunner runner;

  private GraphRuns(Node node, Path folder, GraphRunner runner) {
    this.node = node;
    this.folder = folder;
    this.runner = runner;
  }

  /**
   * The runner of {@code node}, with the graph of every run submitted to the node before; a graph
   * whose agents are gone is skipped with a warning (its run stays in the journal).
   */
  static GraphRuns open(Node node) {
    Path folder = node.home.resolve(".cfn").resolve("runs");
    GraphRunner.Builder b = GraphRunner.builder(node.runtime).reliable();
    java.util.Set<String> added = new java.util.HashSet<>();
    for (String id : ids(folder)) {
      Properties p = properties(folder.resolve(id));
      if (!"server".equals(p.getProperty("origin"))) {
        continue; // a run of cfn task submit: that command resumes it
      }
      try {
        String text = Files.readString(folder.resolve(id).resolve(GRAPH), StandardCharsets.UTF_8);
        GraphFile file = GraphFile.parse(text, folder.resolve(id).resolve(GRAPH).toString());
        GraphFile.Bound bound = bind(node, file, p.getProperty("bound", file.name()));
        registerAgents(node, bound);
        if (added.add(bound.graph().name())) {
          b.graph(bound.graph());
        }
      } catch (IOException | RuntimeException e) {
        log.warn(
            "cfn serve: run {}'s graph cannot be run again ({}); it stays in the journal",
            id,
            e.getMessage());
      }
    }
    return new GraphRuns(node, folder, b.build());
  }

  /** What a submission asks for, checked by the route. */
  record Submission(String text, String runId, Map<String, String> state, String by) {}

  /** A graph file naming a swarm: the node's runner has none, so it is refused before binding. */
  static final class SwarmRefused extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    SwarmRefused(String swarm) {
      super(
          "the graph runs through swarm '"
              + swarm
              + "' (swarm:), which a node does not do yet (fix: run it with cfn task submit FILE,"
              + " or remove swarm: and give each task an agent)");
    }
  }

  /** A submission bound and checked, before anything is written. */
  record Prepared(GraphFile file, GraphFile.Bound bound, String runId, String boundName) {}

  /**
   * Reads and binds a submission; nothing is written or registered.
   *
   * @throws GraphFileException listing every problem of the graph or its agents
   */
  Prepared prepare(Submission s) {
    GraphFile file = GraphFile.parse(s.text(), "graph");
    if (file.swarm().isPresent()) {
      throw new SwarmRefused(file.swarm().get().name());
    }
    String boundName = boundName(file.name(), s.text());
    GraphFile.Bound bound = bind(node, file, boundName);
    String id = s.runId() != null ? s.runId() : defaultRunId(file.name());
    return new Prepared(file, bound, id, boundName);
  }

  /** True when run {@code runId} has files here. */
  boolean exists(String runId) {
    return Files.isRegularFile(folder.resolve(runId).resolve(PROPS));
  }

  /** The bound graph name run {@code runId} was submitted with. */
  String boundOf(String runId) {
    return properties(folder.resolve(runId)).getProperty("bound", "");
  }

  /**
   * Registers the agents, adds the graph to the runner, writes the run's files and starts it:
   * durable when this returns.
   */
  GraphRun start(Prepared p, Submission s) throws IOException {
    registerAgents(node, p.bound());
    runner.add(p.bound().graph());
    Path dir = folder.resolve(p.runId());
    Files.createDirectories(dir);
    write(dir, GRAPH, s.text());
    Properties props = new Properties();
    props.setProperty("graph", p.file().name());
    props.setProperty("bound", p.boundName());
    props.setProperty("submitted", java.time.Instant.now().toString());
    props.setProperty("origin", "server");
    props.setProperty("by", s.by());
    props.setProperty("agents", "");
    props.setProperty("uses", String.join(",", p.bound().definitions()));
    Map<String, String> initial = new LinkedHashMap<>(p.file().state());
    initial.putAll(s.state());
    initial.forEach((k, v) -> props.setProperty("state." + k, v));
    StringBuilder text = new StringBuilder();
    try (java.io.StringWriter w = new java.io.StringWriter()) {
      props.store(w, "cfn serve: a task-graph run submitted to the node");
      text.append(w);
    }
    write(dir, PROPS, text.toString());
    try {
      return runner.start(p.bound().graph().name(), p.runId(), initial);
    } catch (RuntimeException e) { // refused before anything ran: no files without a run
      for (String f : new String[] {PROPS, GRAPH}) {
        Files.deleteIfExists(dir.resolve(f));
      }
      Files.deleteIfExists(dir);
      throw e;
    }
  }

  /** Continues run {@code runId}: starts it when its files exist but the journal has no start. */
  GraphRun resume(String runId) {
    Properties p = properties(folder.resolve(runId));
    if (!hosted(runId)) {
      throw new IllegalStateException(
          "run " + runId + " was not submitted to this node (fix: cfn task resume " + runId + ")");
    }
    if (journalState(runId).containsKey("graph")) {
      return runner.resume(runId);
    }
    Map<String, String> initial = new LinkedHashMap<>();
    p.stringPropertyNames().stream()
        .filter(k -> k.startsWith("state."))
        .sorted()
        .forEach(k -> initial.put(k.substring(6), p.getProperty(k)));
    return runner.start(p.getProperty("bound"), runId, initial);
  }

  /**
   * The agent types run {@code runId}'s tasks go to (what a token's scopes are checked against).
   */
  List<String> agentsOf(String runId) {
    String uses = properties(folder.resolve(runId)).getProperty("uses", "");
    return uses.isEmpty() ? List.of() : List.of(uses.split(","));
  }

  /** The handle of run {@code runId}, for cancelling it. */
  GraphRun handle(String runId) {
    return runner.run(runId);
  }

  /** True when the node's runner has the graph of run {@code runId}. */
  boolean hosted(String runId) {
    Properties p = properties(folder.resolve(runId));
    return "server".equals(p.getProperty("origin"))
        && runner.graphNames().contains(p.getProperty("bound", ""));
  }

  /** Every run with files here, by id. */
  List<String> ids() {
    return ids(folder);
  }

  /**
   * Run {@code runId} as the journal holds it ({@link RunView}), its tasks in the graph file's
   * order, with what the node knows of it besides: the graph's name, where it was submitted from,
   * when, and how many tasks are in each status.
   */
  Map<String, Object> view(String runId, boolean withState) {
    Path dir = folder.resolve(runId);
    Properties p = properties(dir);
    List<String> order;
    try {
      order =
          GraphFile.parse(Files.readString(dir.resolve(GRAPH), StandardCharsets.UTF_8), GRAPH)
              .taskIds();
    } catch (IOException | GraphFileException e) {
      order = List.of();
    }
    RunView run = RunView.read(node.journal::stateByPrefix, runId, order);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run", runId);
    m.put("graph", p.getProperty("graph", ""));
    m.putAll(run.json(withState));
    m.put("origin", p.getProperty("origin", "cli"));
    m.put("submitted", p.getProperty("submitted", ""));
    m.put("counts", run.counts());
    return m;
  }

  private SortedMap<String, String> journalState(String runId) {
    return node.journal.stateByPrefix("cfn-flow-run/" + runId, "", Journal.MAX_PREFIX_ENTRIES);
  }

  @Override
  public void close() {
    runner.close();
  }

  // ------------------------------------------------------------------ binding

  /**
   * Binds {@code file} to the node's agent definitions and, for a name no definition has, to an
   * agent type the node was built with.
   */
  static GraphFile.Bound bind(Node node, GraphFile file, String boundName) {
    Map<String, AgentDefinition> all = new LinkedHashMap<>();
    for (String type : node.extraTypes) {
      if (AgentDefinition.isValidName(type)) {
        all.put(
            type,
            new AgentDefinition(
                type,
                "agent type registered on the node",
                List.of(),
                null,
                null,
                type,
                List.of(),
                null,
                null,
                null,
                null,
                "",
                null,
                node.home.resolve("registered-type-" + type)));
      }
    }
    for (AgentDefinition d : node.definitions.definitions()) {
      all.put(d.name(), d);
    }
    return file.bind(all.values(), boundName);
  }

  /** Registers the definitions the graph uses that the runtime does not know yet. */
  static void registerAgents(Node node, GraphFile.Bound bound) {
    node.registerDefinitions(bound.definitions()); // throws ModelConfigException without a provider
  }

  /** The graph's name as the runner knows it: the file's name and a digest of its text. */
  static String boundName(String name, String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      String head = name.length() > 55 ? name.substring(0, 55) : name;
      return head + "-" + HexFormat.of().formatHex(d, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final java.security.SecureRandom SUFFIX = new java.security.SecureRandom();

  private static String defaultRunId(String graph) {
    String stamp =
        java.time.LocalDateTime.now(java.time.ZoneOffset.UTC)
            .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String head = graph.length() > 70 ? graph.substring(0, 70) : graph;
    return head + "-" + stamp + "-" + Integer.toHexString(SUFFIX.nextInt(0x1000, 0x10000));
  }

  // ------------------------------------------------------------------ files

  private static List<String> ids(Path folder) {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(folder)) {
      return out;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(folder)) {
      for (Path d : dirs) {
        String id = String.valueOf(d.getFileName());
        if (RUN_ID.matcher(id).matches()
            && Files.isRegularFile(d.resolve(PROPS))
            && Files.isRegularFile(d.resolve(GRAPH))) {
          out.add(id);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.sort(null);
    return out;
  }

  private static Properties properties(Path dir) {
    Properties p = new Properties();
    Path file = dir.resolve(PROPS);
    if (Files.isRegularFile(file)) {
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return p;
  }

  /** Writes {@code name} in {@code dir} whole or not at all (a temporary file moved over it). */
  private static void write(Path dir, String name, String text) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      w.write(text);
    }
    try (java.nio.channels.FileChannel c =
        java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      c.force(true);
    }
    try {
      Files.move(
          tmp,
          dir.resolve(name),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The graphs this node's runner has, by name (for tests and the list). */
  List<String> graphNames() {
    return runner.graphNames();
  }
}
