package dev.cfn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.budget.PriceTable;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.hook.Hooks;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.ProviderTrust;
import dev.cfn.ai.model.RoutedModel;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.InMemoryJournal;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.loop.LoopEvent;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.loop.LoopStatus;
import dev.cfn.flow.loop.LoopTimeline;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.ModelServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn loop run|status|show|decide|replay}: the CFN Loop ({@code dev.cfn.flow.loop}) on an
 * embedded RELIABLE runtime. Runs live in the journal ({@code --journal}, default {@code
 * .cfn/cfn.db}); the agents' model calls in the call log ({@code --calls}, default {@code
 * .cfn/calls.db}), so a run interrupted by a crash goes on with {@code run --resume} without paying
 * for its recorded calls again, and {@code replay} reruns a finished run from the log alone.
 *
 * <p>With {@code --server URL} ({@link ServerOptions}), {@code run}, {@code status}, {@code show}
 * and {@code decide} act on a running node ({@code cfn serve}) instead: {@code run} submits the
 * loop ({@code POST /v1/loops}; the node's agent definitions and model providers run it, durably in
 * its journal and call log), follows it to its end or to a person's decision and prints it as the
 * local run does, with the same exit codes; {@code run --resume RUN} follows a run the node has.
 */
@Command(
    name = "loop",
    mixinStandardHelpOptions = true,
    description =
        "The CFN Loop: implementers (with a confidence gate), validators (consensus) and a product"
            + " owner, durable and replayable.",
    subcommands = {
      LoopCommand.Run.class,
      LoopCommand.Status.class,
      LoopCommand.Show.class,
      LoopCommand.Decide.class,
      LoopCommand.Replay.class
    })
final class LoopCommand extends CommandGroup {
  static final Path DEFAULT_CALLS = SqliteCallLogStore.DEFAULT_FILE;
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The options of the commands that open the journal and the call log. */
  static final class RunFiles {
    @Mixin StoreOptions store;

    @Option(
        names = "--calls",
        paramLabel = "FILE",
        description = "The call log of the agents' model calls (default: .cfn/calls.db).")
    Path calls = DEFAULT_CALLS;
  }

  /** The options of the commands that run agents. */
  static final class AgentOptions {
    @Mixin AgentPathOptions agentPaths = new AgentPathOptions();

    @Option(
        names = "--project",
        paramLabel = "DIR",
        description = "Where .cfn/providers.yaml is looked up (default: the current folder).")
    Path project = Path.of(".");

    @Option(
        names = "--trust-providers",
        description = "Trust the project's .cfn/providers.yaml as it is now (see cfn run).")
    boolean trustProviders;

    @Option(
        names = "--replay",
        paramLabel = "CASSETTE",
        description =
            "Answer the model calls from a cassette instead of a provider: offline, no key; e.g."
                + " examples/cfn-loop/cassette.json.")
    Path cassette;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        description = "How long to wait for the run to finish or wait for a person (default: 1h).")
    Duration timeout = Duration.ofHours(1);

    @Mixin HookOptions hooks = new HookOptions();
  }

  // ---------------------------------------------------------------- run

  /** {@code cfn loop run TASK...}. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description =
          "Runs a CFN Loop on a task (or goes on with one after a crash: --resume RUN) and prints"
              + " its timeline; with --server URL the node runs it and this follows it.")
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin RunFiles files;
    @Mixin AgentOptions agentOptions;

    @Parameters(arity = "0..*", paramLabel = "TASK", description = "The task.")
    List<String> task;

    @Option(names = "--id", paramLabel = "RUN", description = "The run's id (default: loop-TIME).")
    String id;

    @Option(
        names = "--resume",
        paramLabel = "RUN",
        description = "Go on with run RUN after a crash (no task or agents options then).")
    String resume;

    @Option(
        names = "--implementer",
        paramLabel = "AGENT",
        description = "An implementer (Loop 3), repeatable: 1 to 10.")
    List<String> implementers = new ArrayList<>();

    @Option(
        names = "--validator",
        paramLabel = "AGENT",
        description = "A validator (Loop 2), repeatable: 2 to 4.")
    List<String> validators = new ArrayList<>();

    @Option(names = "--owner", paramLabel = "AGENT", description = "The product owner (Loop 4).")
    String owner;

    @Option(
        names = "--gate",
        paramLabel = "CONFIDENCE",
        description = "Every implementer's confidence must reach it (default: 0.75).")
    BigDecimal gate = LoopSpec.DEFAULT_GATE;

    @Option(
        names = "--threshold",
        paramLabel = "SCORE",
        description = "The validators' consensus score to reach (default: 0.90).")
    BigDecimal threshold = LoopSpec.DEFAULT_THRESHOLD;

    @Option(
        names = "--quorum",
        paramLabel = "N",
        description = "Readable verdicts needed (default: two thirds of the validators).")
    Integer quorum;

    @Option(
        names = "--max-implementations",
        paramLabel = "N",
        description = "Loop 3 iterations per round (default: 10).")
    int maxImplementations = LoopSpec.DEFAULT_ITERATIONS;

    @Option(
        names = "--max-validations",
        paramLabel = "N",
        description = "Loop 2 rounds (default: 10).")
    int maxValidations = LoopSpec.DEFAULT_ITERATIONS;

    @Option(
        names = "--call-timeout",
        paramLabel = "DURATION",
        description = "How long one agent call may take (default: 10m).")
    Duration callTimeout = Duration.ofMinutes(10);

    @Option(names = "--json", description = "Print the run's record as JSON.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws Exception {
      ValueConverters.positive("--timeout", agentOptions.timeout);
      ValueConverters.positive("--call-timeout", callTimeout);
      if (server.remote()) {
        return remote();
      }
      String text = task == null ? "" : String.join(" ", task).strip();
      LoopRecord existing = null;
      LoopSpec loop;
      String runId;
      if (resume != null) {
        if (!text.isEmpty() || !implementers.isEmpty() || !validators.isEmpty() || owner != null) {
          throw CommandFailure.usage(
              "--resume goes on with a run as it was started; it takes no task or agents",
              "cfn loop run --resume " + resume);
        }
        runId = checkRunId(resume);
        existing = readExisting(files, runId);
        if (existing.status().isFinal()) {
          throw CommandFailure.usage(
              "run " + runId + " has finished (" + existing.status() + ")",
              "cfn loop show " + runId + " shows it; cfn loop replay " + runId + " reruns it");
        }
        loop = existing.spec();
      } else {
        loop = spec(text);
        runId =
            checkRunId(
                id != null
                    ? id
                    : "loop-"
                        + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)
                            .withZone(ZoneOffset.UTC)
                            .format(java.time.Instant.now()));
        if (read(files, runId).isPresent()) {
          throw CommandFailure.usage(
              "run " + runId + " exists already in " + files.store.db,
              "give another --id, or cfn loop show " + runId);
        }
      }
      PathChecks.outputFile("--journal", files.store.db);
      PathChecks.outputFile("--calls", files.calls);
      Progress progress = new Progress(spec.commandLine().getErr(), json);
      try (Session s = Session.open(agentOptions, files, loop, spec, null, false)) {
        s.follow(progress);
        progress.event(
            (existing != null ? "cfn loop run: resuming run " : "cfn loop run: run ")
                + runId
                + " on "
                + files.store.db);
        CompletableFuture<LoopRecord> run =
            existing != null ? s.runner.resume(runId) : s.runner.start(runId, loop, text);
        LoopRecord r;
        try {
          r = await(run, agentOptions.timeout, runId);
        } finally {
          progress.done();
        }
        return print(r, json, spec.commandLine().getOut());
      }
    }

    /** The loop the options describe, checked as the runner checks it (bad usage otherwise). */
    private LoopSpec spec(String text) {
      if (text.isEmpty()) {
        throw CommandFailure.usage(
            "no task given", "say what to build, e.g. cfn loop run \"Write isPrime(int)\" ...");
      }
      if (implementers.isEmpty() || validators.isEmpty() || owner == null) {
        throw CommandFailure.usage(
            "a CFN Loop needs --implementer (1 to 10), --validator (2 to 4) and --owner",
            "e.g. --implementer coder --validator reviewer --validator tester --owner"
                + " product-owner");
      }
      try {
        LoopSpec.Builder b =
            LoopSpec.builder()
                .implementers(implementers)
                .validators(validators)
                .owner(owner)
                .gate(gate)
                .threshold(threshold)
                .maxImplementations(maxImplementations)
                .maxValidations(maxValidations)
                .callTimeout(callTimeout);
        if (quorum != null) {
          b.quorum(quorum);
        }
        return b.build();
      } catch (IllegalArgumentException e) {
        throw usage(e);
      }
    }

    /**
     * {@code --server URL}: the run is submitted to the node ({@code POST /v1/loops}), whose agents
     * (the definitions of its {@code .claude/agents}) and model providers run it, durably in the
     * node's journal; this follows it to its end or to a person's decision and prints it as the
     * local run does, with the same exit codes. {@code --resume RUN} follows a run the node has.
     */
    private int remote() throws Exception {
      NodeClient node = server.connect(LOCAL_ONLY);
      String text = task == null ? "" : String.join(" ", task).strip();
      String runId;
      Progress progress = new Progress(spec.commandLine().getErr(), json);
      // subscribed before the run is submitted or read: none of its events can slip by
      EventStream events;
      if (resume != null) {
        if (!text.isEmpty() || !implementers.isEmpty() || !validators.isEmpty() || owner != null) {
          throw CommandFailure.usage(
              "--resume follows a run as it was started; it takes no task or agents",
              "cfn loop run --resume " + resume + " --server " + node.base());
        }
        runId = checkRunId(resume);
        LoopRecord existing = remoteRecord(node, runId);
        if (existing.status().isFinal()) {
          throw CommandFailure.usage(
              "run " + runId + " has finished (" + existing.status() + ") on the node",
              "cfn loop show " + runId + " --server " + node.base() + " shows it");
        }
        events = EventStream.open(node);
        progress.event("cfn loop run: following run " + runId + " on " + node.base());
      } else {
        LoopSpec loop = spec(text);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("task", text);
        if (id != null) {
          body.put("run", checkRunId(id));
        }
        body.put("implementers", loop.implementers());
        body.put("validators", loop.validators());
        body.put("owner", loop.owner());
        body.put("gate", loop.gate());
        body.put("threshold", loop.threshold());
        if (quorum != null) {
          body.put("quorum", quorum);
        }
        body.put("maxImplementations", loop.maxImplementations());
        body.put("maxValidations", loop.maxValidations());
        body.put("callTimeoutMs", callTimeout.toMillis());
        events = EventStream.open(node);
        com.fasterxml.jackson.databind.JsonNode r;
        try {
          r =
              node.call("POST", "/v1/loops", body)
                  .orElseThrow(
                      () ->
                          CommandFailure.failed(
                              "the node at "
                                  + node.base()
                                  + " takes no CFN Loop runs (no /v1/loops)",
                              "update cfn on the node, or run the loop locally without --server"));
        } catch (RuntimeException e) {
          events.close();
          throw e;
        }
        runId = r.path("id").asText();
        progress.event("cfn loop run: run " + runId + " on " + node.base());
      }
      LoopRecord done;
      try (events) {
        done = followRemote(node, events, runId, agentOptions.timeout, progress);
      } finally {
        progress.done();
      }
      return print(done, json, spec.commandLine().getOut());
    }
  }

  /** The options of {@code loop run} that name local files, refused with {@code --server}. */
  static final String[] LOCAL_ONLY = {
    "--agents",
    "--project",
    "--trust-providers",
    "--replay",
    "--trust-hooks",
    "--hooks",
    "--journal",
    "--db",
    "--calls"
  };

  /** The options of {@code loop status} and {@code show} that name local files. */
  static final String[] STORE_ONLY = {"--journal", "--db"};

  /** Run {@code runId} as the node at {@code node} holds it now. */
  static LoopRecord remoteRecord(NodeClient node, String runId) {
    com.fasterxml.jackson.databind.JsonNode r =
        node.get("/v1/loops/" + NodeClient.segment(runId))
            .orElseThrow(
                () ->
                    CommandFailure.failed(
                        "no CFN Loop run " + runId + " on the node at " + node.base(),
                        "GET /v1/loops on the node lists its runs"));
    try {
      return LoopRecord.fromJson(JSON.writeValueAsString(r));
    } catch (com.fasterxml.jackson.core.JsonProcessingException | RuntimeException e) {
      throw CommandFailure.failed(
          "the node at " + node.base() + " answered run " + runId + " with no loop record",
          "check that --server names a cfn node");
    }
  }

  /**
   * Follows run {@code runId} on the node until it has settled (finished, or waits for a person):
   * from the node's live events ({@code events}, opened before the run was submitted, so none of
   * its events is missed), showing every recorded answer and status change as the local run's
   * progress does. The run's record is read ({@code GET /v1/loops/RUN}) only at the start (what was
   * recorded before), where the node said events were missed (a gap, after a reconnection), and to
   * confirm the end an event announced (events are published just before the node commits them).
   *
   * @throws CommandFailure (exit 1) when it has not settled within {@code timeout}; it goes on on
   *     the node
   */
  static LoopRecord followRemote(
      NodeClient node, EventStream events, String runId, Duration timeout, Progress progress) {
    long end = System.nanoTime() + timeout.toNanos();
    Followed followed = new Followed(runId, progress);
    LoopRecord r = remoteRecord(node, runId);
    followed.show(r);
    try {
      while (r.status() == LoopStatus.RUNNING) {
        Object next = events.next(end - System.nanoTime());
        if (next == null) {
          throw CommandFailure.failed(
              "run " + runId + " did not finish within " + timeout + "; it goes on on the node",
              "cfn loop run --resume " + runId + " --server " + node.base() + " follows it again");
        }
        if (next instanceof EventStream.Resync) {
          r = remoteRecord(node, runId);
          followed.show(r);
        } else if (next instanceof EventStream.Event e
            && e.name().startsWith(LoopEvent.TOPIC + ".")) {
          LoopEvent le = loopEvent(e.data());
          if (le != null && runId.equals(le.runId()) && followed.show(le)) {
            r = confirm(node, runId, end, timeout);
            followed.show(r);
          }
        }
      }
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CommandFailure.failed(
          "interrupted while following run " + runId + "; it goes on on the node",
          "cfn loop run --resume " + runId + " --server " + node.base() + " follows it again");
    }
  }

  /**
   * The record of run {@code runId} once the node has committed the end an event announced: the
   * event is published just before the commit, so the first read may still say RUNNING.
   */
  private static LoopRecord confirm(NodeClient node, String runId, long end, Duration timeout)
      throws InterruptedException {
    long pause = 20;
    while (true) {
      LoopRecord r = remoteRecord(node, runId);
      if (r.status() != LoopStatus.RUNNING) {
        return r;
      }
      if (System.nanoTime() > end) {
        throw CommandFailure.failed(
            "run " + runId + " did not finish within " + timeout + "; it goes on on the node",
            "cfn loop run --resume " + runId + " --server " + node.base() + " follows it again");
      }
      Thread.sleep(pause);
      pause = Math.min(500, pause * 2);
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectReader LOOP_EVENT =
      new ObjectMapper()
          .readerFor(LoopEvent.class)
          .without(
              com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** The loop event in an event's data, or null when it is not one. */
  static LoopEvent loopEvent(String data) {
    try {
      LoopEvent e = LOOP_EVENT.readValue(data);
      return e.runId() == null || e.kind() == null || e.status() == null ? null : e;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** What a follower has shown of a run: its answers (each once) and its status. */
  private static final class Followed {
    private final String runId;
    private final Progress progress;
    private final Set<String> seen = new java.util.HashSet<>();
    private final Map<String, String> asked = new java.util.TreeMap<>();
    private LoopStatus shown;

    Followed(String runId, Progress progress) {
      this.runId = runId;
      this.progress = progress;
    }

    /** Shows the answers of {@code r} not shown yet, and its status when it changed. */
    void show(LoopRecord r) {
      for (dev.cfn.flow.loop.LoopStep step : r.steps()) {
        answered(LoopCommand.answered(runId, step, r.status()));
      }
      status(
          new LoopEvent(
              runId,
              LoopEvent.Kind.RUN,
              r.iterations(),
              null,
              null,
              0,
              r.status(),
              true,
              null,
              r.reason()));
    }

    /** Shows event {@code e} unless shown already; true when it says the run settled. */
    boolean show(LoopEvent e) {
      switch (e.kind()) {
        case ASKED -> asked.put(key(e), e.agent());
        case ANSWERED -> answered(e);
        case RUN -> status(e);
      }
      return e.kind() == LoopEvent.Kind.RUN && e.status() != LoopStatus.RUNNING;
    }

    private void answered(LoopEvent e) {
      asked.remove(key(e));
      if (seen.add(key(e))) {
        progress.event(Session.describe(e));
      }
      live(e.iteration());
    }

    private void status(LoopEvent e) {
      if (e.status() != shown) {
        if (shown != null || e.status() != LoopStatus.RUNNING) {
          progress.event("  run " + runId + ": " + Session.describe(e));
        }
        shown = e.status();
      }
      live(e.iteration());
    }

    private void live(int iteration) {
      if (shown == LoopStatus.RUNNING) {
        progress.status(
            "run "
                + runId
                + ", iteration "
                + Math.max(1, iteration)
                + ": "
                + (asked.isEmpty()
                    ? "running on the node"
                    : "waiting for " + String.join(", ", new java.util.TreeSet<>(asked.values()))));
      }
    }

    private static String key(LoopEvent e) {
      return e.iteration() + "." + e.phase() + "." + e.index();
    }
  }

  /** The event the coordinator published when {@code s} was recorded. */
  private static LoopEvent answered(String runId, dev.cfn.flow.loop.LoopStep s, LoopStatus status) {
    String detail =
        !s.ok()
            ? s.note() == null || s.note().isEmpty() ? s.text() : s.note()
            : s.decision() != null ? s.decision() : s.verdict();
    return new LoopEvent(
        runId,
        LoopEvent.Kind.ANSWERED,
        s.iteration(),
        s.phase(),
        s.agent(),
        s.index(),
        status,
        s.ok(),
        s.confidence(),
        detail);
  }

  // ---------------------------------------------------------------- status, show

  /** {@code cfn loop status [RUN]}. */
  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Lists the runs of the journal, or says where run RUN stands.")
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;

    @Parameters(arity = "0..1", paramLabel = "RUN", description = "The run (default: all).")
    String run;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      NodeClient node = server.remote() ? server.connect(STORE_ONLY) : null;
      if (node != null && run == null) {
        SortedMap<String, String> runs = new java.util.TreeMap<>();
        node.get("/v1/loops")
            .ifPresent(
                all ->
                    all.path("loops")
                        .forEach(l -> runs.put(l.path("id").asText(), l.path("status").asText())));
        if (json) {
          out.println(JSON.writeValueAsString(runs));
        } else if (runs.isEmpty()) {
          out.println("no CFN Loop runs on the node at " + node.base());
        } else {
          runs.forEach((id, status) -> out.printf(Locale.ROOT, "%-40s %s%n", id, status));
        }
        return 0;
      }
      if (run != null) {
        String runId = checkRunId(run);
        LoopRecord r = node != null ? remoteRecord(node, runId) : require(store, runId);
        Map<String, Object> m = summary(r);
        if (json) {
          out.println(JSON.writeValueAsString(m));
        } else {
          out.printf(
              Locale.ROOT,
              "%s: %s after %d iterations, %d steps, %d tokens, $%s%s%n",
              r.runId(),
              r.status(),
              r.iterations(),
              r.steps().size(),
              r.tokens(),
              r.costUsd().toPlainString(),
              r.reason() == null ? "" : " (" + r.reason() + ")");
          hint(r, out);
        }
        return 0;
      }
      SortedMap<String, String> runs;
      try (JournalReader j = SqliteJournal.openReadOnly(store.existing())) {
        runs = j.stateByPrefix(LoopRunner.INDEX, "", 10_000);
      }
      if (json) {
        out.println(JSON.writeValueAsString(runs));
      } else if (runs.isEmpty()) {
        out.println("no CFN Loop runs in " + store.db);
      } else {
        runs.forEach((id, status) -> out.printf(Locale.ROOT, "%-40s %s%n", id, status));
      }
      return 0;
    }
  }

  /** {@code cfn loop show RUN}. */
  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Prints run RUN as a timeline: every step, decision, token and cost.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;

    @Parameters(index = "0", paramLabel = "RUN", description = "The run.")
    String run;

    @Option(names = "--json", description = "Print the run's whole record as JSON.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws Exception {
      String runId = checkRunId(run);
      LoopRecord r =
          server.remote() ? remoteRecord(server.connect(STORE_ONLY), runId) : require(store, runId);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(JSON.writeValueAsString(JSON.readTree(r.toJson())));
      } else {
        out.print(LoopTimeline.render(r));
        hint(r, out);
      }
      return 0;
    }
  }

  // ---------------------------------------------------------------- decide

  /** Exactly one decision. */
  static final class Choice {
    @Option(names = "--proceed", required = true, description = "Accept the work.")
    boolean proceed;

    @Option(
        names = "--defer",
        required = true,
        description = "Accept it and keep the owner's follow-ups.")
    boolean defer;

    @Option(names = "--abort", required = true, description = "End the run without accepting.")
    boolean abort;

    LoopRunner.HumanDecision decision() {
      return proceed
          ? LoopRunner.HumanDecision.PROCEED
          : defer ? LoopRunner.HumanDecision.DEFER : LoopRunner.HumanDecision.ABORT;
    }
  }

  /** {@code cfn loop decide RUN --proceed|--defer|--abort}. */
  @Command(
      name = "decide",
      mixinStandardHelpOptions = true,
      description = "Decides for a run the product owner escalated: --proceed, --defer or --abort.")
  static final class Decide implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin RunFiles files;

    @Parameters(index = "0", paramLabel = "RUN", description = "The waiting run.")
    String run;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    @Option(names = "--note", paramLabel = "TEXT", description = "Why, for the record.")
    String note = "";

    @Option(names = "--json", description = "Print the run's record as JSON.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() throws Exception {
      String runId = checkRunId(run);
      if (server.remote()) {
        NodeClient node = server.connect("--journal", "--db", "--calls");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("decision", choice.decision().name());
        body.put("note", note);
        com.fasterxml.jackson.databind.JsonNode done =
            node.call("POST", "/v1/loops/" + NodeClient.segment(runId) + "/decision", body)
                .orElseThrow(
                    () ->
                        CommandFailure.failed(
                            "no CFN Loop run " + runId + " on the node at " + node.base(),
                            "cfn loop status --server " + node.base() + " lists its runs"));
        return print(
            LoopRecord.fromJson(JSON.writeValueAsString(done.path("record"))),
            json,
            spec.commandLine().getOut());
      }
      LoopRecord r = require(files.store, runId);
      if (r.status() != LoopStatus.WAITING) {
        throw CommandFailure.usage(
            "run " + runId + " is " + r.status() + ", not waiting for a decision",
            "cfn loop status " + runId + " says where it stands");
      }
      // A decision ends the run: no agent is asked, so no model or agent files are needed. It is
      // recorded in the audit log of the journal's folder under the action the node's API records.
      Path db = files.store.db.toAbsolutePath().normalize();
      Map<String, String> detail = new LinkedHashMap<>();
      detail.put("decision", choice.decision().name());
      detail.put("journal", String.valueOf(db.getFileName()));
      LoopRecord done =
          AuditedAction.run(
              db.getParent(),
              "POST /v1/loops/{run}/decision",
              "loop:" + runId,
              detail,
              () -> {}, // the journal was read above: it is one, and the run waits
              () -> {
                try (SqliteJournal journal = openJournal(files.store.db);
                    AgentRuntime rt =
                        AgentRuntime.builder().jvmMetrics(false).journal(journal).build()) {
                  LoopRunner runner = LoopRunner.builder(rt).build();
                  return await(
                      runner.decide(runId, choice.decision(), note), Duration.ofMinutes(1), runId);
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw CommandFailure.failed("interrupted while deciding run " + runId, null);
                }
              });
      return print(done, json, spec.commandLine().getOut());
    }
  }

  // ---------------------------------------------------------------- replay

  /** {@code cfn loop replay RUN [--from N]}. */
  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description =
          "Reruns a finished run from the call log without calling any model and checks that it"
              + " reaches the same decisions; --from N forks a new run from iteration N.")
  static final class Replay implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin RunFiles files;
    @Mixin AgentOptions agentOptions;

    @Parameters(index = "0", paramLabel = "RUN", description = "The recorded run.")
    String run;

    @Option(
        names = "--from",
        paramLabel = "ITERATION",
        description =
            "Fork a new run from this iteration: earlier steps are reused, later ones asked"
                + " again (with --task, --model or changed --agents).")
    Integer from;

    @Option(
        names = "--as",
        paramLabel = "RUN",
        description = "The fork's id (default: RUN-fork-N).")
    String as;

    @Option(
        names = "--task",
        paramLabel = "TEXT",
        description = "The fork's task (default: RUN's).")
    String task;

    @Option(
        names = "--model",
        paramLabel = "MODEL",
        description = "The model every agent of the fork asks (default: as configured).")
    String model;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      String runId = checkRunId(run);
      PrintWriter out = spec.commandLine().getOut();
      if (from == null && (as != null || task != null || model != null)) {
        throw CommandFailure.usage(
            "--as, --task and --model change a fork; they need --from ITERATION",
            "e.g. cfn loop replay " + runId + " --from 2 --task \"...\"");
      }
      if (task != null && task.isBlank()) {
        throw CommandFailure.usage("--task is blank", "say what the fork should build");
      }
      PathChecks.existingFile("--calls", files.calls, "call log");
      LoopRecord recorded = require(files.store, runId);
      if (from != null) {
        return fork(recorded, out);
      }
      if (!recorded.status().isFinal()) {
        throw CommandFailure.usage(
            "run " + runId + " is " + recorded.status() + "; only a finished run replays",
            recorded.status() == LoopStatus.WAITING
                ? "cfn loop decide " + runId + " first"
                : "cfn loop run --resume " + runId + " first");
      }
      // No model: a server that answers nothing (HTTP 400 to every request) stands in for every
      // provider, and counts what reaches it.
      try (Session s = Session.open(agentOptions, files, recorded.spec(), spec, null, true)) {
        LoopRecord again = await(s.runner.replay(recorded), agentOptions.timeout, runId);
        long calls = s.modelRequests();
        boolean same =
            again.decisions().equals(recorded.decisions())
                && again.status() == recorded.status()
                && calls == 0;
        if (json) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("run", runId);
          m.put("same", same);
          m.put("modelRequests", calls);
          m.put("status", again.status().name());
          m.put("recordedStatus", recorded.status().name());
          m.put("decisions", again.decisions());
          m.put("recordedDecisions", recorded.decisions());
          out.println(JSON.writeValueAsString(m));
        } else if (same) {
          out.printf(
              Locale.ROOT,
              "replay of %s: the same %d decisions and status %s, from the call log alone (0"
                  + " model requests)%n",
              runId,
              again.decisions().size(),
              again.status());
        } else {
          out.printf(
              Locale.ROOT,
              "replay of %s DIVERGED: %s (recorded %s), %d model requests%n%s",
              runId,
              again.status(),
              recorded.status(),
              calls,
              difference(recorded.decisions(), again.decisions()));
        }
        return same ? 0 : ExitCode.FAILED;
      }
    }

    private int fork(LoopRecord recorded, PrintWriter out) throws Exception {
      String forkId = checkRunId(as != null ? as : recorded.runId() + "-fork-" + from);
      if (from < 1 || from > recorded.iterations()) {
        throw CommandFailure.usage(
            "run "
                + recorded.runId()
                + " has iterations 1 to "
                + recorded.iterations()
                + ", not "
                + from,
            "--from one of them; cfn loop show " + recorded.runId() + " lists them");
      }
      if (read(files, forkId).isPresent()) {
        throw CommandFailure.usage(
            "run " + forkId + " exists already", "give the fork another id with --as");
      }
      try (Session s = Session.open(agentOptions, files, recorded.spec(), spec, model, false)) {
        LoopRecord r =
            await(s.runner.fork(recorded, forkId, from, task, null), agentOptions.timeout, forkId);
        return print(r, json, out);
      }
    }
  }

  // ---------------------------------------------------------------- shared

  /**
   * A runtime on the journal and call log with the loop's agents: LLM agents from their
   * definitions, each with its model resolved before anything runs (a provider problem is bad
   * usage, exit 2).
   */
  static final class Session implements AutoCloseable {
    final LoopRunner runner;
    private final AgentRuntime runtime;
    private final ModelRouter router;
    private final SqliteCallLogStore calls;
    private final ModelServer server; // the cassette player, or the silent server of a replay

    private Session(
        AgentRuntime runtime,
        LoopRunner runner,
        ModelRouter router,
        SqliteCallLogStore calls,
        ModelServer server) {
      this.runtime = runtime;
      this.runner = runner;
      this.router = router;
      this.calls = calls;
      this.server = server;
    }

    /**
     * Shows the run's progress ({@link LoopEvent}s on {@code cfn.flow.loop.#}): every recorded
     * answer and status change as a line, and on a terminal a live line naming the agents asked.
     */
    void follow(Progress progress) {
      Map<String, String> asked = new java.util.concurrent.ConcurrentHashMap<>();
      String observer = "cfn-cli-loop-progress";
      if (!runtime.isRegistered(observer)) {
        runtime.register(
            AgentType.of(
                observer,
                id ->
                    (msg, ctx) -> {
                      if (msg.payload() instanceof LoopEvent e) {
                        String call = e.iteration() + "." + e.phase() + "." + e.index();
                        switch (e.kind()) {
                          case ASKED -> asked.put(call, e.agent());
                          case ANSWERED -> {
                            asked.remove(call);
                            progress.event(describe(e));
                          }
                          case RUN -> progress.event("  run " + e.runId() + ": " + describe(e));
                        }
                        progress.status(
                            "run "
                                + e.runId()
                                + ", iteration "
                                + Math.max(1, e.iteration())
                                + ": "
                                + (asked.isEmpty()
                                    ? e.status().name().toLowerCase(Locale.ROOT)
                                    : "waiting for "
                                        + String.join(
                                            ", ", new java.util.TreeSet<>(asked.values()))));
                      }
                    }));
      }
      runtime.subscribe(LoopEvent.TOPIC + ".#", AgentId.of(observer, "1"));
    }

    /** One line for an event: who answered what, or where the run stands. */
    static String describe(LoopEvent e) {
      if (e.kind() == LoopEvent.Kind.RUN) {
        return e.status().name().toLowerCase(Locale.ROOT)
            + (e.detail() == null ? "" : " (" + DlqCommand.oneLine(e.detail(), 100) + ")");
      }
      String what =
          !e.ok()
              ? "unreadable: " + DlqCommand.oneLine(e.detail() == null ? "" : e.detail(), 80)
              : switch (e.phase()) {
                case IMPLEMENT -> "confidence " + plain(e.confidence());
                case VALIDATE -> e.detail() + ", confidence " + plain(e.confidence());
                case DECIDE, HUMAN -> e.detail();
              };
      return "  iteration "
          + e.iteration()
          + " "
          + e.phase().name().toLowerCase(Locale.ROOT)
          + " "
          + e.agent()
          + ": "
          + what;
    }

    private static String plain(BigDecimal confidence) {
      return confidence == null ? "?" : confidence.toPlainString();
    }

    /** Requests that reached the silent server of a replay. */
    long modelRequests() {
      return server == null ? 0 : server.received();
    }

    static Session open(
        AgentOptions o,
        RunFiles files,
        LoopSpec loop,
        CommandSpec spec,
        String modelOverride,
        boolean replay)
        throws Exception {
      PrintWriter err = spec.commandLine().getErr();
      Set<String> names = new LinkedHashSet<>(loop.implementers());
      names.addAll(loop.validators());
      names.add(loop.owner());
      String command = spec.qualifiedName();
      List<Path> paths = o.agentPaths.paths(command);
      LoadResult loaded = DefinitionLoader.load(paths);
      List<AgentDefinition> definitions = new ArrayList<>();
      List<String> unknown = new ArrayList<>();
      for (String name : names) {
        loaded.find(name).ifPresentOrElse(definitions::add, () -> unknown.add(name));
      }
      if (!unknown.isEmpty()) {
        throw CommandFailure.usage(
            "no valid agent named "
                + String.join(", ", unknown)
                + " in "
                + paths.stream().map(Path::toString).collect(Collectors.joining(" "))
                + "; the agents there: "
                + (loaded.definitions().isEmpty()
                    ? "none"
                    : loaded.definitions().stream()
                        .map(AgentDefinition::name)
                        .collect(Collectors.joining(", "))),
            "check the names; cfn agent validate shows what is wrong with a file");
      }
      // a replay runs no hooks: it re-executes the recorded decisions only
      Hooks projectHooks = replay ? Hooks.none() : o.hooks.load(o.project, command, err);
      ModelServer server = null;
      ModelConfig config;
      if (replay) {
        server = ModelServer.start(); // no script: every request is refused, and counted
        config =
            ModelConfig.parse(
                "providers:\n  none:\n    kind: openai\n    base-url: "
                    + server.openAiBaseUrl()
                    + "\n    api-key: ${CFN_REPLAY_KEY}\n    model: replay\n",
                "replay",
                Map.of("CFN_REPLAY_KEY", "replay"));
      } else if (o.cassette != null) {
        PathChecks.existingFile("--replay", o.cassette, "cassette");
        Cassette cassette = TestkitCommand.load(o.cassette);
        if (cassette.size() == 0) {
          throw CommandFailure.usage(
              o.cassette + " holds no recorded calls", "record some with cfn testkit record");
        }
        server = ModelServer.start(cassette);
        config = RunCommand.replayConfig(cassette, server);
      } else {
        ProviderTrust trust = ProviderTrust.load(RunCommand.environment);
        Path providersFile = o.project.resolve(ModelConfig.DEFAULT_FILE);
        if (o.trustProviders && Files.isRegularFile(providersFile)) {
          trust = trust.trust(providersFile);
        }
        config = ModelConfig.discover(o.project, RunCommand.environment, trust);
        for (String warning : config.warnings()) {
          err.println(command + ": warning: " + warning);
        }
      }
      ModelRouter router = null;
      SqliteCallLogStore calls = null;
      AgentRuntime runtime = null;
      try {
        router = ModelRouter.create(config);
        Map<String, String> models = new LinkedHashMap<>();
        AgentRuntime.Builder b = AgentRuntime.builder().jvmMetrics(false);
        Path callsFile = files.calls.toAbsolutePath();
        Path callsFolder = callsFile.getParent();
        if (callsFolder != null) {
          Files.createDirectories(callsFolder);
        }
        calls = SqliteCallLogStore.open(callsFile);
        for (AgentDefinition d : definitions) {
          RoutedModel routed;
          try {
            routed =
                router.resolve(
                    d.name(),
                    d.type(),
                    replay ? null : d.provider(),
                    replay ? null : modelOverride != null ? modelOverride : d.model());
          } catch (ModelConfigException e) {
            throw CommandFailure.usage(
                "agent " + d.name() + ": " + e.getMessage(),
                "fix its provider or model, or .cfn/providers.yaml");
          }
          models.put(d.name(), routed.model());
          LlmAgent.Builder agent =
              LlmAgent.builder(d)
                  .model(routed)
                  .modelName(routed.model())
                  .callLog(CallLog.durable(calls));
          if (!replay) {
            o.hooks.apply(agent, projectHooks);
          }
          b.register(agent.type(d.name()));
        }
        Journal journal;
        if (replay) {
          journal = new InMemoryJournal(); // a replay leaves no trace in the journal
        } else {
          journal = openJournal(files.store.db);
        }
        runtime = b.journal(journal).build();
        PriceTable prices = PriceTable.defaults();
        LoopRunner runner =
            LoopRunner.builder(runtime)
                .journal(journal)
                .pricing(
                    (agent, usage) ->
                        prices.cost(usage, models.getOrDefault(agent, "")).orElse(BigDecimal.ZERO))
                .build();
        return new Session(runtime, runner, router, calls, server);
      } catch (RuntimeException | java.io.IOException e) {
        closeAll(runtime, calls, router, server);
        throw e;
      }
    }

    @Override
    public void close() {
      closeAll(runtime, calls, router, server);
    }

    private static void closeAll(
        AgentRuntime runtime, SqliteCallLogStore calls, ModelRouter router, ModelServer server) {
      if (runtime != null) {
        runtime.close();
      }
      if (calls != null) {
        calls.close();
      }
      if (router != null) {
        router.close();
      }
      if (server != null) {
        server.close();
      }
    }
  }

  static SqliteJournal openJournal(Path db) throws java.io.IOException {
    Path file = db.toAbsolutePath();
    Path folder = file.getParent();
    if (folder != null) {
      Files.createDirectories(folder);
    }
    return SqliteJournal.builder(file)
        .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
        .open();
  }

  static String checkRunId(String runId) {
    try {
      LoopRunner.coordinator(runId);
      return runId;
    } catch (IllegalArgumentException e) {
      throw usage(e);
    }
  }

  /** A library refusal as bad usage: "what (fix: how)" split at the fix. */
  static CommandFailure usage(IllegalArgumentException e) {
    String m = e.getMessage();
    int fix = m.lastIndexOf(" (fix: ");
    return fix < 0 || !m.endsWith(")")
        ? CommandFailure.usage(m, null)
        : CommandFailure.usage(m.substring(0, fix), m.substring(fix + 7, m.length() - 1));
  }

  static Optional<LoopRecord> read(RunFiles files, String runId) {
    return Files.isRegularFile(files.store.db) ? read(files.store, runId) : Optional.empty();
  }

  static Optional<LoopRecord> read(StoreOptions store, String runId) {
    try (JournalReader j = SqliteJournal.openReadOnly(store.existing())) {
      return j.state(LoopRunner.coordinator(runId), LoopRecord.STATE_KEY).map(LoopRecord::fromJson);
    }
  }

  static LoopRecord readExisting(RunFiles files, String runId) {
    return require(files.store, runId);
  }

  static LoopRecord require(StoreOptions store, String runId) {
    return read(store, runId)
        .orElseThrow(
            () ->
                CommandFailure.failed(
                    "no CFN Loop run " + runId + " in " + store.db,
                    "cfn loop status --journal " + store.db + " lists the runs"));
  }

  static LoopRecord await(CompletableFuture<LoopRecord> run, Duration timeout, String runId)
      throws InterruptedException {
    try {
      return run.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw CommandFailure.failed(
          "run " + runId + " did not finish within " + timeout + "; it is kept in the journal",
          "cfn loop run --resume " + runId + " goes on with it");
    } catch (ExecutionException e) {
      throw CommandFailure.failed(
          "run " + runId + " failed: " + e.getCause().getMessage(), "--debug shows more");
    }
  }

  static int print(LoopRecord r, boolean json, PrintWriter out) throws Exception {
    if (json) {
      out.println(JSON.writeValueAsString(JSON.readTree(r.toJson())));
    } else {
      out.print(LoopTimeline.render(r));
      hint(r, out);
    }
    out.flush();
    return r.status() == LoopStatus.FAILED || r.status() == LoopStatus.ABORTED
        ? ExitCode.FAILED
        : ExitCode.OK;
  }

  private static void hint(LoopRecord r, PrintWriter out) {
    if (r.status() == LoopStatus.WAITING) {
      out.println(
          "run "
              + r.runId()
              + " waits for a person: cfn loop decide "
              + r.runId()
              + " --proceed|--defer|--abort [--note TEXT]");
    }
  }

  private static Map<String, Object> summary(LoopRecord r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run", r.runId());
    m.put("status", r.status().name());
    m.put("reason", r.reason());
    m.put("iterations", r.iterations());
    m.put("steps", r.steps().size());
    m.put("tokens", r.tokens());
    m.put("costUsd", r.costUsd());
    m.put("decisions", r.decisions());
    return m;
  }

  private static String difference(List<String> recorded, List<String> again) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.max(recorded.size(), again.size()); i++) {
      String a = i < recorded.size() ? recorded.get(i) : "(none)";
      String c = i < again.size() ? again.get(i) : "(none)";
      if (!a.equals(c)) {
        b.append("  first difference, decision ")
            .append(i + 1)
            .append(":\n    recorded: ")
            .append(a)
            .append("\n    replayed: ")
            .append(c)
            .append('\n');
        break;
      }
    }
    return b.toString();
  }
}
