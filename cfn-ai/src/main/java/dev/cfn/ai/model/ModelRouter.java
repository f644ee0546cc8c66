package dev.cfn.ai.model;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the provider and model for an agent, and owns one resilient client per provider (retries,
 * rate limits and a circuit breaker shared by every agent that uses it).
 *
 * <p>Resolution, first match wins:
 *
 * <ol>
 *   <li>The agent's frontmatter names a {@code provider}: that provider, with the frontmatter's
 *       {@code model} or else the provider's default model; no fallbacks (the agent pinned it).
 *   <li>Otherwise the first rule of {@code routes:} whose {@code agent} glob and {@code type} match
 *       the agent, else the {@code default:} route. A frontmatter {@code model} (without {@code
 *       provider}) replaces the route's model on the route's provider; the route's fallbacks stay.
 * </ol>
 *
 * <p>Model names go through the provider's aliases ({@code models:}, and for Anthropic providers
 * the built-in {@link ProviderConfig#CLAUDE_ALIASES}), so {@code model: sonnet} in a frontmatter
 * works; {@code inherit} and an empty value count as absent. A Claude Code alias ({@code sonnet},
 * {@code opus}, {@code haiku}) that would reach an OpenAI-compatible provider unmapped is a {@link
 * ModelConfigException}: no such server knows those names. So is a frontmatter model that looks
 * like an alias cfn does not know ({@code model: fable}, a lowercase word) routed to such a
 * provider; routed to an Anthropic provider it is sent unchanged, with a warning in the log, since
 * Anthropic may know aliases newer than cfn.
 *
 * <p>The original claude-flow-novice sent the main chat to Anthropic and every other agent to a
 * cheaper provider; as a config that is one rule and the default:
 *
 * <pre>{@code
 * providers:
 *   anthropic:
 *     api-key: ${ANTHROPIC_API_KEY}
 *     model: claude-sonnet-4-5
 *   zai:
 *     kind: openai
 *     base-url: https://api.z.ai/api/paas/v4
 *     api-key: ${ZAI_API_KEY}
 *     model: glm-4.6
 * routes:
 *   - {agent: main-chat, provider: anthropic, fallbacks: [{provider: zai}]}
 * default: {provider: zai, fallbacks: [{provider: anthropic, model: claude-haiku-4-5}]}
 * }</pre>
 *
 * <pre>{@code
 * try (ModelRouter router = ModelRouter.create(ModelConfig.discover(projectDir, System.getenv()))) {
 *   RoutedModel model = router.resolve("reviewer", "validator", def.provider(), def.model());
 *   ChatResponse r = model.chat(ChatRequest.builder().system(def.prompt()).user(task).build());
 * }
 * }</pre>
 *
 * Thread-safe.
 */
public final class ModelRouter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRouter.class);
  private static final Pattern MODEL_WORD = Pattern.compile("[a-z]+");
  private final ModelConfig config;
  private final Function<ProviderConfig, ModelProvider> factory;
  private final Map<String, ModelProvider> clients = new ConcurrentHashMap<>();
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
  private final ProviderMeters meters = new ProviderMeters();
  private volatile boolean closed;

  /**
   * Creates a router; provider clients are created when first resolved.
   *
   * @param config the providers and routes
   * @return the router; close it to release the clients
   */
  public static ModelRouter create(ModelConfig config) {
    return new ModelRouter(
        config, c -> ResilientProvider.of(c, TimeSource.SYSTEM, RandomGenerator.getDefault()));
  }

  ModelRouter(ModelConfig config, Function<ProviderConfig, ModelProvider> factory) {
    this.config = config;
    this.factory = factory;
  }

  /**
   * Returns the configuration this router routes by.
   *
   * @return the configuration
   */
  public ModelConfig config() {
    return config;
  }

  /**
   * Resolves the model of an agent without a provider or model in its frontmatter.
   *
   * @param agentName the agent's name, or null
   * @param agentType the agent's type, or null
   * @return the routed model
   */
  public RoutedModel resolve(String agentName, String agentType) {
    return resolve(agentName, agentType, null, null);
  }

  /**
   * Resolves the model of an agent.
   *
   * @param agentName the agent's name (matched against the routes' {@code agent} globs), or null
   * @param agentType the agent's type (matched against the routes' {@code type}), or null
   * @param provider the {@code provider} of the agent's frontmatter, or null
   * @param model the {@code model} of the agent's frontmatter, or null ({@code inherit} counts as
   *     null)
   * @return the routed model, to call as the agent's {@link ModelProvider}
   * @throws ModelConfigException when the frontmatter names an unknown provider, the chosen
   *     provider has no model to use, or a Claude Code alias would be sent unmapped to a provider
   *     that is not Anthropic's kind
   */
  public RoutedModel resolve(String agentName, String agentType, String provider, String model) {
    if (closed) {
      throw new IllegalStateException("the model router is closed");
    }
    String who = agentName == null ? "(unnamed)" : agentName;
    String p = absent(provider) ? null : provider.strip();
    String m = absent(model) ? null : model.strip();
    List<ModelTarget> targets = new ArrayList<>();
    String reason;
    if (p != null) {
      if (!config.providers().containsKey(p)) {
        throw new ModelConfigException(
            "agent '" + who + "'",
            "provider",
            "names provider '"
                + p
                + "', which is not configured; configured are "
                + config.providers().keySet()
                + "; add it to "
                + ModelConfig.DEFAULT_FILE
                + " or remove provider: from the agent's frontmatter");
      }
      targets.add(new ModelTarget(p, m));
      reason = "frontmatter";
    } else {
      ModelRoute route = config.defaultRoute();
      reason = "default";
      for (int i = 0; i < config.routes().size(); i++) {
        if (config.routes().get(i).matches(agentName, agentType)) {
          route = config.routes().get(i);
          reason = "routes[" + i + "]";
          break;
        }
      }
      targets.add(m == null ? route.target() : new ModelTarget(route.target().provider(), m));
      targets.addAll(route.fallbacks());
    }
    List<RoutedModel.Candidate> candidates = new ArrayList<>();
    for (ModelTarget t : targets) {
      ProviderConfig pc = config.provider(t.provider());
      String resolved = pc.resolveModel(t.model());
      if (resolved == null) {
        throw new ModelConfigException(
            "agent '" + who + "' (" + reason + ")",
            "providers." + t.provider() + ".model",
            "provider '"
                + t.provider()
                + "' has no default model and the route names none; set model: on the provider"
                + " or the route, or model: in the agent's frontmatter");
      }
      if (t == targets.getFirst() && p == null && m != null && unknownAlias(pc, m)) {
        // An alias newer than cfn (model: fable): Anthropic resolves its own aliases, no other
        // provider knows them.
        if (pc.kind() != ProviderConfig.Kind.ANTHROPIC) {
          throw new ModelConfigException(
              "agent '" + who + "' (" + reason + ")",
              "providers." + t.provider() + ".models",
              "the model '"
                  + m
                  + "' looks like a Claude model alias cfn does not know, which provider '"
                  + t.provider()
                  + "' ("
                  + pc.kind().name().toLowerCase(java.util.Locale.ROOT)
                  + " kind) cannot resolve; map it with models: {"
                  + m
                  + ": MODEL} on provider '"
                  + t.provider()
                  + "', route the agent to an Anthropic provider, or name the model with"
                  + " provider: in the agent's frontmatter");
        }
        LOG.warn(
            "agent '{}': model '{}' is not an alias cfn knows; it is sent unchanged to Anthropic"
                + " provider '{}'",
            who,
            m,
            t.provider());
      }
      if (pc.kind() != ProviderConfig.Kind.ANTHROPIC
          && ProviderConfig.CLAUDE_ALIASES.containsKey(resolved)) {
        throw new ModelConfigException(
            "agent '" + who + "' (" + reason + ")",
            "providers." + t.provider() + ".models",
            "the model '"
                + resolved
                + "' is a Claude Code alias, which provider '"
                + t.provider()
                + "' ("
                + pc.kind().name().toLowerCase(java.util.Locale.ROOT)
                + " kind) would receive as it is; map it to one of its models with models: {"
                + resolved
                + ": MODEL} on provider '"
                + t.provider()
                + "', or name a full model id in the agent's frontmatter or the route");
      }
      candidates.add(
          new RoutedModel.Candidate(new ModelTarget(t.provider(), resolved), client(t.provider())));
    }
    return new RoutedModel(who, candidates, reason, meters);
  }

  /**
   * Returns the resilient client of one provider, shared by every route that uses it.
   *
   * @param name the provider's name
   * @return its client
   * @throws IllegalArgumentException when there is no such provider
   */
  public ModelProvider provider(String name) {
    config.provider(name);
    return client(name);
  }

  private ModelProvider client(String name) {
    ModelProvider known = clients.get(name);
    if (known != null) {
      return known;
    }
    // Rare (once per provider): created under the registries' lock, so that a concurrent bindTo
    // binds every client exactly once, whichever comes first.
    synchronized (registries) {
      return clients.computeIfAbsent(
          name,
          n -> {
            ModelProvider p = factory.apply(config.provider(n));
            for (MeterRegistry r : registries) {
              bind(p, r);
            }
            return p;
          });
    }
  }

  /**
   * Publishes each provider's circuit breaker to {@code registry}, for the providers resolved so
   * far and every one resolved later: the gauge {@value #CIRCUIT_STATE} (tag {@code provider}; 0
   * closed, 1 half-open, 2 open) and the counter {@value #CIRCUIT_TRANSITIONS} (tags {@code
   * provider} and {@code to}); and each provider's calls, failures and tokens: {@code
   * cfn.model.calls}, {@code cfn.model.failures} (tag {@code provider}) and {@code
   * cfn.model.tokens} (tags {@code provider}, {@code kind}: input, output, cached). Binding the
   * same registry twice has no further effect. {@link dev.cfn.ai.LlmAgent} binds the runtime's
   * registry to the router it is given.
   *
   * @param registry the registry
   */
  public void bindTo(MeterRegistry registry) {
    java.util.Objects.requireNonNull(registry, "registry");
    synchronized (registries) {
      if (registries.stream().anyMatch(r -> r == registry)) {
        return;
      }
      registries.add(registry);
      clients.values().forEach(p -> bind(p, registry));
      meters.bindTo(registry);
    }
  }

  /** The gauge of each provider's circuit state: 0 closed, 1 half-open, 2 open. */
  public static final String CIRCUIT_STATE = "cfn.model.circuit.state";

  /** The counter of each provider's circuit transitions, tagged with the state entered. */
  public static final String CIRCUIT_TRANSITIONS = "cfn.model.circuit.transitions";

  private static void bind(ModelProvider provider, MeterRegistry registry) {
    if (!(provider instanceof ResilientProvider rp)) {
      return;
    }
    CircuitBreaker breaker = rp.circuitBreaker();
    Gauge.builder(CIRCUIT_STATE, breaker, b -> stateCode(b.state()))
        .tag("provider", breaker.name())
        .description("circuit breaker state of a model provider: 0 closed, 1 half-open, 2 open")
        .register(registry);
    breaker.addListener(
        (b, from, to, reason) ->
            registry
                .counter(
                    CIRCUIT_TRANSITIONS,
                    "provider",
                    b.name(),
                    "to",
                    to.name().toLowerCase(java.util.Locale.ROOT))
                .increment());
  }

  static int stateCode(CircuitBreaker.State state) {
    return switch (state) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
    };
  }

  /**
   * Whether a frontmatter's model is an alias-shaped word (lowercase letters only, like {@code
   * sonnet} or {@code fable}) that neither the provider's {@code models:} nor the built-in Claude
   * aliases know. Model ids carry digits or punctuation ({@code claude-sonnet-4-5}, {@code
   * glm-4.6}) and pass unchanged to any provider.
   */
  private static boolean unknownAlias(ProviderConfig pc, String model) {
    return MODEL_WORD.matcher(model).matches()
        && !pc.modelAliases().containsKey(model)
        && !ProviderConfig.CLAUDE_ALIASES.containsKey(model);
  }

  private static boolean absent(String s) {
    return s == null || s.isBlank() || s.strip().equalsIgnoreCase("inherit");
  }

  /** Closes every provider client this router created. */
  @Override
  public void close() {
    closed = true;
    clients.values().forEach(ModelProvider::close);
    clients.clear();
  }
}
