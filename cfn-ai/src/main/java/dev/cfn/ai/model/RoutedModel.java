package dev.cfn.ai.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model an agent was routed to by a {@link ModelRouter}: a primary provider and model, and the
 * fallbacks tried in order when the primary fails with a retryable error (after its own retries) or
 * its circuit is open. Use it as the agent's {@link ModelProvider}.
 *
 * <p>Every call is sent with the model of the candidate being tried; the model set in the request
 * is ignored. A failure that would fail the same way anywhere ({@link ModelException#retryable()}
 * false: a bad request, a wrong key) is not passed to a fallback. A streamed call falls back only
 * while nothing has reached the listener. When every candidate fails, the exception names each
 * failure. A request's {@link ChatRequest#timeout()} is one deadline for every candidate: each is
 * given the time left, and none is tried once it has run out.
 */
public final class RoutedModel implements ModelProvider {
  private static final Logger LOG = LoggerFactory.getLogger(RoutedModel.class);

  /** One provider and the model to ask it for. */
  record Candidate(ModelTarget target, ModelProvider provider) {}

  private final String agent;
  private final List<Candidate> candidates;
  private final String reason;
  private final ProviderMeters meters;

  RoutedModel(String agent, List<Candidate> candidates, String reason) {
    this(agent, candidates, reason, new ProviderMeters());
  }

  RoutedModel(String agent, List<Candidate> candidates, String reason, ProviderMeters meters) {
    this.meters = meters;
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("a routed model needs at least one candidate");
    }
    this.agent = agent;
    this.candidates = List.copyOf(candidates);
    this.reason = reason;
  }

  /**
   * Returns the primary provider and model (the model resolved: aliases and defaults applied).
   *
   * @return the primary target
   */
  public ModelTarget target() {
    return candidates.get(0).target();
  }

  /**
   * Returns the model the primary is asked for.
   *
   * @return the model name
   */
  public String model() {
    return target().model();
  }

  /**
   * Returns the fallbacks, in the order they are tried.
   *
   * @return the fallback targets (empty when there are none)
   */
  public List<ModelTarget> fallbacks() {
    return candidates.stream().skip(1).map(Candidate::target).toList();
  }

  /**
   * Says why this route was chosen, for logs and {@code cfn} diagnostics: {@code "frontmatter"},
   * {@code "routes[2]"} or {@code "default"}.
   *
   * @return the reason
   */
  public String reason() {
    return reason;
  }

  /** Returns the primary provider's name. */
  @Override
  public String name() {
    return target().provider();
  }

  @Override
  public ChatResponse chat(ChatRequest request) {
    return call(request, null);
  }

  @Override
  public ChatResponse stream(ChatRequest request, StreamListener listener) {
    return call(request, Objects.requireNonNull(listener, "listener"));
  }

  private ChatResponse call(ChatRequest request, StreamListener listener) {
    ResilientProvider.DeliveryTracker tracker =
        listener == null ? null : new ResilientProvider.DeliveryTracker(listener);
    List<String> failures = new ArrayList<>();
    ModelException first = null;
    long start = System.nanoTime();
    for (int i = 0; i < candidates.size(); i++) {
      Candidate c = candidates.get(i);
      ChatRequest attempt = request.withModel(c.target().model());
      if (request.timeout() != null) {
        attempt = attempt.withTimeout(request.timeout().minusNanos(System.nanoTime() - start));
      }
      try {
        ChatResponse r =
            tracker == null ? c.provider().chat(attempt) : c.provider().stream(attempt, tracker);
        meters.succeeded(c.target().provider(), r.usage());
        return r;
      } catch (ModelException e) {
        meters.failed(c.target().provider());
        boolean last =
            i == candidates.size() - 1
                || (request.timeout() != null
                    && System.nanoTime() - start >= request.timeout().toNanos());
        boolean delivered = tracker != null && tracker.delivered();
        if (first == null) {
          first = e;
        }
        failures.add(c.target() + ": " + e.getMessage());
        if (!e.retryable() || delivered || last) {
          if (failures.size() == 1) {
            throw e;
          }
          ModelException all =
              new ModelException(
                  e.kind(),
                  e.provider(),
                  e.status(),
                  e.retryAfter().orElse(null),
                  "every model routed for agent '"
                      + agent
                      + "' failed: "
                      + String.join(" | ", failures),
                  e);
          if (first != e) {
            all.addSuppressed(first);
          }
          throw all;
        }
        LOG.warn(
            "agent {}: {} failed ({}); falling back to {}",
            agent,
            c.target(),
            e.kind(),
            candidates.get(i + 1).target());
      }
    }
    throw new IllegalStateException("unreachable: the loop returns or throws");
  }

  @Override
  public String toString() {
    return "RoutedModel[agent="
        + agent
        + ", target="
        + target()
        + ", fallbacks="
        + fallbacks()
        + ", reason="
        + reason
        + "]";
  }
}
