package dev.cfn.ai.model;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A model call failed. The {@link Kind} says what failed in terms a caller can act on, whatever the
 * protocol; {@link #retryable()} says whether trying again (later, or on a fallback provider) may
 * succeed.
 *
 * <p>The message says what happened and what to do, and never contains an API key: error bodies are
 * redacted before they are quoted.
 */
public final class ModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of failure, independent of the protocol. */
  public enum Kind {
    /** 401 or 403: the API key is missing, wrong or lacks permission. Not retryable. */
    AUTH,
    /** 400, 404, 422 and other 4xx: the request, or the model name, is wrong. Not retryable. */
    BAD_REQUEST,
    /** 429, or the client-side rate limit could not grant capacity in time. Retryable. */
    RATE_LIMITED,
    /** 529 or an {@code overloaded_error}: the provider is overloaded. Retryable. */
    OVERLOADED,
    /** 5xx: the provider failed. Retryable for 500, 502, 503, 504. */
    SERVER,
    /**
     * No answer within the request timeout, the stream timeout, or the time the caller had left.
     * Retryable (a retry is not attempted once the caller's deadline has passed).
     */
    TIMEOUT,
    /** The connection failed or was reset. Retryable. */
    NETWORK,
    /** The provider's circuit breaker is open after repeated failures. Retryable later. */
    CIRCUIT_OPEN,
    /** A streamed answer broke off part way. Retryable only if nothing was delivered yet. */
    STREAM_BROKEN,
    /**
     * The answer exceeded a size cap ({@code max-response-bytes}, {@code max-event-bytes}); the
     * transfer was cancelled. Not retryable: it would exceed it again.
     */
    RESPONSE_TOO_LARGE,
    /**
     * The caller gave up: its thread was interrupted or the call was cancelled. The provider is not
     * at fault, so it does not count against the circuit breaker. Not retryable: the caller no
     * longer waits for an answer.
     */
    CANCELLED
  }

  private final Kind kind;
  private final String provider;
  private final int status;
  private final Duration retryAfter;
  private final boolean noResponse;

  /**
   * Creates an exception.
   *
   * @param kind what failed
   * @param provider the name of the provider that failed
   * @param status the HTTP status, or 0 when there was none
   * @param retryAfter how long the server asked to wait, or null
   * @param message what happened and what to do; must not contain a secret
   * @param cause the underlying exception, or null
   */
  public ModelException(
      Kind kind,
      String provider,
      int status,
      Duration retryAfter,
      String message,
      Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
    this.provider = Objects.requireNonNull(provider, "provider");
    this.status = status;
    this.retryAfter = retryAfter;
    this.noResponse = false;
  }

  /** A copy of {@code e} that says the connection failed before any byte of an answer. */
  private ModelException(ModelException e) {
    super(e.getMessage(), e.getCause());
    this.kind = e.kind;
    this.provider = e.provider;
    this.status = e.status;
    this.retryAfter = e.retryAfter;
    this.noResponse = true;
  }

  /**
   * Marks a {@link Kind#NETWORK} failure as one where the connection failed before any byte of an
   * answer arrived (closed, reset, EOF, GOAWAY), on a connection that had been opened: typically a
   * pooled keep-alive connection the server had already closed.
   */
  static ModelException noResponse(ModelException e) {
    return e.kind == Kind.NETWORK && !e.noResponse ? new ModelException(e) : e;
  }

  /**
   * Tells whether the connection failed before any byte of an answer arrived, on a connection that
   * had been opened (a stale pooled connection, a reset); such a call is resent at once.
   *
   * @return true for a {@link Kind#NETWORK} failure before the response began
   */
  boolean noResponse() {
    return noResponse;
  }

  /**
   * Returns what kind of failure this is.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * Returns the provider that failed.
   *
   * @return the provider's configured name
   */
  public String provider() {
    return provider;
  }

  /**
   * Returns the HTTP status of the failed response.
   *
   * @return the status, or 0 when the failure was not an HTTP response
   */
  public int status() {
    return status;
  }

  /**
   * Returns how long the server asked to wait before trying again ({@code Retry-After}).
   *
   * @return the wait, or empty when the server gave none
   */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /**
   * Tells whether trying again, later or on another provider, may succeed. Authentication and
   * request errors, and 5xx statuses other than 500, 502, 503 and 504, will fail the same way
   * again; a cancelled call has nobody waiting for it.
   *
   * @return true when a retry or a fallback is worth it
   */
  public boolean retryable() {
    return switch (kind) {
      case AUTH, BAD_REQUEST, CANCELLED, RESPONSE_TOO_LARGE -> false;
      case SERVER ->
          status == 0 || status == 500 || status == 502 || status == 503 || status == 504;
      default -> true;
    };
  }

  /**
   * Maps an HTTP error status to a kind.
   *
   * @param status the status, 300 or above
   * @return the kind
   */
  static Kind kindOf(int status) {
    return switch (status) {
      case 401, 403 -> Kind.AUTH;
      case 408 -> Kind.TIMEOUT;
      case 429 -> Kind.RATE_LIMITED;
      case 529 -> Kind.OVERLOADED;
      default -> status >= 500 ? Kind.SERVER : Kind.BAD_REQUEST;
    };
  }

  /**
   * Returns what a user should do about a failure of a kind, for the end of a message.
   *
   * @param kind the kind
   * @param provider the provider's name
   * @return advice, one sentence
   */
  static String advice(Kind kind, String provider) {
    return switch (kind) {
      case AUTH ->
          "check the API key of provider '"
              + provider
              + "' (api-key in the providers file, or its *_API_KEY environment variable)";
      case BAD_REQUEST ->
          "the server rejected the request: check the model name and the message above";
      case RATE_LIMITED ->
          "the provider is throttling: lower the request rate (rate-limit in the providers file),"
              + " wait, or route to a fallback";
      case OVERLOADED, SERVER ->
          "the provider is failing: try later or configure a fallback for this route";
      case TIMEOUT ->
          "no answer in time: raise the time limit named above (request-timeout or stream-timeout"
              + " of provider '"
              + provider
              + "', or the task's timeout) or check that the server is up";
      case NETWORK -> "check the base-url of provider '" + provider + "' and that the server is up";
      case CIRCUIT_OPEN ->
          "calls are paused while the provider fails too often; they resume after the cool-down"
              + " (circuit-breaker in the providers file), or configure a fallback for this"
              + " route";
      case STREAM_BROKEN -> "the stream broke off; call again";
      case RESPONSE_TOO_LARGE ->
          "raise max-response-bytes or max-event-bytes of provider '"
              + provider
              + "', or check that base-url points at a model API";
      case CANCELLED ->
          "the caller stopped waiting (interrupted or cancelled); call again if needed";
    };
  }
}
