package dev.cfn.server;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.loop.LoopStatus;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's CFN Loop runs: one {@link LoopRunner} over the node's runtime and journal, built when
 * the node opens (with the node's model providers for its agents, priced by the default price
 * table), as {@code cfn loop run} builds one for its process.
 *
 * <p>A run's agents are agent definitions of {@code .claude/agents} (registered as LLM agents on
 * first use, as a spawn or a task graph registers them) or agent types the node was built with.
 * Runs are durable in the journal alone: every message of a run is RELIABLE and its record is its
 * coordinator's state. When the node opens, the agents of every run the journal holds as {@code
 * RUNNING} are registered <em>before</em> the runner is built, so the messages the journal
 * redelivers (parked until the loop's agent types exist) find both the run's coordinator and the
 * agents it asks: the run goes on where it stopped, as {@code cfn loop run --resume} makes it go
 * on. A run that waits for a person needs nothing until its decision.
 *
 * <p><b>Acceptance is durable before the node answers.</b> A submission is first committed as the
 * run's first record under {@link #ACCEPTED} ({@link #accept}, a RELIABLE request answered once the
 * record is committed), then started, then answered 201. A crash after the 201 and before the run's
 * coordinator committed anything (its record, its index entry) therefore loses nothing: when the
 * node opens, every accepted run whose coordinator holds no record, or a running one, has its
 * agents registered like the runs of the index, and one that has no record is started again from
 * the accepted record (a start is idempotent: the start message the journal may still hold, and the
 * new one, make one run).
 *
 * <p><b>An acceptance is dropped when its run finishes</b> ({@link #forgetWhenFinished}): right
 * after the commit that finished it (the runner reports a run once its end is committed), by a
 * RELIABLE message of its own. The run's coordinator cannot drop it in its own commit (its effects
 * reach its own state and the messages it sends, not this agent's state), so a crash between the
 * two commits can leave the acceptance of a finished run behind: the node drops those when it
 * opens.
 */
final class LoopRuns {
  private static final Logger log = LoggerFactory.getLogger(LoopRuns.class);
  private static final SecureRandom SUFFIX = new SecureRandom();
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

  /** The agent whose journal state holds the accepted submissions: key RUN, value its record. */
  static final AgentId ACCEPTED = new AgentId("cfn-server-loops", "accepted");

  /** How long a submission waits for its acceptance to be committed. */
  static final Duration ACCEPT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * A run's acceptance to store ({@code recordJson}: its first {@link LoopRecord}, with its spec
   * and task), or with an empty {@code recordJson} to drop: the RELIABLE payload {@link #ACCEPTED}
   * commits.
   *
   * @param runId the run
   * @param recordJson its first record, or empty
   */
  record Accepted(String runId, String recordJson) {}

  /** The handler of {@link #ACCEPTED}: commits each {@link Accepted} with its acknowledgement. */
  static Agent acceptance() {
    return (m, ctx) -> {
      if (m.payload() instanceof Accepted a) {
        if (a.recordJson().isEmpty()) {
          ctx.effects().delete(a.runId());
        } else {
          ctx.effects().put(a.runId(), a.recordJson());
        }
        if (m.isRequest()) {
          ctx.reply("accepted"); // joins the outbox: sent once the record is committed
        }
      }
    };
  }

  private final Node node;
  private final LoopRunner runner;
  private final List<String> resumed;

  /** The run ids submitted through this node while it runs (a run's record comes a bit later). */
  private final Set<String> claimed = ConcurrentHashMap.newKeySet();

  private LoopRuns(Node node, LoopRunner runner, List<String> resumed) {
    this.node = node;
    this.runner = runner;
    this.resumed = List.copyOf(resumed);
  }

  /**
   * Registers the agents of every unfinished run of the node's journal, then builds the runner: the
   * journal's parked messages of those runs are delivered from then on. A run whose agents cannot
   * be registered (a definition gone, no model provider) is named in a warning; its calls then
   * answer as failed and its record says so.
   */
  static LoopRuns open(Node node) {
    Set<String> resumed = new LinkedHashSet<>();
    node.journal
        .stateByPrefix(LoopRunner.INDEX, "", Journal.MAX_PREFIX_ENTRIES)
        .forEach(
            (id, status) -> {
              if (!LoopStatus.RUNNING.name().equals(status)) {
                return; // finished, or waiting for a person: no agent is asked until a decision
              }
              Optional<LoopRecord> r = stored(node, id);
              if (r.isPresent() && resumeAgents(node, id, r.get().spec())) {
                resumed.add(id);
              }
            });
    Map<String, LoopRecord> restart = new LinkedHashMap<>();
    List<String> finished = new ArrayList<>();
    List<String> running = new ArrayList<>();
    accepted(node)
        .forEach(
            (id, json) -> {
              Optional<LoopRecord> r = stored(node, id);
              if (r.isPresent() && r.get().status().isFinal()) {
                finished.add(id);
                return;
              }
              if (r.isPresent() && r.get().status() != LoopStatus.RUNNING) {
                return; // waiting for a person
              }
              LoopRecord first;
              try {
                first = LoopRecord.fromJson(json);
              } catch (RuntimeException e) {
                log.warn(
                    "cfn serve: the accepted CFN Loop run {} is unreadable: {}", id, e.toString());
                return;
              }
              if (resumeAgents(node, id, first.spec())) {
                resumed.add(id);
                if (r.isEmpty()) {
                  restart.put(id, first); // accepted, and the node stopped before it began
                } else {
                  running.add(id);
                }
              }
            });
    LoopRunner runner =
        LoopRunner.builder(node.runtime).journal(node.journal).pricing(node::price).build();
    restart.forEach(
        (id, first) -> {
          try {
            forgetWhenFinished(node, id, runner.start(id, first.spec(), first.task()));
          } catch (RuntimeException e) {
            log.warn(
                "cfn serve: the accepted CFN Loop run {} cannot start: {}", id, e.getMessage());
          }
        });
    for (String id : finished) { // their records say all; the acceptance is not needed any more
      forget(node, id);
    }
    for (String id : running) { // begun and not finished: dropped when they finish
      forgetWhenFinished(node, id, runner.resume(id));
    }
    if (!resumed.isEmpty()) {
      log.info("cfn serve: resuming {} unfinished CFN Loop run(s): {}", resumed.size(), resumed);
    }
    return new LoopRuns(node, runner, new ArrayList<>(resumed));
  }

  private static Optional<LoopRecord> stored(Node node, String id) {
    try {
      return node.journal
          .state(LoopRunner.coordinator(id), LoopRecord.STATE_KEY)
          .map(LoopRecord::fromJson);
    } catch (RuntimeException e) { // an unreadable record
      log.warn("cfn serve: the record of CFN Loop run {} is unreadable: {}", id, e.toString());
      return Optional.empty();
    }
  }

  private static SortedMap<String, String> accepted(Node node) {
    return node.journal.stateByPrefix(ACCEPTED, "", Journal.MAX_PREFIX_ENTRIES);
  }

  /**
   * Registers the agents of unfinished run {@code id}; false (with a warning naming the fix) when
   * they cannot be: its calls to them then answer as failed and its record says so.
   */
  private static boolean resumeAgents(Node node, String id, LoopSpec spec) {
    try {
      List<String> agents = agents(spec);
      List<String> missing = agents.stream().filter(a -> !knows(node, a)).toList();
      if (!missing.isEmpty()) {
        log.warn(
            "cfn serve: CFN Loop run {} names agents this node has no definition or type"
                + " of: {}; its calls to them will fail (fix: put their definitions in"
                + " .claude/agents and restart the node)",
            id,
            missing);
      }
      node.registerDefinitions(agents);
      return true;
    } catch (RuntimeException e) { // ModelConfigException, ...
      log.warn(
          "cfn serve: CFN Loop run {} cannot resume its agents ({}); its calls will fail"
              + " (fix: configure a model provider, .cfn/providers.yaml, and restart)",
          id,
          e.getMessage());
      return false;
    }
  }

  /**
   * Commits the acceptance of run {@code id} (its first record: {@code spec} and {@code task}):
   * from then on the run starts after a crash of the node, whatever else it had written.
   *
   * @throws Problem (503) when the journal did not commit it in time
   */
  void accept(String id, LoopSpec spec, String task) {
    String json =
        new LoopRecord(
                id,
                spec,
                task,
                id,
                null,
                0,
                LoopStatus.RUNNING,
                null,
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                System.currentTimeMillis())
            .toJson();
    try {
      node.runtime
          .request(
              Envelope.to(ACCEPTED).delivery(DeliveryMode.RELIABLE).payload(new Accepted(id, json)),
              ACCEPT_TIMEOUT)
          .get(ACCEPT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Problem(
          503, "Not accepted", "the node is stopping; run " + id + " may start when it is back");
    } catch (ExecutionException | TimeoutException e) {
      throw new Problem(
          503,
          "Not accepted",
          "the journal did not commit run "
              + id
              + "'s acceptance in time ("
              + (e.getCause() != null ? e.getCause() : e)
              + "); it may still start (fix: GET /v1/loops/"
              + id
              + " says whether it did; submit again with another run id if not)");
    }
  }

  /**
   * Drops the acceptance of run {@code id} once {@code settled} (a future of the node's runner,
   * which completes after the run's settled state is committed) reports the run finished. A run
   * that settles waiting for a person keeps it until its decision ({@code decide}'s future, given
   * here too, reports the end).
   */
  void forgetWhenFinished(String id, java.util.concurrent.CompletableFuture<LoopRecord> settled) {
    forgetWhenFinished(node, id, settled);
  }

  private static void forgetWhenFinished(
      Node node, String id, java.util.concurrent.CompletableFuture<LoopRecord> settled) {
    settled.thenAccept(
        r -> {
          if (r.status().isFinal() && node.journal.state(ACCEPTED, id).isPresent()) {
            try {
              forget(node, id);
            } catch (RuntimeException e) { // the node is closing: the next open drops it
              log.debug("cfn serve: the acceptance of run {} is kept: {}", id, e.toString());
            }
          }
        });
  }

  /** Drops the acceptance of run {@code id} (a RELIABLE message; committed a moment later). */
  void forget(String id) {
    forget(node, id);
  }

  private static void forget(Node node, String id) {
    node.runtime.send(
        Envelope.to(ACCEPTED).delivery(DeliveryMode.RELIABLE).payload(new Accepted(id, "")));
  }

  /**
   * The first record of run {@code id} when it was accepted and its coordinator has written nothing
   * yet (or the acceptance is all that is left of it), else empty.
   */
  Optional<LoopRecord> acceptedRecord(String id) {
    return node.journal.state(ACCEPTED, id).map(LoopRecord::fromJson);
  }

  /** The ids of the accepted runs, sorted. */
  Set<String> acceptedIds() {
    return accepted(node).keySet();
  }

  /** The node's runner. */
  LoopRunner runner() {
    return runner;
  }

  /** The unfinished runs whose agents were registered when the node opened, by id. */
  List<String> resumed() {
    return resumed;
  }

  /** Every agent a loop asks, each once, in the order implementers, validators, owner. */
  static List<String> agents(LoopSpec spec) {
    Set<String> all = new LinkedHashSet<>(spec.implementers());
    all.addAll(spec.validators());
    all.add(spec.owner());
    return List.copyOf(all);
  }

  /** True when a loop may ask {@code agent}: a definition, or a type the node was built with. */
  boolean knows(String agent) {
    return knows(node, agent);
  }

  private static boolean knows(Node node, String agent) {
    return node.extraTypes.contains(agent) || node.definition(agent).isPresent();
  }

  /** The agents a loop may ask, sorted. */
  List<String> known() {
    Set<String> all = new TreeSet<>(node.extraTypes);
    node.definitions.definitions().stream().map(AgentDefinition::name).forEach(all::add);
    return List.copyOf(all);
  }

  /**
   * Registers the definitions among {@code agents} that the runtime does not know yet.
   *
   * @throws ModelConfigException when a definition needs a model and none is configured
   */
  void registerAgents(Collection<String> agents) {
    node.registerDefinitions(agents);
  }

  /**
   * Reserves run id {@code id} for a submission: false when the journal holds a run of that id or a
   * submission of this node took it.
   */
  synchronized boolean claim(String id) {
    if (claimed.contains(id)
        || node.journal.state(LoopRunner.coordinator(id), LoopRecord.STATE_KEY).isPresent()
        || node.journal.state(LoopRunner.INDEX, id).isPresent()
        || node.journal.state(ACCEPTED, id).isPresent()) {
      return false;
    }
    claimed.add(id);
    return true;
  }

  /** Frees run id {@code id} after a submission that started nothing. */
  void release(String id) {
    claimed.remove(id);
  }

  /** A new run id: {@code loop-yyyyMMdd-HHmmss-XXXX} (UTC, a random hexadecimal suffix). */
  static String defaultRunId() {
    return "loop-"
        + LocalDateTime.now(ZoneOffset.UTC).format(STAMP)
        + "-"
        + Integer.toHexString(SUFFIX.nextInt(0x1000, 0x10000));
  }
}
