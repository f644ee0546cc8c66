package dev.cfn.core;

/**
 * A snapshot of one agent's counters.
 *
 * @param processed messages handled (successfully or not) since the agent was spawned
 * @param failures handler invocations that threw
 * @param restarts times supervision replaced the instance
 * @param queued messages waiting in the mailbox
 */
public record AgentMetrics(long processed, long failures, int restarts, int queued) {}
