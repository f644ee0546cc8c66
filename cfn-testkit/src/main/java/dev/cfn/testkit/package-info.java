/**
 * cfn-testkit: a real model server on loopback for tests of code that calls LLM providers.
 *
 * <p>{@link dev.cfn.testkit.ModelServer} speaks OpenAI Chat Completions and Anthropic Messages over
 * real HTTP (JSON and server-sent-event streams), answers from a {@link dev.cfn.testkit.Script} of
 * protocol-neutral {@link dev.cfn.testkit.Reply} values chosen by {@link dev.cfn.testkit.Match}
 * rules, or from a recorded {@link dev.cfn.testkit.Cassette}, injects faults (errors, 429 with
 * Retry-After, overload, delays, dropped connections, cut streams), and records cassettes through a
 * proxy to a real provider. Each request is kept as a {@link dev.cfn.testkit.RecordedRequest} for
 * assertions. Start with {@link dev.cfn.testkit.ModelServer}'s class documentation.
 *
 * <p>{@link dev.cfn.testkit.FaultProxy} is a TCP proxy that breaks the network on purpose (reset,
 * blackhole, latency spike, half-open, slow link: {@link dev.cfn.testkit.NetworkFault}) in front of
 * any server, the model server or an HTTP API.
 *
 * <p>Public: those types and {@link dev.cfn.testkit.Protocol}. Package-private, beside them: the
 * two protocol dialects ({@code OpenAiDialect}, {@code AnthropicDialect}), the response writer
 * ({@code ExchangeWriter}), cassette replay state ({@code CassettePlayer}) and the recording proxy
 * ({@code UpstreamProxy}).
 *
 * <p>{@link dev.cfn.testkit.journal.FaultyJournal}, in a package of its own, wraps a cfn journal
 * and fails or loses its commits on purpose; {@link dev.cfn.testkit.process.ChildJvm} runs a class
 * in a child JVM for crash tests (start, read its output, SIGKILL it); {@link
 * dev.cfn.testkit.file.FileDamage} flips a bit of a real file where a known text is stored.
 *
 * <p>Depends only on the JDK ({@code com.sun.net.httpserver}, {@code java.net.http}), Jackson 2
 * databind and SLF4J; no cfn module, but for {@code dev.cfn.testkit.journal}, which needs cfn-core
 * (an optional dependency, not passed on). Meant for test scope.
 */
package dev.cfn.testkit;
