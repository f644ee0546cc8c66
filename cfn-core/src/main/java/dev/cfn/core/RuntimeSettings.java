package dev.cfn.core;

/**
 * The settings an {@link AgentRuntime} was built with, read back with {@link
 * AgentRuntime#settings()}.
 *
 * @param name the prefix of the runtime's thread names
 * @param carriers carrier threads for non-blocking agents
 * @param throughput default messages per agent per turn
 * @param idleStrategy what idle carriers do
 * @param latencySampleEvery one message in this many has its latency recorded
 * @param deadLetterWindow recent dead letters kept in memory
 * @param jvmMetrics whether JVM heap and CPU meters are registered
 * @param journaled whether a durable journal backs RELIABLE messages
 * @param retryPolicy how failed RELIABLE messages are retried
 */
public record RuntimeSettings(
    String name,
    int carriers,
    int throughput,
    IdleStrategy idleStrategy,
    int latencySampleEvery,
    int deadLetterWindow,
    boolean jvmMetrics,
    boolean journaled,
    RetryPolicy retryPolicy) {}
