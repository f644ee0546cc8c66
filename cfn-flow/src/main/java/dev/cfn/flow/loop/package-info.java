/**
 * The CFN Loop as a deterministic, resumable state machine on a RELIABLE runtime: Loop 3 (1..N
 * implementers, each answer with a self-confidence, a gate), Loop 2 (2 to 4 validators, {@link
 * dev.cfn.flow.loop.Consensus}), Loop 4 (a product owner: PROCEED, DEFER or ESCALATE to a person).
 *
 * <p>Public: {@link dev.cfn.flow.loop.LoopRunner} (start, resume, decide, replay, fork), {@link
 * dev.cfn.flow.loop.LoopSpec} (the agents, gate, threshold, quorum, bounds), {@link
 * dev.cfn.flow.loop.Consensus} (the rule, with worked examples), {@link
 * dev.cfn.flow.loop.LoopRecord} and {@link dev.cfn.flow.loop.LoopStep} (a run as stored), {@link
 * dev.cfn.flow.loop.LoopStatus}, {@link dev.cfn.flow.loop.LoopTimeline} (a run as text).
 *
 * <p>Package-private: {@code LoopMachine} (the rules, a pure function of the steps), {@code
 * Prompts} (what the agents are asked, built from the steps only), {@code Replies} (strict reading
 * of the agents' JSON answers), {@code Steps} (a step's stored form), {@code LoopCoordinator} (the
 * agent {@code cfn-loop/RUN} that keeps the record in its journal effects), {@code LoopCall} (the
 * agent that makes one call with a fixed idempotency key), {@code Messages} (the protocol).
 *
 * <p>Exactly once: each change of a run (a step recorded, the calls it makes due, the index entry)
 * commits with the acknowledgement of the RELIABLE message that caused it. A call cut by a crash is
 * redelivered and asks its agent again with the same idempotency key and prompt; an {@code
 * LlmAgent} with a durable call log then replays its recorded model calls, so the only model call
 * made again is the one in flight at the crash (the call log's documented window).
 *
 * <p>Depends on {@code cfn-core} (the runtime, effects, the journal SPI) and {@code cfn-ai} ({@code
 * Task}, {@code TaskResult}, {@code TaskFailed}, {@code Usage}); not on {@code cfn-store}.
 */
package dev.cfn.flow.loop;
