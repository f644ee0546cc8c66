package dev.cfn.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Which requests a {@link Script} rule answers. Matches are immutable and composable, and print as
 * what they test (e.g. {@code model("gpt-4o") and toolResultPresent()}), which is what a "no script
 * rule matched" error lists.
 *
 * <pre>{@code
 * script.on(Match.lastUserMessageContains("weather").and(Match.protocol(Protocol.ANTHROPIC)))
 *     .reply(Reply.toolCall("get_weather", "{\"city\":\"Paris\"}"));
 * script.on(Match.toolResultPresent()).reply(Reply.text("It is sunny."));
 * }</pre>
 */
public final class Match {
  private final String description;
  private final Predicate<RecordedRequest> predicate;

  private Match(String description, Predicate<RecordedRequest> predicate) {
    this.description = description;
    this.predicate = predicate;
  }

  /** Matches every request. */
  public static Match any() {
    return new Match("any()", r -> true);
  }

  /** Matches when the last user message contains {@code text} (case-sensitive). */
  public static Match lastUserMessageContains(String text) {
    Objects.requireNonNull(text, "text");
    return new Match(
        "lastUserMessageContains(\"" + text + "\")", r -> r.lastUserMessage().contains(text));
  }

  /** Matches when the system prompt contains {@code text} (case-sensitive). */
  public static Match systemContains(String text) {
    Objects.requireNonNull(text, "text");
    return new Match("systemContains(\"" + text + "\")", r -> r.system().contains(text));
  }

  /** Matches requests for exactly this model name. */
  public static Match model(String model) {
    Objects.requireNonNull(model, "model");
    return new Match("model(\"" + model + "\")", r -> r.model().equals(model));
  }

  /** Matches when the request offers a tool with this name. */
  public static Match toolOffered(String name) {
    Objects.requireNonNull(name, "name");
    return new Match("toolOffered(\"" + name + "\")", r -> r.toolNames().contains(name));
  }

  /**
   * Matches when the last message carries a tool result (see {@link
   * RecordedRequest#hasToolResult()}): the turn after the model called a tool.
   */
  public static Match toolResultPresent() {
    return new Match("toolResultPresent()", RecordedRequest::hasToolResult);
  }

  /** Matches requests of one protocol. */
  public static Match protocol(Protocol protocol) {
    Objects.requireNonNull(protocol, "protocol");
    return new Match("protocol(" + protocol + ")", r -> r.protocol() == protocol);
  }

  /** Matches what {@code predicate} accepts; for anything the factories above do not cover. */
  public static Match of(Predicate<RecordedRequest> predicate) {
    return of("of(predicate)", predicate);
  }

  /** Like {@link #of(Predicate)}, with the description shown in "no rule matched" errors. */
  public static Match of(String description, Predicate<RecordedRequest> predicate) {
    return new Match(
        Objects.requireNonNull(description, "description"),
        Objects.requireNonNull(predicate, "predicate"));
  }

  /** Matches when this and every one of {@code others} match. */
  public Match and(Match... others) {
    List<Match> all = all(others);
    List<String> names = all.stream().map(m -> m.description).toList();
    return new Match(
        String.join(" and ", names), r -> all.stream().allMatch(m -> m.predicate.test(r)));
  }

  /** Matches when this or any one of {@code others} matches. */
  public Match or(Match... others) {
    List<Match> all = all(others);
    List<String> names = all.stream().map(m -> m.description).toList();
    return new Match(
        "(" + String.join(" or ", names) + ")",
        r -> all.stream().anyMatch(m -> m.predicate.test(r)));
  }

  /** Matches when this does not. */
  public Match negate() {
    return new Match("not(" + description + ")", predicate.negate());
  }

  /** Whether this match accepts {@code request}. */
  public boolean test(RecordedRequest request) {
    return predicate.test(request);
  }

  private List<Match> all(Match... others) {
    List<Match> all = new ArrayList<>();
    all.add(this);
    for (Match other : others) {
      all.add(Objects.requireNonNull(other, "match"));
    }
    return all;
  }

  /** What this match tests, e.g. {@code model("gpt-4o") and toolResultPresent()}. */
  @Override
  public String toString() {
    return description;
  }
}
