package dev.cfn.ai.model;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach one model provider and how gently to treat it: one entry of the {@code providers:}
 * map of a {@link ModelConfig} file, or a provider made from the environment.
 *
 * <pre>{@code
 * ProviderConfig local = ProviderConfig.builder("ollama", ProviderConfig.Kind.OPENAI)
 *     .baseUrl("http://localhost:11434/v1")
 *     .model("qwen3:8b")
 *     .build();
 * ModelProvider provider = ModelProvider.create(local);
 * }</pre>
 *
 * <p>{@link #toString()} never shows the API key nor header values.
 *
 * @param name the provider's name, as routes and agent frontmatter refer to it
 * @param kind the protocol it speaks
 * @param baseUrl for {@link Kind#OPENAI} the URL that {@code /chat/completions} is appended to
 *     (e.g. {@code https://api.openai.com/v1}); for {@link Kind#ANTHROPIC} the URL that {@code
 *     /v1/messages} is appended to (e.g. {@code https://api.anthropic.com})
 * @param apiKey the API key, or null for local servers that need none
 * @param model the default model, used when neither the request nor the route names one; may be
 *     null
 * @param modelAliases short names an agent may use ({@code sonnet}) mapped to model names; for
 *     {@link Kind#ANTHROPIC} they come on top of {@link #CLAUDE_ALIASES}
 * @param headers extra HTTP headers sent with every request (e.g. {@code HTTP-Referer} for
 *     OpenRouter, {@code anthropic-beta})
 * @param maxTokens the {@code max_tokens} sent when a request sets none; 0 means: OpenAI-compatible
 *     servers get none, Anthropic gets {@value #DEFAULT_ANTHROPIC_MAX_TOKENS}
 * @param requestTimeout a non-streamed call's whole duration; for a streamed call the wait for the
 *     response headers and for each next piece of the stream
 * @param connectTimeout the wait for a TCP (and TLS) connection
 * @param streamTimeout the longest one streamed attempt may take as a whole, however steadily the
 *     server sends (keep-alive pings and endless text included); default 10 minutes
 * @param maxResponseBytes the largest response body read, streamed or not; a larger one cancels the
 *     call with {@link ModelException.Kind#RESPONSE_TOO_LARGE}; default {@value
 *     #DEFAULT_MAX_RESPONSE_BYTES} (16 MiB)
 * @param maxEventBytes the largest line, and the largest server-sent event's data, read; default
 *     {@value #DEFAULT_MAX_EVENT_BYTES} (1 MiB)
 * @param retry how failed calls are retried
 * @param rateLimit the client-side rate limits
 * @param circuit the circuit breaker's settings
 */
public record ProviderConfig(
    String name,
    Kind kind,
    URI baseUrl,
    String apiKey,
    String model,
    Map<String, String> modelAliases,
    Map<String, String> headers,
    int maxTokens,
    Duration requestTimeout,
    Duration connectTimeout,
    Duration streamTimeout,
    long maxResponseBytes,
    int maxEventBytes,
    Retry retry,
    RateLimit rateLimit,
    Circuit circuit) {

  /** The default {@link #maxResponseBytes()}: 16 MiB. */
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 16L * 1024 * 1024;

  /** The default {@link #maxEventBytes()}: 1 MiB. */
  public static final int DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

  /**
   * Claude Code's model aliases and the models an {@link Kind#ANTHROPIC} provider sends for them
   * unless its {@code models:} maps them otherwise: {@code sonnet} is {@code claude-sonnet-4-5},
   * {@code opus} is {@code claude-opus-4-1}, {@code haiku} is {@code claude-haiku-4-5}. Chosen in
   * November 2026 (current models change: override them with {@code models: {sonnet: ...}}). Other
   * kinds have no built-in aliases: {@link ModelRouter#resolve} refuses to send these names to them
   * unmapped.
   */
  public static final Map<String, String> CLAUDE_ALIASES =
      Map.of(
          "sonnet", "claude-sonnet-4-5",
          "opus", "claude-opus-4-1",
          "haiku", "claude-haiku-4-5");

  /** The {@code max_tokens} sent to Anthropic when neither the request nor the config sets one. */
  public static final int DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

  /** The protocol a provider speaks. */
  public enum Kind {
    /**
     * OpenAI Chat Completions: OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter, Z.ai, Kimi.
     */
    OPENAI,
    /** Anthropic Messages: Anthropic, and servers compatible with it. */
    ANTHROPIC;

    /**
     * Parses {@code openai} or {@code anthropic}, case-insensitively.
     *
     * @param text the text
     * @return the kind
     * @throws IllegalArgumentException for anything else
     */
    public static Kind parse(String text) {
      return switch (text.trim().toLowerCase(Locale.ROOT)) {
        case "openai" -> OPENAI;
        case "anthropic" -> ANTHROPIC;
        default ->
            throw new IllegalArgumentException(
                "unknown provider kind '" + text + "': use openai or anthropic");
      };
    }

    /**
     * Returns the public endpoint of the protocol's original vendor.
     *
     * @return the default base URL
     */
    public URI defaultBaseUrl() {
      return URI.create(this == OPENAI ? "https://api.openai.com/v1" : "https://api.anthropic.com");
    }
  }

  /**
   * How failed calls are retried: exponential backoff with jitter, honouring {@code Retry-After},
   * on 429, 529, 500, 502, 503, 504, timeouts and connection errors; never on 400, 401, 403, 404.
   *
   * @param maxAttempts the most attempts per call, the first included (1 disables retries)
   * @param initialBackoff the wait before the second attempt; it doubles each time
   * @param maxBackoff the longest wait between attempts (without {@code Retry-After})
   * @param maxRetryAfter the longest {@code Retry-After} honoured; a longer one fails the call at
   *     once, so that a route can fall back instead of waiting
   */
  public record Retry(
      int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter) {
    /** Four attempts, 500 ms doubling to 20 s, {@code Retry-After} honoured up to 60 s. */
    public static final Retry DEFAULT =
        new Retry(4, Duration.ofMillis(500), Duration.ofSeconds(20), Duration.ofSeconds(60));

    public Retry {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("retry.max-attempts must be >= 1, got " + maxAttempts);
      }
      requirePositive(initialBackoff, "retry.initial-backoff");
      requirePositive(maxBackoff, "retry.max-backoff");
      requirePositive(maxRetryAfter, "retry.max-retry-after");
    }
  }

  /**
   * Client-side rate limits, so that many agents sharing a provider stay under its quota instead of
   * collecting 429s. Each is a token bucket that starts full and refills continuously.
   *
   * @param requestsPerMinute the most requests per minute; 0 for no limit
   * @param tokensPerMinute the most tokens (input plus output) per minute; 0 for no limit
   * @param maxWait the longest a call waits for capacity before it fails with {@link
   *     ModelException.Kind#RATE_LIMITED}
   */
  public record RateLimit(int requestsPerMinute, long tokensPerMinute, Duration maxWait) {
    /** No limits. */
    public static final RateLimit NONE = new RateLimit(0, 0, Duration.ofSeconds(60));

    public RateLimit {
      if (requestsPerMinute < 0 || tokensPerMinute < 0) {
        throw new IllegalArgumentException(
            "rate-limit values must be >= 0 (0 means no limit), got requests-per-minute="
                + requestsPerMinute
                + " tokens-per-minute="
                + tokensPerMinute);
      }
      Objects.requireNonNull(maxWait, "rate-limit.max-wait");
      if (maxWait.isNegative()) {
        throw new IllegalArgumentException("rate-limit.max-wait must be >= 0, got " + maxWait);
      }
    }
  }

  /**
   * The circuit breaker's settings, as resilience4j's count-based breaker: the outcomes of the last
   * {@code windowSize} calls are kept, and once at least {@code minimumCalls} of them are in the
   * window the circuit opens when {@code failureRatePercent} percent or more of them failed. Open,
   * calls fail at once for {@code coolDown}; then {@code halfOpenProbes} calls are let through as
   * probes, and the circuit closes when all of them succeed (one failed probe opens it again).
   *
   * <p>A call is one outcome however many attempts it took: a failure a retry fixed does not count.
   * Only failures that say the provider is unwell count (network, timeout, 5xx, 429, overload); any
   * answer, a 400 or 401 included, counts as a success.
   *
   * <p>In a providers file: {@code circuit-breaker: {window-size: 100, minimum-calls: 20,
   * failure-rate: 50, cool-down: 30s, half-open-probes: 3}}. The older {@code failure-threshold: N}
   * means N consecutive failed calls ({@link #consecutive(int, Duration)}).
   *
   * @param windowSize how many recent calls the failure rate is computed over, at least 1
   * @param minimumCalls how many calls the window must hold before the rate can open the circuit, 1
   *     to {@code windowSize}
   * @param failureRatePercent the failure rate (1 to 100 percent) at or above which it opens
   * @param coolDown how long the circuit stays open before probes are let through
   * @param halfOpenProbes how many probe calls a half-open circuit lets through, at least 1
   */
  public record Circuit(
      int windowSize,
      int minimumCalls,
      int failureRatePercent,
      Duration coolDown,
      int halfOpenProbes) {
    /**
     * A window of 100 calls, at least 20 of them, opens at 50 % failures, probes after 30 s with 3
     * calls.
     */
    public static final Circuit DEFAULT = new Circuit(100, 20, 50, Duration.ofSeconds(30), 3);

    public Circuit {
      if (windowSize < 1) {
        throw new IllegalArgumentException(
            "circuit-breaker.window-size must be >= 1, got " + windowSize);
      }
      if (minimumCalls < 1 || minimumCalls > windowSize) {
        throw new IllegalArgumentException(
            "circuit-breaker.minimum-calls must be 1 to window-size ("
                + windowSize
                + "), got "
                + minimumCalls);
      }
      if (failureRatePercent < 1 || failureRatePercent > 100) {
        throw new IllegalArgumentException(
            "circuit-breaker.failure-rate must be 1 to 100 (percent), got " + failureRatePercent);
      }
      requirePositive(coolDown, "circuit-breaker.cool-down");
      if (halfOpenProbes < 1) {
        throw new IllegalArgumentException(
            "circuit-breaker.half-open-probes must be >= 1, got " + halfOpenProbes);
      }
    }

    /**
     * The same as {@link #consecutive(int, Duration)}: opens after {@code failureThreshold}
     * consecutive failed calls.
     */
    public Circuit(int failureThreshold, Duration coolDown) {
      this(failureThreshold, failureThreshold, 100, coolDown, 1);
    }

    /**
     * A breaker that opens after {@code failures} consecutive failed calls (a window of that many
     * calls, all of which must have failed) and closes after one successful probe.
     *
     * @param failures consecutive failed calls that open the circuit, at least 1
     * @param coolDown how long it stays open before the probe
     * @return the settings
     */
    public static Circuit consecutive(int failures, Duration coolDown) {
      if (failures < 1) {
        throw new IllegalArgumentException(
            "circuit-breaker.failure-threshold must be >= 1, got " + failures);
      }
      return new Circuit(failures, coolDown);
    }
  }

  public ProviderConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(baseUrl, "baseUrl");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a provider's name cannot be blank");
    }
    String scheme = baseUrl.getScheme();
    if (scheme == null
        || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
        || baseUrl.getHost() == null) {
      throw new IllegalArgumentException(
          "base-url of provider '"
              + name
              + "' must be an absolute http(s) URL such as "
              + kind.defaultBaseUrl()
              + ", got '"
              + baseUrl
              + "'");
    }
    apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
    model = model == null || model.isBlank() ? null : model;
    modelAliases = Map.copyOf(modelAliases == null ? Map.of() : modelAliases);
    headers = Map.copyOf(headers == null ? Map.of() : headers);
    for (var h : headers.entrySet()) {
      checkHeader(name, h.getKey(), h.getValue());
    }
    if (maxTokens < 0) {
      throw new IllegalArgumentException("max-tokens must be >= 0, got " + maxTokens);
    }
    requirePositive(requestTimeout, "request-timeout");
    requirePositive(connectTimeout, "connect-timeout");
    requirePositive(streamTimeout, "stream-timeout");
    if (maxResponseBytes < 1024) {
      throw new IllegalArgumentException(
          "max-response-bytes must be at least 1024, got " + maxResponseBytes);
    }
    if (maxEventBytes < 256 || maxEventBytes > maxResponseBytes) {
      throw new IllegalArgumentException(
          "max-event-bytes must be at least 256 and at most max-response-bytes, got "
              + maxEventBytes);
    }
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(rateLimit, "rateLimit");
    Objects.requireNonNull(circuit, "circuit");
  }

  private static final java.util.Set<String> RESTRICTED_HEADERS =
      java.util.Set.of("connection", "content-length", "expect", "host", "upgrade");

  /**
   * Refuses a header the HTTP client would refuse later, naming the header but never quoting its
   * value (which may be a secret; the JDK's own message would quote it).
   */
  private static void checkHeader(String provider, String header, String value) {
    if (header.isEmpty() || !header.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
      throw new IllegalArgumentException(
          "headers of provider '"
              + provider
              + "': '"
              + header.replaceAll("[^\\x21-\\x7e]", "?")
              + "' is not a valid header name (fix: letters, digits and - only)");
    }
    if (RESTRICTED_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException(
          "headers of provider '"
              + provider
              + "': "
              + header
              + " is set by the HTTP client and cannot be configured (fix: remove it)");
    }
    if (value == null || value.chars().anyMatch(c -> (c < 32 && c != '\t') || c == 127)) {
      throw new IllegalArgumentException(
          "headers of provider '"
              + provider
              + "': the value of "
              + header
              + " is missing or contains a line break or control character (fix: one line of"
              + " text; the value is not shown since it may be a secret)");
    }
  }

  private static void requirePositive(Duration d, String key) {
    Objects.requireNonNull(d, key);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " must be positive, got " + d);
    }
  }

  /**
   * Starts a config with the defaults: the kind's public base URL, no key, 120 s request timeout,
   * 10 s connect timeout, {@link Retry#DEFAULT}, {@link RateLimit#NONE}, {@link Circuit#DEFAULT}.
   *
   * @param name the provider's name
   * @param kind the protocol
   * @return a builder
   */
  public static Builder builder(String name, Kind kind) {
    return new Builder(name, kind);
  }

  /**
   * Returns a builder holding this config, to change a setting.
   *
   * @return a builder initialised from this config
   */
  public Builder toBuilder() {
    Builder b = new Builder(name, kind);
    b.baseUrl = baseUrl;
    b.apiKey = apiKey;
    b.model = model;
    b.modelAliases.putAll(modelAliases);
    b.headers.putAll(headers);
    b.maxTokens = maxTokens;
    b.requestTimeout = requestTimeout;
    b.connectTimeout = connectTimeout;
    b.streamTimeout = streamTimeout;
    b.maxResponseBytes = maxResponseBytes;
    b.maxEventBytes = maxEventBytes;
    b.retry = retry;
    b.rateLimit = rateLimit;
    b.circuit = circuit;
    return b;
  }

  /**
   * Resolves a model name an agent or a route gave: an alias ({@code models:}, then for {@link
   * Kind#ANTHROPIC} {@link #CLAUDE_ALIASES}) becomes its model, null becomes the default model
   * (itself resolved the same way, so {@code model: sonnet} works too).
   *
   * @param requested the name, or null
   * @return the model to send, or null when neither was given
   */
  public String resolveModel(String requested) {
    String name = requested == null || requested.isBlank() ? model : requested;
    if (name == null) {
      return null;
    }
    String aliased = modelAliases.get(name);
    if (aliased != null) {
      return aliased;
    }
    return kind == Kind.ANTHROPIC ? CLAUDE_ALIASES.getOrDefault(name, name) : name;
  }

  /** Shows every setting except the API key and header values, which may be secrets. */
  @Override
  public String toString() {
    return "ProviderConfig[name="
        + name
        + ", kind="
        + kind.name().toLowerCase(Locale.ROOT)
        + ", baseUrl="
        + baseUrl
        + ", apiKey="
        + (apiKey == null ? "none" : KeyRedactor.MASK)
        + ", model="
        + model
        + ", modelAliases="
        + modelAliases
        + ", headers="
        + headers.keySet()
        + ", maxTokens="
        + maxTokens
        + ", requestTimeout="
        + requestTimeout
        + ", connectTimeout="
        + connectTimeout
        + ", streamTimeout="
        + streamTimeout
        + ", maxResponseBytes="
        + maxResponseBytes
        + ", maxEventBytes="
        + maxEventBytes
        + ", retry="
        + retry
        + ", rateLimit="
        + rateLimit
        + ", circuit="
        + circuit
        + "]";
  }

  /** Builds a {@link ProviderConfig}. */
  public static final class Builder {
    private final String name;
    private final Kind kind;
    private URI baseUrl;
    private String apiKey;
    private String model;
    private final Map<String, String> modelAliases = new LinkedHashMap<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private int maxTokens;
    private Duration requestTimeout = Duration.ofSeconds(120);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration streamTimeout = Duration.ofMinutes(10);
    private long maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
    private int maxEventBytes = DEFAULT_MAX_EVENT_BYTES;
    private Retry retry = Retry.DEFAULT;
    private RateLimit rateLimit = RateLimit.NONE;
    private Circuit circuit = Circuit.DEFAULT;

    private Builder(String name, Kind kind) {
      this.name = Objects.requireNonNull(name, "name");
      this.kind = Objects.requireNonNull(kind, "kind");
      this.baseUrl = kind.defaultBaseUrl();
    }

    /**
     * Sets the base URL (see {@link ProviderConfig#baseUrl()}).
     *
     * @param url the URL; a trailing slash is ignored
     * @return this builder
     */
    public Builder baseUrl(String url) {
      String u = url.strip();
      while (u.endsWith("/")) {
        u = u.substring(0, u.length() - 1);
      }
      this.baseUrl = URI.create(u);
      return this;
    }

    /**
     * Sets the API key.
     *
     * @param apiKey the key, or null for none
     * @return this builder
     */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /**
     * Sets the default model.
     *
     * @param model the model, or null
     * @return this builder
     */
    public Builder model(String model) {
      this.model = model;
      return this;
    }

    /**
     * Adds a model alias.
     *
     * @param alias the short name
     * @param target the model it stands for
     * @return this builder
     */
    public Builder modelAlias(String alias, String target) {
      modelAliases.put(alias, target);
      return this;
    }

    /**
     * Adds a header sent with every request.
     *
     * @param header the header's name
     * @param value its value
     * @return this builder
     */
    public Builder header(String header, String value) {
      headers.put(header, value);
      return this;
    }

    /**
     * Sets the default {@code max_tokens}.
     *
     * @param maxTokens the default, or 0 for the protocol's default
     * @return this builder
     */
    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    /**
     * Sets the request timeout (see {@link ProviderConfig#requestTimeout()}).
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    /**
     * Sets the connect timeout.
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * Sets the stream timeout (see {@link ProviderConfig#streamTimeout()}).
     *
     * @param timeout the timeout
     * @return this builder
     */
    public Builder streamTimeout(Duration timeout) {
      this.streamTimeout = timeout;
      return this;
    }

    /**
     * Sets the largest response body read (see {@link ProviderConfig#maxResponseBytes()}).
     *
     * @param bytes at least 1024
     * @return this builder
     */
    public Builder maxResponseBytes(long bytes) {
      this.maxResponseBytes = bytes;
      return this;
    }

    /**
     * Sets the largest line or event read (see {@link ProviderConfig#maxEventBytes()}).
     *
     * @param bytes at least 256, at most the response cap
     * @return this builder
     */
    public Builder maxEventBytes(int bytes) {
      this.maxEventBytes = bytes;
      return this;
    }

    /**
     * Sets the retry policy.
     *
     * @param retry the policy
     * @return this builder
     */
    public Builder retry(Retry retry) {
      this.retry = retry;
      return this;
    }

    /**
     * Sets the client-side rate limits.
     *
     * @param rateLimit the limits
     * @return this builder
     */
    public Builder rateLimit(RateLimit rateLimit) {
      this.rateLimit = rateLimit;
      return this;
    }

    /**
     * Sets the circuit breaker's settings.
     *
     * @param circuit the settings
     * @return this builder
     */
    public Builder circuit(Circuit circuit) {
      this.circuit = circuit;
      return this;
    }

    /**
     * Builds the config.
     *
     * @return the config
     * @throws IllegalArgumentException when a setting is out of range; the message names it
     */
    public ProviderConfig build() {
      return new ProviderConfig(
          name,
          kind,
          baseUrl,
          apiKey,
          model,
          modelAliases,
          headers,
          maxTokens,
          requestTimeout,
          connectTimeout,
          streamTimeout,
          maxResponseBytes,
          maxEventBytes,
          retry,
          rateLimit,
          circuit);
    }
  }
}
