package dev.cfn.ai.model;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Each provider's calls, failures and tokens as a {@link RoutedModel} counted them (one call per
 * candidate tried, after the provider's own retries), in {@link LongAdder}s, published as function
 * counters to every registry a {@link ModelRouter} is bound to: {@value #CALLS}, {@value #FAILURES}
 * (tag {@code provider}) and {@value #TOKENS} (tags {@code provider} and {@code kind}: input,
 * output, cached).
 */
final class ProviderMeters {
  static final String CALLS = "cfn.model.calls";
  static final String FAILURES = "cfn.model.failures";
  static final String TOKENS = "cfn.model.tokens";

  /** One provider's counts. */
  static final class Counts {
    final LongAdder calls = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder input = new LongAdder();
    final LongAdder output = new LongAdder();
    final LongAdder cached = new LongAdder();
  }

  private final Map<String, Counts> byProvider = new ConcurrentHashMap<>();
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();

  void succeeded(String provider, Usage usage) {
    Counts c = of(provider);
    c.calls.increment();
    if (usage != null) {
      c.input.add(usage.inputTokens());
      c.output.add(usage.outputTokens());
      c.cached.add(usage.cachedTokens());
    }
  }

  void failed(String provider) {
    Counts c = of(provider);
    c.calls.increment();
    c.failures.increment();
  }

  private Counts of(String provider) {
    Counts known = byProvider.get(provider);
    if (known != null) {
      return known;
    }
    synchronized (this) { // once per provider: bind it to every registry exactly once
      return byProvider.computeIfAbsent(
          provider,
          p -> {
            Counts c = new Counts();
            registries.forEach(r -> bind(p, c, r));
            return c;
          });
    }
  }

  synchronized void bindTo(MeterRegistry registry) {
    if (registries.stream().anyMatch(r -> r == registry)) {
      return;
    }
    registries.add(registry);
    byProvider.forEach((p, c) -> bind(p, c, registry));
  }

  private static void bind(String provider, Counts c, MeterRegistry r) {
    FunctionCounter.builder(CALLS, c.calls, LongAdder::sum)
        .tag("provider", provider)
        .description("model calls sent to the provider (each fallback tried counts once)")
        .register(r);
    FunctionCounter.builder(FAILURES, c.failures, LongAdder::sum)
        .tag("provider", provider)
        .description("model calls the provider failed, after its own retries")
        .register(r);
    tokens(provider, "input", c.input, r);
    tokens(provider, "output", c.output, r);
    tokens(provider, "cached", c.cached, r);
  }

  private static void tokens(String provider, String kind, LongAdder n, MeterRegistry r) {
    FunctionCounter.builder(TOKENS, n, LongAdder::sum)
        .tag("provider", provider)
        .tag("kind", kind)
        .description("tokens the provider reported for its answered calls")
        .register(r);
  }
}
