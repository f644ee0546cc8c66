package dev.cfn.core;

import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The stages of one runtime's message path, as wired by {@link AgentRuntime}: what an agent's cell
 * needs to send (the entrance, {@link Validate}), to run its handler ({@link Invoke}) and to stop
 * ({@link Directory}, the dead letters, the journal for RELIABLE mail still queued). Plain wiring,
 * no behaviour.
 *
 * @param validate the entrance of the path, for the agent's sends
 * @param invoke the handler stage
 * @param directory the live agents, to forget a stopped one
 * @param lifecycle publishes the agent's lifecycle events
 * @param deadLetters for mail queued when the agent stops or the runtime shuts down
 * @param journal the RELIABLE redelivery, or null without a journal
 * @param timer runs restart backoffs
 * @param external the runtime as the sender {@link AgentRuntime#EXTERNAL}, for the refs it hands
 *     out
 */
record Stages(
    Validate validate,
    Invoke invoke,
    Directory directory,
    Lifecycle lifecycle,
    DeadLetterSink deadLetters,
    JournalAppend journal,
    ScheduledThreadPoolExecutor timer,
    Sender external) {}
