package dev.cfn.ai.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every model provider cfn may call and the rules that pick one for an agent; what a {@link
 * ModelRouter} is built from.
 *
 * <h2>The file</h2>
 *
 * <p>{@code .cfn/providers.yaml} (keys in kebab-case; durations as {@code 500ms}, {@code 30s},
 * {@code 2m}, {@code 1h}, ISO-8601 {@code PT30S}, or a number of seconds):
 *
 * <pre>{@code
 * providers:
 *   anthropic:                       # kind defaults to the name when it is openai or anthropic
 *     api-key: ${ANTHROPIC_API_KEY}  # secrets come from the environment, not the file
 *     model: claude-sonnet-4-5
 *     models: {sonnet: claude-sonnet-4-5, haiku: claude-haiku-4-5}   # aliases agents may use
 *   zai:
 *     kind: openai
 *     base-url: https://api.z.ai/api/paas/v4
 *     api-key: ${ZAI_API_KEY}
 *     model: glm-4.6
 *     rate-limit: {requests-per-minute: 60, tokens-per-minute: 200000, max-wait: 30s}
 *   ollama:
 *     kind: openai
 *     base-url: http://localhost:11434/v1
 *     model: qwen3:8b
 *     request-timeout: 300s
 * routes:
 *   - agent: main-chat               # glob over the agent's name; or type: <agent type>
 *     provider: anthropic
 *     fallbacks: [{provider: zai}]
 * default:                           # every other agent
 *   provider: zai
 *   fallbacks: [{provider: ollama}]
 * }</pre>
 *
 * <p>Per provider also: {@code headers} (a map), {@code max-tokens}, {@code connect-timeout},
 * {@code retry: {max-attempts, initial-backoff, max-backoff, max-retry-after}} and {@code
 * circuit-breaker: {failure-threshold, cool-down}}, {@code stream-timeout}, {@code
 * max-response-bytes} and {@code max-event-bytes} (sizes as {@code 16MiB}, {@code 512KiB} or a
 * number of bytes); see {@link ProviderConfig} for their meaning and defaults. Without {@code
 * default:}, the first provider declared is the default (file order, then {@code anthropic}, then
 * {@code openai} from the environment).
 *
 * <h2>The environment, and precedence</h2>
 *
 * <ol>
 *   <li>{@code OPENAI_BASE_URL}, {@code OPENAI_API_KEY}, {@code OPENAI_MODEL} configure the
 *       provider named {@code openai}, and {@code ANTHROPIC_BASE_URL}, {@code ANTHROPIC_API_KEY},
 *       {@code ANTHROPIC_MODEL} the one named {@code anthropic}. Each variable that is set (and not
 *       empty) <em>overrides</em> the file's value for that key; when the file does not declare the
 *       provider, the variables create it (with the kind's public base URL unless one is given).
 *       Providers with other names take nothing from these variables: name a local server {@code
 *       ollama}, not {@code openai}, so that an exported OpenAI key is never sent to it.
 *   <li>{@code ${NAME}} in any file value is replaced by the variable {@code NAME}; an unset
 *       variable is an error unless a default is given: {@code ${NAME:-default}} ({@code ${NAME:-}}
 *       for empty). In a project's file read by {@link #discover}, only {@code *_API_KEY} variables
 *       and those the user allows may be referenced, and secrets from the environment go only to
 *       the hosts they are bound to: see {@link ProviderTrust}.
 *   <li>Everything else comes from the file, then from the defaults of {@link ProviderConfig}.
 * </ol>
 *
 * @param providers the providers by name, in declaration order
 * @param routes the routing rules, tried in order
 * @param defaultRoute the route of agents no rule matches
 * @param warnings what was accepted but is unsafe (a literal key in the file, plain {@code http://}
 *     to another machine), one line each, also logged at WARN; never a secret
 */
public record ModelConfig(
    Map<String, ProviderConfig> providers,
    List<ModelRoute> routes,
    ModelRoute defaultRoute,
    List<String> warnings) {
  /** Where cfn looks for the file, relative to the project directory. */
  public static final Path DEFAULT_FILE = Path.of(".cfn", "providers.yaml");

  public ModelConfig {
    providers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(providers));
    routes = List.copyOf(routes);
    warnings = List.copyOf(warnings == null ? List.of() : warnings);
    Objects.requireNonNull(defaultRoute, "defaultRoute");
    List<ModelRoute> all = new java.util.ArrayList<>(routes);
    all.add(defaultRoute);
    for (ModelRoute r : all) {
      requireKnown(providers, r.target());
      for (ModelTarget t : r.fallbacks()) {
        requireKnown(providers, t);
      }
    }
  }

  /**
   * A configuration without warnings.
   *
   * @param providers the providers by name, in declaration order
   * @param routes the routing rules, tried in order
   * @param defaultRoute the route of agents no rule matches
   */
  public ModelConfig(
      Map<String, ProviderConfig> providers, List<ModelRoute> routes, ModelRoute defaultRoute) {
    this(providers, routes, defaultRoute, List.of());
  }

  private static void requireKnown(Map<String, ProviderConfig> providers, ModelTarget t) {
    if (!providers.containsKey(t.provider())) {
      throw new IllegalArgumentException(
          "unknown provider '" + t.provider() + "': known are " + providers.keySet());
    }
  }

  /**
   * Reads a providers file the caller chose as its own (the user's, not a project's), with the
   * environment applied as described above; the {@link ProviderTrust} rules do not apply. Use
   * {@link #discover} for a project's file.
   *
   * @param file the YAML file
   * @param env the environment ({@code System.getenv()}; tests pass a map)
   * @return the configuration
   * @throws ModelConfigException when the file is missing or invalid; the message names the file,
   *     the key and the fix
   */
  public static ModelConfig load(Path file, Map<String, String> env) {
    return parse(read(file), file.toString(), env);
  }

  private static String read(Path file) {
    String text;
    try {
      text = dev.cfn.core.io.TextFile.readUtf8(file);
    } catch (NoSuchFileException e) {
      throw new ModelConfigException(
          file.toString(),
          "(file)",
          "the file does not exist; create it (see ModelConfig's documentation) or configure"
              + " providers through OPENAI_* / ANTHROPIC_* environment variables");
    } catch (dev.cfn.core.io.TextFile.NotTextException e) {
      throw new ModelConfigException(
          file.toString(), "(file)", e.getMessage() + "; save it as UTF-8");
    } catch (IOException e) {
      throw new ModelConfigException(
          file.toString(),
          "(file)",
          "cannot be read (" + e.getMessage() + "); check its permissions");
    }
    return text;
  }

  /**
   * Reads {@code projectDir/.cfn/providers.yaml} when it exists, under the rules of the user's
   * {@link ProviderTrust#load trust}, otherwise configures providers from the environment alone.
   *
   * @param projectDir the project directory
   * @param env the environment
   * @return the configuration
   * @throws ModelConfigException when the configuration is invalid or names no provider
   */
  public static ModelConfig discover(Path projectDir, Map<String, String> env) {
    return discover(projectDir, env, ProviderTrust.load(env));
  }

  /**
   * Reads {@code projectDir/.cfn/providers.yaml} under the rules of {@link ProviderTrust} (the
   * project's file may expand only allowed variables and send secrets only to the hosts they are
   * bound to, unless the user trusted the file as it is), or configures providers from the
   * environment alone when there is no file.
   *
   * @param projectDir the project directory
   * @param env the environment
   * @param trust what the user allows a project file
   * @return the configuration
   * @throws ModelConfigException when the configuration is invalid, names no provider, or would
   *     send a secret where the rules forbid; the message names the variable, the host and the fix
   */
  public static ModelConfig discover(
      Path projectDir, Map<String, String> env, ProviderTrust trust) {
    Path file = projectDir.resolve(DEFAULT_FILE);
    if (!Files.isRegularFile(file)) {
      return fromEnvironment(env);
    }
    String text = read(file);
    ProviderTrust rules = trust.trusts(file) ? null : trust;
    return new ProvidersFile(file.toString(), env, rules).parse(text);
  }

  /**
   * Configures providers from the environment alone ({@code OPENAI_*}, {@code ANTHROPIC_*}).
   *
   * @param env the environment
   * @return the configuration
   * @throws ModelConfigException when no variable names a provider
   */
  public static ModelConfig fromEnvironment(Map<String, String> env) {
    return new ProvidersFile("environment", env).read(Map.of());
  }

  /**
   * Parses the text of a providers file the caller chose as its own; the {@link ProviderTrust}
   * rules do not apply.
   *
   * @param yaml the YAML text
   * @param source the file's name, for error messages
   * @param env the environment
   * @return the configuration
   * @throws ModelConfigException when the text is invalid
   */
  public static ModelConfig parse(String yaml, String source, Map<String, String> env) {
    return new ProvidersFile(source, env).parse(yaml);
  }

  /**
   * Returns one provider's settings.
   *
   * @param name the provider's name
   * @return its settings
   * @throws IllegalArgumentException when there is no such provider
   */
  public ProviderConfig provider(String name) {
    ProviderConfig p = providers.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          "unknown provider '" + name + "': configured are " + providers.keySet());
    }
    return p;
  }
}
