package dev.cfn.ai.model;

import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads a providers file (see {@link ModelConfig} for its format and the precedence of the
 * environment) into a {@link ModelConfig}, checking every key so that a typo is reported with the
 * file, the key and the fix instead of being ignored.
 */
final class ProvidersFile {
  private static final Logger LOG = LoggerFactory.getLogger(ProvidersFile.class);
  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern SIZE =
      Pattern.compile("(\\d+)\\s*(b|bytes|k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern SIMPLE_DURATION =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

  private static final Set<String> TOP = Set.of("providers", "routes", "default");
  private static final Set<String> PROVIDER =
      Set.of(
          "kind",
          "base-url",
          "api-key",
          "model",
          "models",
          "headers",
          "max-tokens",
          "request-timeout",
          "connect-timeout",
          "stream-timeout",
          "max-response-bytes",
          "max-event-bytes",
          "retry",
          "rate-limit",
          "circuit-breaker");
  private static final Set<String> RETRY =
      Set.of("max-attempts", "initial-backoff", "max-backoff", "max-retry-after");
  private static final Set<String> RATE_LIMIT =
      Set.of("requests-per-minute", "tokens-per-minute", "max-wait");
  private static final Set<String> CIRCUIT =
      Set.of(
          "failure-threshold",
          "window-size",
          "minimum-calls",
          "failure-rate",
          "cool-down",
          "half-open-probes");
  private static final Set<String> ROUTE =
      Set.of("agent", "type", "provider", "model", "fallbacks");
  private static final Set<String> DEFAULT_ROUTE = Set.of("provider", "model", "fallbacks");
  private static final Set<String> TARGET = Set.of("provider", "model");

  private final String source;
  private final Map<String, String> env;
  private final ProviderTrust trust; // null: the caller's own file, trusted as a whole
  private final List<String> warnings = new ArrayList<>();
  // provider name -> the environment variables whose values it sends (api-key, headers)
  private final Map<String, Set<String>> secretsFromEnv = new LinkedHashMap<>();
  private Set<String> collecting; // where substitute() records the variables it expands

  /**
   * @param trust the user's trust for a project's file, which restricts what the file may do with
   *     the environment (see {@link ProviderTrust}); null for a file the caller chose as its own
   */
  ProvidersFile(String source, Map<String, String> env, ProviderTrust trust) {
    this.source = source;
    this.env = Map.copyOf(env);
    this.trust = trust;
  }

  ProvidersFile(String source, Map<String, String> env) {
    this(source, env, null);
  }

  ModelConfig parse(String yaml) {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(yaml);
    } catch (YamlEngineException e) {
      throw error(
          "(file)",
          "is not valid YAML: "
              + e.getMessage()
              + "; fix the syntax shown"
              + (yaml.contains("${")
                  ? " (inside {...} write '${NAME}' in quotes: braces end a flow mapping)"
                  : ""));
    }
    if (root == null) {
      return read(Map.of());
    }
    Map<String, Object> top = map(root, "(top level)");
    checkKeys(top, "", TOP);
    return read(top);
  }

  ModelConfig read(Map<String, Object> top) {
    LinkedHashMap<String, ProviderConfig> providers = new LinkedHashMap<>();
    Object declared = top.get("providers");
    if (declared != null) {
      for (var e : map(declared, "providers").entrySet()) {
        providers.put(
            e.getKey(), provider(e.getKey(), map(e.getValue(), "providers." + e.getKey())));
      }
    }
    applyEnvironment(providers);
    for (ProviderConfig p : providers.values()) {
      checkSecrets(p);
    }
    if (providers.isEmpty()) {
      throw error(
          "providers",
          "no model provider is configured; declare one under providers: in "
              + ModelConfig.DEFAULT_FILE
              + ", or set ANTHROPIC_API_KEY or OPENAI_API_KEY (with OPENAI_BASE_URL for other"
              + " OpenAI-compatible servers)");
    }
    List<ModelRoute> routes = new ArrayList<>();
    Object rules = top.get("routes");
    if (rules != null) {
      if (!(rules instanceof List<?> list)) {
        throw error("routes", "must be a list of rules (lines starting with '- ')");
      }
      for (int i = 0; i < list.size(); i++) {
        routes.add(route(list.get(i), "routes[" + i + "]", false, providers));
      }
    }
    ModelRoute defaultRoute =
        top.get("default") != null
            ? route(top.get("default"), "default", true, providers)
            : new ModelRoute(
                null, null, new ModelTarget(providers.keySet().iterator().next(), null), List.of());
    return new ModelConfig(providers, routes, defaultRoute, warnings);
  }

  private ProviderConfig provider(String name, Map<String, Object> m) {
    String p = "providers." + name;
    checkKeys(m, p + ".", PROVIDER);
    ProviderConfig.Kind kind;
    if (m.get("kind") != null) {
      try {
        kind = ProviderConfig.Kind.parse(text(m.get("kind"), p + ".kind"));
      } catch (IllegalArgumentException e) {
        throw error(p + ".kind", e.getMessage());
      }
    } else if (name.equals("openai") || name.equals("anthropic")) {
      kind = ProviderConfig.Kind.parse(name);
    } else {
      throw error(
          p + ".kind",
          "missing; add kind: openai (OpenAI-compatible servers: OpenAI, Ollama, vLLM, OpenRouter,"
              + " Z.ai, ...) or kind: anthropic");
    }
    ProviderConfig.Builder b = ProviderConfig.builder(name, kind);
    if (m.get("base-url") != null) {
      String url = text(m.get("base-url"), p + ".base-url");
      try {
        b.baseUrl(url);
      } catch (IllegalArgumentException e) {
        throw error(
            p + ".base-url", "'" + url + "' is not a URL; write e.g. " + kind.defaultBaseUrl());
      }
    }
    Set<String> secrets = secretsFromEnv.computeIfAbsent(name, k -> new TreeSet<>());
    if (m.get("api-key") != null) {
      Object raw = m.get("api-key");
      if (raw instanceof String s && !REFERENCE.matcher(s).find() && !s.isBlank()) {
        warn(
            p
                + ".api-key holds a literal key (accepted; anyone who reads the file has it): write"
                + " api-key: ${ENV_VAR} so that the file carries no secret");
      }
      collecting = secrets;
      try {
        b.apiKey(text(raw, p + ".api-key"));
      } finally {
        collecting = null;
      }
    }
    if (m.get("model") != null) {
      b.model(text(m.get("model"), p + ".model"));
    }
    if (m.get("models") != null) {
      map(m.get("models"), p + ".models")
          .forEach((k, v) -> b.modelAlias(k, text(v, p + ".models." + k)));
    }
    if (m.get("headers") != null) {
      collecting = secrets;
      try {
        map(m.get("headers"), p + ".headers")
            .forEach((k, v) -> b.header(k, text(v, p + ".headers." + k)));
      } finally {
        collecting = null;
      }
    }
    if (m.get("max-tokens") != null) {
      b.maxTokens((int) number(m.get("max-tokens"), p + ".max-tokens"));
    }
    if (m.get("request-timeout") != null) {
      b.requestTimeout(duration(m.get("request-timeout"), p + ".request-timeout"));
    }
    if (m.get("connect-timeout") != null) {
      b.connectTimeout(duration(m.get("connect-timeout"), p + ".connect-timeout"));
    }
    if (m.get("stream-timeout") != null) {
      b.streamTimeout(duration(m.get("stream-timeout"), p + ".stream-timeout"));
    }
    if (m.get("max-response-bytes") != null) {
      b.maxResponseBytes(size(m.get("max-response-bytes"), p + ".max-response-bytes"));
    }
    if (m.get("max-event-bytes") != null) {
      long events = size(m.get("max-event-bytes"), p + ".max-event-bytes");
      if (events > Integer.MAX_VALUE) {
        throw error(p + ".max-event-bytes", "must be below 2 GiB; write e.g. 4MiB");
      }
      b.maxEventBytes((int) events);
    }
    try {
      Map<String, Object> retry = section(m, p, "retry", RETRY);
      if (retry != null) {
        ProviderConfig.Retry d = ProviderConfig.Retry.DEFAULT;
        String rp = p + ".retry";
        b.retry(
            new ProviderConfig.Retry(
                (int) numberOr(retry, "max-attempts", d.maxAttempts(), rp),
                durationOr(retry, "initial-backoff", d.initialBackoff(), rp),
                durationOr(retry, "max-backoff", d.maxBackoff(), rp),
                durationOr(retry, "max-retry-after", d.maxRetryAfter(), rp)));
      }
      Map<String, Object> rateLimit = section(m, p, "rate-limit", RATE_LIMIT);
      if (rateLimit != null) {
        ProviderConfig.RateLimit d = ProviderConfig.RateLimit.NONE;
        String rp = p + ".rate-limit";
        b.rateLimit(
            new ProviderConfig.RateLimit(
                (int) numberOr(rateLimit, "requests-per-minute", 0, rp),
                numberOr(rateLimit, "tokens-per-minute", 0, rp),
                durationOr(rateLimit, "max-wait", d.maxWait(), rp)));
      }
      Map<String, Object> circuit = section(m, p, "circuit-breaker", CIRCUIT);
      if (circuit != null) {
        ProviderConfig.Circuit d = ProviderConfig.Circuit.DEFAULT;
        String cp = p + ".circuit-breaker";
        Duration coolDown = durationOr(circuit, "cool-down", d.coolDown(), cp);
        if (circuit.containsKey("failure-threshold")) {
          for (String k :
              List.of("window-size", "minimum-calls", "failure-rate", "half-open-probes")) {
            if (circuit.containsKey(k)) {
              throw new IllegalArgumentException(
                  "circuit-breaker has both failure-threshold (consecutive failures) and "
                      + k
                      + " (fix: keep failure-threshold alone, or replace it with window-size,"
                      + " minimum-calls and failure-rate)");
            }
          }
          b.circuit(
              ProviderConfig.Circuit.consecutive(
                  (int) numberOr(circuit, "failure-threshold", 5, cp), coolDown));
        } else {
          int window = (int) numberOr(circuit, "window-size", d.windowSize(), cp);
          b.circuit(
              new ProviderConfig.Circuit(
                  window,
                  (int) numberOr(circuit, "minimum-calls", Math.min(d.minimumCalls(), window), cp),
                  (int) numberOr(circuit, "failure-rate", d.failureRatePercent(), cp),
                  coolDown,
                  (int) numberOr(circuit, "half-open-probes", d.halfOpenProbes(), cp)));
        }
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw error(p, e.getMessage());
    }
  }

  /**
   * Applies {@code OPENAI_*} and {@code ANTHROPIC_*}: each variable set overrides the file's value
   * for the provider of that name, and creates the provider when the file has none.
   */
  private void applyEnvironment(LinkedHashMap<String, ProviderConfig> providers) {
    for (ProviderConfig.Kind kind :
        List.of(ProviderConfig.Kind.ANTHROPIC, ProviderConfig.Kind.OPENAI)) {
      String name = kind.name().toLowerCase(Locale.ROOT);
      String prefix = kind.name();
      String url = env(prefix + "_BASE_URL");
      String key = env(prefix + "_API_KEY");
      String model = env(prefix + "_MODEL");
      if (url == null && key == null && model == null) {
        continue;
      }
      ProviderConfig existing = providers.get(name);
      if (existing != null && existing.kind() != kind) {
        LOG.warn(
            "{}: provider '{}' is of kind {}, so {}_* environment variables are not applied to it",
            source,
            name,
            existing.kind(),
            prefix);
        continue;
      }
      ProviderConfig.Builder b =
          existing != null ? existing.toBuilder() : ProviderConfig.builder(name, kind);
      if (url != null) {
        try {
          b.baseUrl(url);
        } catch (IllegalArgumentException e) {
          throw new ModelConfigException(
              "environment",
              prefix + "_BASE_URL",
              "'" + url + "' is not a URL; set it to e.g. " + kind.defaultBaseUrl());
        }
      }
      if (key != null) {
        b.apiKey(key);
        // The key now comes from the environment, whatever the file said.
        secretsFromEnv.computeIfAbsent(name, k -> new TreeSet<>()).add(prefix + "_API_KEY");
      }
      if (model != null) {
        b.model(model);
      }
      try {
        providers.put(name, b.build());
      } catch (IllegalArgumentException e) {
        throw new ModelConfigException("environment", prefix + "_BASE_URL", e.getMessage());
      }
    }
  }

  /**
   * Refuses a project file's provider that would send a secret from the environment to a host the
   * secret is not bound to, or over plain HTTP off this machine (see {@link ProviderTrust}); warns
   * about plain HTTP off this machine in any file.
   */
  private void checkSecrets(ProviderConfig p) {
    Set<String> secrets = secretsFromEnv.getOrDefault(p.name(), Set.of());
    URI url = p.baseUrl();
    boolean plain = "http".equalsIgnoreCase(url.getScheme()) && !isLoopback(url.getHost());
    String where = url.getHost() + (url.getPort() >= 0 ? ":" + url.getPort() : "");
    if (trust != null && !secrets.isEmpty()) {
      for (String variable : secrets) {
        URI bound = boundUrl(variable);
        boolean allowed =
            trust.trustsHost(url)
                || (bound != null
                    && bound.getHost().equalsIgnoreCase(url.getHost())
                    && port(bound) == port(url)
                    && bound.getScheme().equalsIgnoreCase(url.getScheme()));
        if (!allowed) {
          throw error(
              "providers." + p.name() + ".base-url",
              "would send "
                  + variable
                  + " to "
                  + where
                  + (bound == null
                      ? ", a host you have not trusted with secrets"
                      : ", not to " + bound.getAuthority() + ", the host it was issued for")
                  + "; nothing was sent (fix: if you trust that host, add it to hosts: in "
                  + trust.where()
                  + " or to CFN_TRUST_HOSTS; or read the file and run cfn run --trust-providers)");
        }
      }
    }
    if (plain) {
      warn(
          "providers."
              + p.name()
              + ".base-url is plain http:// to "
              + where
              + ", which is not this machine (accepted; requests"
              + (p.apiKey() != null || !p.headers().isEmpty() ? " and their keys" : "")
              + " travel unencrypted): use https://");
    }
  }

  /**
   * Where a vendor's key variable may go: the user's {@code *_BASE_URL} when set in the
   * environment, else the vendor's public endpoint; null for other variables.
   */
  private URI boundUrl(String variable) {
    for (ProviderConfig.Kind kind : ProviderConfig.Kind.values()) {
      if (variable.equals(kind.name() + "_API_KEY")) {
        String userUrl = env(kind.name() + "_BASE_URL");
        if (userUrl != null) {
          try {
            URI u = URI.create(userUrl);
            if (u.getHost() != null && u.getScheme() != null) {
              return u;
            }
          } catch (IllegalArgumentException e) {
            // an invalid URL is reported where it is applied
          }
        }
        return kind.defaultBaseUrl();
      }
    }
    return null;
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost")
        || h.endsWith(".localhost")
        || h.startsWith("127.")
        || h.equals("[::1]")
        || h.equals("::1");
  }

  private void warn(String what) {
    String w = source + ": " + what;
    warnings.add(w);
    LOG.warn("{}", w);
  }

  private String env(String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v.strip();
  }

  private ModelRoute route(
      Object o, String key, boolean isDefault, Map<String, ProviderConfig> providers) {
    Map<String, Object> m = map(o, key);
    checkKeys(m, key + ".", isDefault ? DEFAULT_ROUTE : ROUTE);
    ModelTarget target = target(m, key, providers);
    String agent = m.get("agent") == null ? null : text(m.get("agent"), key + ".agent");
    String type = m.get("type") == null ? null : text(m.get("type"), key + ".type");
    if (!isDefault && agent == null && type == null) {
      throw error(
          key,
          "a route needs agent: (a glob over agent names, e.g. 'review-*') or type: (an agent"
              + " type); use default: for every other agent");
    }
    List<ModelTarget> fallbacks = new ArrayList<>();
    Object fb = m.get("fallbacks");
    if (fb != null) {
      if (!(fb instanceof List<?> list)) {
        throw error(key + ".fallbacks", "must be a list of {provider: NAME, model: MODEL}");
      }
      for (int i = 0; i < list.size(); i++) {
        String k = key + ".fallbacks[" + i + "]";
        Map<String, Object> f = map(list.get(i), k);
        checkKeys(f, k + ".", TARGET);
        fallbacks.add(target(f, k, providers));
      }
    }
    return new ModelRoute(agent, type, target, fallbacks);
  }

  private ModelTarget target(
      Map<String, Object> m, String key, Map<String, ProviderConfig> providers) {
    if (m.get("provider") == null) {
      throw error(key + ".provider", "missing; name one of the providers " + providers.keySet());
    }
    String provider = text(m.get("provider"), key + ".provider");
    if (!providers.containsKey(provider)) {
      throw error(
          key + ".provider",
          "unknown provider '"
              + provider
              + "'; declare it under providers: or use one of "
              + providers.keySet());
    }
    String model = m.get("model") == null ? null : text(m.get("model"), key + ".model");
    return new ModelTarget(provider, model);
  }

  // ---- values ----

  @SuppressWarnings("unchecked")
  private Map<String, Object> map(Object o, String key) {
    if (o instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (!(k instanceof String)) {
          throw error(key, "keys must be text, found " + k);
        }
      }
      return (Map<String, Object>) m;
    }
    throw error(key, "must be a mapping (key: value lines), found " + describe(o));
  }

  private void checkKeys(Map<String, Object> m, String prefix, Set<String> allowed) {
    for (String k : m.keySet()) {
      if (!allowed.contains(k)) {
        throw error(prefix + k, "unknown key; allowed here: " + new TreeSet<>(allowed));
      }
    }
  }

  private String text(Object o, String key) {
    if (o instanceof String s) {
      return substitute(s, key);
    }
    if (o instanceof Number || o instanceof Boolean) {
      return o.toString();
    }
    throw error(key, "must be a single value, found " + describe(o));
  }

  private String substitute(String s, String key) {
    Matcher m = REFERENCE.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      if (trust != null && !trust.mayExpand(m.group(1))) {
        throw error(
            key,
            "refers to the environment variable "
                + m.group(1)
                + ", which a project's providers file may not read (only *_API_KEY variables and"
                + " those you allow); fix: if you mean it, add "
                + m.group(1)
                + " to allow-env: in "
                + trust.where()
                + ", or read the file and run cfn run --trust-providers");
      }
      if (collecting != null) {
        collecting.add(m.group(1));
      }
      String value = env.get(m.group(1));
      if (value == null) {
        if (m.group(2) == null) {
          throw error(
              key,
              "refers to the environment variable "
                  + m.group(1)
                  + ", which is not set; export it, or write ${"
                  + m.group(1)
                  + ":-} to allow it to be empty");
        }
        value = m.group(2);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private long number(Object o, String key) {
    if (o instanceof Integer || o instanceof Long) {
      return ((Number) o).longValue();
    }
    String t = text(o, key).strip().replace("_", "");
    try {
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw error(key, "'" + t + "' is not a whole number; write e.g. 60");
    }
  }

  /** A byte count: a number, or a number with a unit (KiB, MiB, GiB; k, M, G are the same). */
  long size(Object o, String key) {
    if (o instanceof Integer || o instanceof Long) {
      return ((Number) o).longValue();
    }
    String t = text(o, key).strip().replace("_", "");
    Matcher m = SIZE.matcher(t);
    if (!m.matches()) {
      throw error(key, "'" + t + "' is not a size; write e.g. 16MiB, 512KiB or 1048576");
    }
    long unit =
        switch (m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT)) {
          case "k", "kb", "kib" -> 1024L;
          case "m", "mb", "mib" -> 1024L * 1024;
          case "g", "gb", "gib" -> 1024L * 1024 * 1024;
          default -> 1L;
        };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    } catch (ArithmeticException | NumberFormatException e) {
      throw error(key, "'" + t + "' is too large; write e.g. 16MiB");
    }
  }

  /** A provider's nested section ({@code retry}...) with its keys checked; null when absent. */
  private Map<String, Object> section(
      Map<String, Object> m, String p, String key, Set<String> allowed) {
    if (m.get(key) == null) {
      return null;
    }
    Map<String, Object> section = map(m.get(key), p + "." + key);
    checkKeys(section, p + "." + key + ".", allowed);
    return section;
  }

  /** A number of a section; the default when the key is absent (an empty value is an error). */
  private long numberOr(Map<String, Object> m, String k, long dflt, String prefix) {
    return number(m.getOrDefault(k, dflt), prefix + "." + k);
  }

  private Duration durationOr(Map<String, Object> m, String k, Duration dflt, String prefix) {
    return m.get(k) == null ? dflt : duration(m.get(k), prefix + "." + k);
  }

  Duration duration(Object o, String key) {
    if (o instanceof Integer || o instanceof Long) {
      return Duration.ofSeconds(((Number) o).longValue());
    }
    if (o instanceof Double d) {
      return Duration.ofMillis(Math.round(d * 1000));
    }
    String t = text(o, key).strip();
    Matcher m = SIMPLE_DURATION.matcher(t);
    if (m.matches()) {
      double amount = Double.parseDouble(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
      double millis =
          switch (unit) {
            case "ms" -> amount;
            case "m" -> amount * 60_000;
            case "h" -> amount * 3_600_000;
            default -> amount * 1000;
          };
      return Duration.ofMillis(Math.round(millis));
    }
    try {
      return Duration.parse(t);
    } catch (DateTimeParseException e) {
      throw error(key, "'" + t + "' is not a duration; write e.g. 500ms, 30s, 2m, 1h or PT30S");
    }
  }

  private static String describe(Object o) {
    if (o == null) {
      return "nothing";
    }
    if (o instanceof List<?>) {
      return "a list";
    }
    if (o instanceof Map<?, ?>) {
      return "a mapping";
    }
    return "'" + o + "'";
  }

  private ModelConfigException error(String key, String problem) {
    return new ModelConfigException(source, key.isEmpty() ? "(top level)" : key, problem);
  }
}
