package dev.cfn.ai.model;

import java.time.Duration;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps a protocol client with what every provider needs between it and the network: client-side
 * rate limits, a circuit breaker, and retries with exponential backoff and jitter.
 *
 * <p>Each attempt first reserves rate-limit capacity (waiting up to the configured bound), then
 * asks the circuit breaker, then calls the client. A failure is retried when {@link
 * ModelException#retryable()} says so, after {@code Retry-After} when the server sent one (a wait
 * longer than {@code retry.max-retry-after} fails the call at once, so that a route can fall back),
 * otherwise after {@code initial-backoff * 2^(attempt-1)}, capped at {@code max-backoff}, of which
 * a random half is kept (jitter). A streamed call is retried only while nothing has reached the
 * listener; once text or a tool call was delivered, a failure ends the call.
 *
 * <p>A request with a {@link ChatRequest#timeout()} has one deadline for the whole call: each
 * attempt is sent with the time left (the transport cuts the attempt in flight when it runs out), a
 * rate-limit wait or a backoff that would end past the deadline is not waited, and the call fails
 * with the last failure instead of retrying.
 *
 * <p>The circuit breaker is asked once per call and told one outcome per call: a call that
 * succeeded, on any attempt, is a success (a failure a retry fixed does not count); a call that
 * failed with a retryable failure after its last attempt is a failure; any answer from the server,
 * including 400 and 401, counts as the provider being up; a call the caller cancelled or whose
 * deadline ran out says nothing about the provider. Retries stop early when other calls opened the
 * circuit meanwhile.
 *
 * <p>A connection that failed before any byte of an answer ({@link ModelException#noResponse()}: a
 * pooled keep-alive connection the server had closed, a reset, EOF, GOAWAY) is resent at once,
 * without backoff and without using up an attempt, at most {@value #MAX_STALE_RETRIES} times per
 * call: the JDK client drops a failed connection from its pool, so the resend goes out on another
 * pooled connection or a new one (the JDK offers no way to ask for a new one explicitly).
 */
final class ResilientProvider implements ModelProvider {
  private static final Logger LOG = LoggerFactory.getLogger(ResilientProvider.class);
  private static final int CHARS_PER_TOKEN = 4;

  /**
   * How many times one call is resent at once, without backoff and without using up a retry, after
   * its connection failed before any response byte (a stale pooled connection).
   */
  static final int MAX_STALE_RETRIES = 2;

  private final ModelProvider delegate;
  private final ProviderConfig config;
  private final TimeSource time;
  private final RandomGenerator random;
  private final CircuitBreaker breaker;
  private final RateLimiter limiter;

  ResilientProvider(
      ModelProvider delegate, ProviderConfig config, TimeSource time, RandomGenerator random) {
    this.delegate = delegate;
    this.config = config;
    this.time = time;
    this.random = random;
    this.breaker = new CircuitBreaker(config.name(), config.circuit(), time::nanoTime);
    breaker.addListener(
        (b, from, to, reason) ->
            LOG.warn("provider '{}': circuit {} -> {}: {}", b.name(), from, to, reason));
    this.limiter = new RateLimiter(config.name(), config.rateLimit(), time::nanoTime);
  }

  /** Creates the protocol client a config asks for, wrapped in resilience. */
  static ResilientProvider of(ProviderConfig config, TimeSource time, RandomGenerator random) {
    ModelProvider client =
        switch (config.kind()) {
          case OPENAI -> new OpenAiProvider(config, time.clock());
          case ANTHROPIC -> new AnthropicProvider(config, time.clock());
        };
    return new ResilientProvider(client, config, time, random);
  }

  CircuitBreaker circuitBreaker() {
    return breaker;
  }

  RateLimiter rateLimiter() {
    return limiter;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public ChatResponse chat(ChatRequest request) {
    return execute(request, null);
  }

  @Override
  public ChatResponse stream(ChatRequest request, StreamListener listener) {
    return execute(request, java.util.Objects.requireNonNull(listener, "listener"));
  }

  private ChatResponse execute(ChatRequest request, StreamListener listener) {
    long estimate = estimateTokens(request);
    int maxAttempts = config.retry().maxAttempts();
    Duration limit = request.timeout();
    long deadline = limit == null ? 0 : time.nanoTime() + limit.toNanos();
    if (!breaker.tryAcquire()) {
      throw circuitOpen();
    }
    // The breaker hears one outcome per call, whatever the attempts: a failure a retry fixed is a
    // success. Every path out of the loop reports exactly once.
    int staleRetries = 0;
    for (int attempt = 1; ; attempt++) {
      Duration wait = limiter.reserve(estimate);
      if (limit != null && wait.toNanos() >= deadline - time.nanoTime()) {
        limiter.settle(estimate, 0);
        breaker.onAbandoned();
        throw deadlinePassed(limit, "waiting " + wait.toMillis() + " ms for rate-limit capacity");
      }
      try {
        sleep(wait);
      } catch (ModelException e) {
        limiter.settle(estimate, 0);
        breaker.onAbandoned();
        throw e;
      }
      ChatRequest attemptRequest = request;
      if (limit != null) {
        long left = deadline - time.nanoTime();
        if (left <= 0) {
          limiter.settle(estimate, 0);
          breaker.onAbandoned();
          throw deadlinePassed(limit, "before attempt " + attempt);
        }
        attemptRequest = request.withTimeout(Duration.ofNanos(left));
      }
      DeliveryTracker tracker = listener == null ? null : new DeliveryTracker(listener);
      try {
        ChatResponse response =
            tracker == null
                ? delegate.chat(attemptRequest)
                : delegate.stream(attemptRequest, tracker);
        breaker.onSuccess();
        limiter.settle(estimate, response.usage().totalTokens());
        return response;
      } catch (ModelException e) {
        boolean delivered = tracker != null && tracker.delivered();
        if (!delivered) {
          limiter.settle(estimate, 0);
        }
        boolean cutByDeadline =
            limit != null
                && e.kind() == ModelException.Kind.TIMEOUT
                && deadline - time.nanoTime() <= 0;
        if (e.kind() == ModelException.Kind.CANCELLED || cutByDeadline) {
          // The caller gave up, or its deadline cut the attempt: says nothing about the provider.
          breaker.onAbandoned();
          if (!e.retryable() || delivered || attempt >= maxAttempts) {
            throw giveUp(e, attempt, delivered, false);
          }
          throw notRetriedForDeadline(e, limit, attempt);
        }
        if (!e.retryable()) {
          breaker.onSuccess(); // the provider answered, with an error that is the caller's
          throw e;
        }
        if (!delivered && e.noResponse() && staleRetries < MAX_STALE_RETRIES) {
          // A pooled connection the server had closed (or reset) before any byte of an answer:
          // says nothing about the provider. The client has dropped that connection from its
          // pool, so the same attempt goes out again at once, on another connection.
          staleRetries++;
          attempt--;
          LOG.debug(
              "provider {}: connection failed before any response byte; resending at once: {}",
              name(),
              e.getMessage());
          continue;
        }
        if (delivered || attempt >= maxAttempts) {
          breaker.onFailure();
          throw giveUp(e, attempt, delivered, false);
        }
        Duration delay = backoff(attempt, e);
        if (delay == null) {
          breaker.onFailure();
          throw giveUp(e, attempt, false, true);
        }
        if (limit != null && delay.toNanos() >= deadline - time.nanoTime()) {
          breaker.onFailure(); // the provider failed, and no retry fits in the time left
          throw notRetriedForDeadline(e, limit, attempt);
        }
        if (breaker.state() == CircuitBreaker.State.OPEN) {
          // Other calls opened the circuit meanwhile: do not keep sending to a paused provider.
          breaker.onFailure();
          throw giveUp(e, attempt, false, false);
        }
        if (LOG.isInfoEnabled()) {
          LOG.info(
              "provider {} attempt {}/{} failed ({} {}); retrying in {} ms",
              name(),
              attempt,
              maxAttempts,
              e.kind(),
              e.status(),
              delay.toMillis());
        }
        try {
          sleep(delay);
        } catch (ModelException interrupted) {
          breaker.onAbandoned();
          throw interrupted;
        }
      } catch (RuntimeException e) {
        // Not the provider's answer (a listener threw, say): release a half-open probe without
        // taking it as proof that the provider is back.
        limiter.settle(estimate, 0);
        breaker.onAbandoned();
        throw e;
      }
    }
  }

  private static ModelException notRetriedForDeadline(
      ModelException e, Duration limit, int attempt) {
    return new ModelException(
        e.kind(),
        e.provider(),
        e.status(),
        e.retryAfter().orElse(null),
        e.getMessage()
            + " (not retried: the call's time limit of "
            + limit.toMillis()
            + " ms would pass before attempt "
            + (attempt + 1)
            + ")",
        e);
  }

  private ModelException circuitOpen() {
    Duration left = breaker.remainingCoolDown();
    return new ModelException(
        ModelException.Kind.CIRCUIT_OPEN,
        name(),
        0,
        left,
        "provider '"
            + name()
            + "' is paused: "
            + breaker.openReason()
            + " (circuit open, next probe in about "
            + left.toMillis()
            + " ms); "
            + ModelException.advice(ModelException.Kind.CIRCUIT_OPEN, name()),
        null);
  }

  /** The call's time limit ran out outside an attempt: a {@link ModelException.Kind#TIMEOUT}. */
  private ModelException deadlinePassed(Duration limit, String when) {
    return new ModelException(
        ModelException.Kind.TIMEOUT,
        name(),
        0,
        null,
        "provider '"
            + name()
            + "': the call's time limit of "
            + limit.toMillis()
            + " ms ran out "
            + when
            + " (fix: give the task more time, e.g. cfn run --timeout, lifecycle.timeout_ms or the"
            + " budget's maxWallTime)",
        null);
  }

  /** The wait before the next attempt, or null when the server asked for more than we honour. */
  Duration backoff(int attempt, ModelException e) {
    if (e.retryAfter().isPresent()) {
      Duration after = e.retryAfter().get();
      if (after.compareTo(config.retry().maxRetryAfter()) > 0) {
        return null;
      }
      // A little jitter on top, so that callers told the same instant do not return together.
      long extra = (long) (after.toNanos() * 0.1 * random.nextDouble());
      return after.plusNanos(extra);
    }
    long initial = config.retry().initialBackoff().toNanos();
    long cap = config.retry().maxBackoff().toNanos();
    long base = initial;
    for (int i = 1; i < attempt && base < cap; i++) {
      base = base * 2;
    }
    base = Math.min(base, cap);
    long half = base / 2;
    return Duration.ofNanos(half + (long) (random.nextDouble() * (base - half)));
  }

  private ModelException giveUp(
      ModelException e, int attempts, boolean delivered, boolean waitTooLong) {
    String why;
    if (!e.retryable()) {
      return e; // it would fail the same way again; its message says what to fix
    } else if (delivered) {
      why = " (not retried: part of the answer was already streamed)";
    } else if (waitTooLong) {
      why =
          " (not retried: the server asked to wait longer than retry.max-retry-after "
              + config.retry().maxRetryAfter()
              + ")";
    } else if (attempts > 1) {
      why = " (gave up after " + attempts + " attempts)";
    } else {
      return e;
    }
    return new ModelException(
        e.kind(), e.provider(), e.status(), e.retryAfter().orElse(null), e.getMessage() + why, e);
  }

  private void sleep(Duration d) {
    if (d.isZero() || d.isNegative()) {
      return;
    }
    try {
      time.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ModelException(
          ModelException.Kind.CANCELLED,
          name(),
          0,
          null,
          "provider '" + name() + "': interrupted while waiting to send a call",
          e);
    }
  }

  /**
   * Estimates a call's tokens for the rate limiter before the provider counts them: about four
   * characters per input token, plus the output tokens the call may generate.
   */
  long estimateTokens(ChatRequest request) {
    long chars = request.system() == null ? 0 : request.system().length();
    for (ChatMessage m : request.messages()) {
      chars += 16;
      chars +=
          switch (m) {
            case ChatMessage.User u -> u.text().length();
            case ChatMessage.Assistant a ->
                a.text().length()
                    + a.toolCalls().stream()
                        .mapToLong(c -> c.name().length() + c.arguments().toString().length())
                        .sum();
            case ChatMessage.ToolResult r -> r.content().length();
          };
    }
    for (ToolSpec t : request.tools()) {
      chars += t.name().length() + t.description().length() + t.inputSchema().toString().length();
    }
    long output;
    if (request.maxTokens() != null) {
      output = request.maxTokens();
    } else if (config.maxTokens() > 0) {
      output = config.maxTokens();
    } else if (config.kind() == ProviderConfig.Kind.ANTHROPIC) {
      output = ProviderConfig.DEFAULT_ANTHROPIC_MAX_TOKENS;
    } else {
      output = 0;
    }
    return (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN + output;
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public String toString() {
    return "ResilientProvider[" + delegate + ", " + breaker + "]";
  }

  /** Passes events on and remembers whether any reached the caller's listener. */
  static final class DeliveryTracker implements StreamListener {
    private final StreamListener target;
    private volatile boolean delivered;

    DeliveryTracker(StreamListener target) {
      this.target = target;
    }

    boolean delivered() {
      return delivered;
    }

    @Override
    public void onText(String delta) {
      delivered = true;
      target.onText(delta);
    }

    @Override
    public void onToolCallStart(String id, String name) {
      delivered = true;
      target.onToolCallStart(id, name);
    }

    @Override
    public void onToolCallArguments(String id, String fragment) {
      delivered = true;
      target.onToolCallArguments(id, fragment);
    }

    @Override
    public void onToolCall(ToolCall call) {
      delivered = true;
      target.onToolCall(call);
    }
  }
}
