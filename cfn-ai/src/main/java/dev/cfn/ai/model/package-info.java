/**
 * Language models behind one interface: the {@link dev.cfn.ai.model.ModelProvider} SPI, its value
 * types, two protocol clients, their configuration, routing with fallback, and the resilience every
 * call goes through.
 *
 * <h2>What lives here</h2>
 *
 * <ul>
 *   <li><b>SPI and values</b>: {@link dev.cfn.ai.model.ModelProvider} ({@code chat}, {@code
 *       stream}), {@link dev.cfn.ai.model.ChatRequest}, {@link dev.cfn.ai.model.ChatMessage} (user,
 *       assistant with tool calls, tool result), {@link dev.cfn.ai.model.ChatResponse}, {@link
 *       dev.cfn.ai.model.StopReason}, {@link dev.cfn.ai.model.Usage}, {@link
 *       dev.cfn.ai.model.StreamListener}, {@link dev.cfn.ai.model.ToolSpec}, {@link
 *       dev.cfn.ai.model.ToolCall}, and the one failure type {@link
 *       dev.cfn.ai.model.ModelException} with its {@link dev.cfn.ai.model.ModelException.Kind}.
 *   <li><b>Clients</b> on the JDK {@link java.net.http.HttpClient} and Jackson, no vendor SDK:
 *       {@link dev.cfn.ai.model.OpenAiProvider} (Chat Completions, for OpenAI and every compatible
 *       server) and {@link dev.cfn.ai.model.AnthropicProvider} (Messages). Both stream server-sent
 *       events, assemble tool calls and report cached tokens.
 *   <li><b>Configuration</b>: {@link dev.cfn.ai.model.ProviderConfig} per provider, {@link
 *       dev.cfn.ai.model.ModelConfig} for the {@code .cfn/providers.yaml} file plus the
 *       environment, {@link dev.cfn.ai.model.ModelConfigException} for errors that name the file,
 *       the key and the fix, {@link dev.cfn.ai.model.ProviderTrust} for what the user allows a
 *       project's file to do with secrets from the environment.
 *   <li><b>Routing</b>: {@link dev.cfn.ai.model.ModelRouter} picks a {@link
 *       dev.cfn.ai.model.RoutedModel} for an agent from its frontmatter, the {@link
 *       dev.cfn.ai.model.ModelRoute} rules, or the default, with fallbacks ({@link
 *       dev.cfn.ai.model.ModelTarget}).
 *   <li><b>Resilience</b> (package-private {@code ResilientProvider}, wrapped around every client
 *       by {@link dev.cfn.ai.model.ModelProvider#create} and the router): timeouts, retries with
 *       backoff and jitter honouring {@code Retry-After}, an immediate resend of a call whose
 *       connection failed before any answer byte (a stale pooled connection), a {@link
 *       dev.cfn.ai.model.CircuitBreaker} per provider (a failure rate over a window of calls, one
 *       outcome per call; its state a gauge through {@link dev.cfn.ai.model.ModelRouter#bindTo}),
 *       client-side rate limits ({@code RateLimiter}, token buckets of requests and tokens per
 *       minute).
 * </ul>
 *
 * <h2>A call's path</h2>
 *
 * {@code RoutedModel} (fallback across candidates) → {@code ResilientProvider} (rate limit, circuit
 * breaker, retry loop) → protocol client (request JSON; the two clients share {@code
 * HttpModelProvider}) → {@code HttpTransport} (HTTP, status and error mapping, key redaction) →
 * {@code SseStream} (event framing) for streamed calls; {@code BodyChunks} and {@code ResponseBody}
 * read every body with bounded memory and time (size caps, idle and total timeouts).
 *
 * <h2>Time</h2>
 *
 * A {@link dev.cfn.ai.model.ChatRequest#timeout()} is one deadline for the whole call: every layer
 * passes on only the time left, no retry, backoff or fallback starts past it, and the request in
 * flight is cancelled when it runs out.
 *
 * <h2>Secrets</h2>
 *
 * API keys travel only in the authentication header. They never appear in {@code toString()}, log
 * lines or exception messages; error bodies are redacted ({@code KeyRedactor}) before they are
 * quoted; so are configured header values. Files should reference keys as {@code ${ENV_VAR}}; a
 * project's file may send them only to the hosts they are bound to ({@link
 * dev.cfn.ai.model.ProviderTrust}).
 *
 * <h2>Dependencies</h2>
 *
 * This package depends on the JDK, Jackson databind, snakeyaml-engine and SLF4J only; not on {@code
 * dev.cfn.core} nor on other {@code dev.cfn.ai} packages, which may all depend on it. Calls block:
 * run them on virtual threads (blocking agent types), never on a dispatcher carrier.
 */
package dev.cfn.ai.model;
