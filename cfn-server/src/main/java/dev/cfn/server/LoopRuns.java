package dev.cfn.server;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.loop.LoopStatus;
import java.security.SecureRandom;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
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
 */
final class LoopRuns {
  private static final Logger log = LoggerFactory.getLogger(LoopRuns.class);
  private static final SecureRandom SUFFIX = new SecureRandom();
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

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
    List<String> resumed = new ArrayList<>();
    node.journal
        .stateByPrefix(LoopRunner.INDEX, "", Journal.MAX_PREFIX_ENTRIES)
        .forEach(
            (id, status) -> {
              if (!LoopStatus.RUNNING.name().equals(status)) {
                return; // finished, or waiting for a person: no agent is asked until a decision
              }
              try {
                Optional<LoopRecord> r =
                    node.journal
                        .state(LoopRunner.coordinator(id), LoopRecord.STATE_KEY)
                        .map(LoopRecord::fromJson);
                if (r.isEmpty()) {
                  return;
                }
                List<String> agents = agents(r.get().spec());
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
                resumed.add(id);
              } catch (RuntimeException e) { // ModelConfigException, an unreadable record, ...
                log.warn(
                    "cfn serve: CFN Loop run {} cannot resume its agents ({}); its calls will fail"
                        + " (fix: configure a model provider, .cfn/providers.yaml, and restart)",
                    id,
                    e.getMessage());
              }
            });
    LoopRunner runner =
        LoopRunner.builder(node.runtime).journal(node.journal).pricing(node::price).build();
    if (!resumed.isEmpty()) {
      log.info("cfn serve: resuming {} unfinished CFN Loop run(s): {}", resumed.size(), resumed);
    }
    return new LoopRuns(node, runner, resumed);
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
        || node.journal.state(LoopRunner.INDEX, id).isPresent()) {
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
