package dev.cfn.testkit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link ModelServer} answers, decided per request: first a FIFO queue of one-shot replies
 * ({@link #enqueue(Reply)}), then rules in the order they were added ({@link #on(Match)}).
 *
 * <p>A rule holds one or more reply steps: each request it matches consumes the next step, and the
 * last step repeats forever. So {@code on(any()).reply(toolCall(..), text("done"))} answers the
 * first request with a tool call and every later one with {@code "done"}. A request that neither
 * the queue nor a rule answers gets HTTP 400 (which clients do not retry) with an error body saying
 * "no script rule matched" and what the request was, so a test fails loudly instead of hanging on a
 * wrong answer.
 *
 * <p>Thread-safe: a script may be changed while the server is answering.
 */
public final class Script {
  private final Object lock = new Object();
  private final ArrayDeque<Reply> queue = new ArrayDeque<>();
  private final List<Rule> rules = new ArrayList<>();

  Script() {}

  /**
   * Starts a rule for requests that {@code match} accepts; it takes effect when {@link
   * Rule#reply(Reply...)} gives it its replies.
   */
  public Rule on(Match match) {
    return new Rule(Objects.requireNonNull(match, "match"));
  }

  /**
   * Adds a one-shot reply for the next request, whatever it is. Queued replies are used in FIFO
   * order and before any rule.
   *
   * @return this script, for chaining
   */
  public Script enqueue(Reply reply) {
    Objects.requireNonNull(reply, "reply");
    synchronized (lock) {
      queue.addLast(reply);
    }
    return this;
  }

  /** Removes every rule and every queued reply. */
  public void clear() {
    synchronized (lock) {
      queue.clear();
      rules.clear();
    }
  }

  /** The reply for {@code request}, consuming a queued reply or a rule step. */
  Optional<Reply> answer(RecordedRequest request) {
    synchronized (lock) {
      Reply queued = queue.pollFirst();
      if (queued != null) {
        return Optional.of(queued);
      }
      for (Rule rule : rules) {
        if (rule.match.test(request)) {
          return Optional.of(rule.nextStep());
        }
      }
      return Optional.empty();
    }
  }

  /** The rules, for an error message: {@code [model("x"), any()]}. */
  String describeRules() {
    synchronized (lock) {
      return rules.stream().map(r -> r.match.toString()).toList().toString();
    }
  }

  /**
   * A rule under construction: a {@link Match} waiting for its replies. Obtained from {@link
   * Script#on(Match)}.
   */
  public final class Rule {
    private final Match match;
    private List<Reply> steps;
    private int next;

    private Rule(Match match) {
      this.match = match;
    }

    /**
     * Gives the rule its replies and adds it after the existing rules. Each matching request
     * consumes the next step; the last step then repeats.
     *
     * @return the script, for chaining further rules
     * @throws IllegalArgumentException if no step is given
     * @throws IllegalStateException if this rule already has its replies
     */
    public Script reply(Reply... steps) {
      if (steps.length == 0) {
        throw new IllegalArgumentException("a rule needs at least one reply step");
      }
      List<Reply> list = List.of(steps);
      synchronized (lock) {
        if (this.steps != null) {
          throw new IllegalStateException(
              "rule " + match + " already has its replies; start a new rule with script.on(...)");
        }
        this.steps = list;
        rules.add(this);
      }
      return Script.this;
    }

    private Reply nextStep() {
      Reply step = steps.get(Math.min(next, steps.size() - 1));
      if (next < steps.size()) {
        next++;
      }
      return step;
    }
  }
}
