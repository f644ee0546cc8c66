package dev.cfn.ai.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A rollout's durable record, as its JSON file holds it: the plan, where it is, its history and the
 * measures so far. Mutable and unguarded: {@link Rollout} and {@link RolloutStore} guard it. {@code
 * revision} counts the writes of the file, so that a process holding a copy notices a change an
 * operator's command made meanwhile.
 */
final class RolloutState {
  String agent;
  DefinitionVersion baseline;
  DefinitionVersion canary;
  List<Integer> steps;
  Duration hold;
  Gates gates;
  RolloutStatus.Phase phase = RolloutStatus.Phase.RUNNING;
  int stepIndex;
  Instant stepStartedAt;
  String reason;
  long revision;
  List<RolloutEvent> events = new ArrayList<>();
  Measures baselineMeasures = new Measures(); // over the whole rollout
  Measures canaryMeasures = new Measures(); // over the current step

  int share() {
    return switch (phase) {
      case RUNNING -> steps.get(stepIndex);
      case COMPLETED -> 100;
      case ROLLED_BACK -> 0;
    };
  }

  /**
   * What tells this rollout from another of the same agent: the new version's hash and the time it
   * was started.
   */
  String identity() {
    return canary.hash() + "@" + (events.isEmpty() ? "" : events.getFirst().at());
  }

  RolloutStatus status() {
    return new RolloutStatus(
        agent,
        phase,
        share(),
        List.copyOf(steps),
        hold,
        stepStartedAt,
        baseline,
        canary,
        canary.file(),
        gates,
        baselineMeasures.figures(),
        canaryMeasures.figures(),
        reason,
        List.copyOf(events));
  }

  /** Takes over what an operator's command may have changed in {@code other}: phase and history. */
  void adoptDecisions(RolloutState other) {
    boolean newStep = other.stepIndex != stepIndex || other.phase != phase;
    phase = other.phase;
    stepIndex = other.stepIndex;
    stepStartedAt = other.stepStartedAt;
    reason = other.reason;
    events = other.events;
    if (newStep) {
      canaryMeasures = new Measures();
    }
  }

  ObjectNode toJson() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode n = f.objectNode();
    n.put("format", 1).put("agent", agent).put("revision", revision);
    n.set("baseline", version(baseline));
    n.set("canary", version(canary));
    var s = n.putArray("steps");
    steps.forEach(s::add);
    n.put("hold", hold.toString());
    ObjectNode g = n.putObject("gates");
    g.put("maxRatio", gates.maxRatio()).put("errorTolerance", gates.errorTolerance());
    g.put("latencySlack", gates.latencySlack().toString());
    g.put("minTasks", gates.minTasks()).put("minVerdicts", gates.minVerdicts());
    n.put("phase", phase.name()).put("stepIndex", stepIndex);
    n.put("stepStartedAt", stepStartedAt.toString());
    n.put("reason", reason);
    var ev = n.putArray("events");
    for (RolloutEvent e : events) {
      ev.addObject()
          .put("at", e.at().toString())
          .put("kind", e.kind())
          .put("share", e.share())
          .put("detail", e.detail())
          .put("by", e.by());
    }
    n.set("baselineMeasures", baselineMeasures.toJson());
    n.set("canaryMeasures", canaryMeasures.toJson());
    return n;
  }

  private static ObjectNode version(DefinitionVersion v) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    return n.put("name", v.name())
        .put("version", v.version())
        .put("hash", v.hash())
        .put("file", v.file());
  }

  static RolloutState fromJson(JsonNode n) {
    RolloutState s = new RolloutState();
    s.agent = n.path("agent").asText();
    s.revision = n.path("revision").asLong();
    s.baseline = version(n.path("baseline"));
    s.canary = version(n.path("canary"));
    s.steps = new ArrayList<>();
    n.path("steps").forEach(v -> s.steps.add(v.asInt()));
    s.hold = Duration.parse(n.path("hold").asText());
    JsonNode g = n.path("gates");
    s.gates =
        new Gates(
            g.path("maxRatio").asDouble(),
            g.path("errorTolerance").asDouble(),
            Duration.parse(g.path("latencySlack").asText()),
            g.path("minTasks").asInt(),
            g.path("minVerdicts").asInt());
    s.phase = RolloutStatus.Phase.valueOf(n.path("phase").asText());
    s.stepIndex = n.path("stepIndex").asInt();
    s.stepStartedAt = Instant.parse(n.path("stepStartedAt").asText());
    s.reason = n.path("reason").isNull() ? null : n.path("reason").asText(null);
    for (JsonNode e : n.path("events")) {
      s.events.add(
          new RolloutEvent(
              Instant.parse(e.path("at").asText()),
              s.agent,
              e.path("kind").asText(),
              e.path("share").asInt(),
              e.path("detail").asText(),
              e.path("by").asText()));
    }
    s.baselineMeasures = Measures.fromJson(n.get("baselineMeasures"));
    s.canaryMeasures = Measures.fromJson(n.get("canaryMeasures"));
    return s;
  }

  private static DefinitionVersion version(JsonNode n) {
    JsonNode v = n.path("version");
    return new DefinitionVersion(
        n.path("name").asText(),
        v.isNull() || v.isMissingNode() ? null : v.asText(),
        n.path("hash").asText(),
        n.path("file").asText());
  }
}
