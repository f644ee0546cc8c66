package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Replay state over one cassette: interactions grouped by normalized request key, with a cursor per
 * key so repeated identical requests get their recorded answers in order (the last one repeats).
 * The cassette itself stays unchanged, so several servers may replay it.
 */
final class CassettePlayer {
  private final Cassette cassette;
  private final Map<JsonNode, List<Cassette.Interaction>> byKey = new HashMap<>();
  private final Map<JsonNode, Integer> cursor = new HashMap<>();

  CassettePlayer(Cassette cassette) {
    this.cassette = cassette;
    for (Cassette.Interaction interaction : cassette.interactions()) {
      JsonNode key = Dialect.of(interaction.protocol()).requestKey(interaction.request());
      byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(interaction);
    }
  }

  synchronized Optional<Cassette.Interaction> next(RecordedRequest request) {
    JsonNode key = Dialect.of(request.protocol()).requestKey(request.bodyView());
    List<Cassette.Interaction> candidates = byKey.get(key);
    if (candidates == null) {
      return Optional.empty();
    }
    int index = cursor.getOrDefault(key, 0);
    cursor.put(key, index + 1);
    return Optional.of(candidates.get(Math.min(index, candidates.size() - 1)));
  }

  /** What the cassette holds near this request, for a "no interaction matches" message. */
  String describeNear(RecordedRequest request) {
    List<Cassette.Interaction> all = cassette.interactions();
    long sameModel =
        all.stream()
            .filter(i -> i.protocol() == request.protocol())
            .filter(i -> Json.text(i.request().path("model")).equals(request.model()))
            .count();
    return "the cassette holds "
        + all.size()
        + " interactions, "
        + sameModel
        + " of them for "
        + request.protocol()
        + " model \""
        + request.model()
        + "\"; messages, system prompt and tools must match a recorded request exactly";
  }
}
