/**
 * The cfn kernel: agents, the in-process message bus, mailboxes, dispatchers, supervision and
 * metrics.
 *
 * <p>Public: {@link dev.cfn.core.AgentRuntime} (and its builder), {@link dev.cfn.core.MessageBus}
 * (the messaging verbs shared by the runtime, {@link dev.cfn.core.AgentContext} and {@link
 * dev.cfn.core.AgentRef}), {@link dev.cfn.core.Agent}, {@link dev.cfn.core.AgentContext}, {@link
 * dev.cfn.core.AgentType}, the value types ({@link dev.cfn.core.AgentId}, {@link
 * dev.cfn.core.TopicId}, {@link dev.cfn.core.Envelope}), {@link dev.cfn.core.RuntimeSettings}, the
 * policies, and {@link dev.cfn.core.SwarmRule} (the one hook through which a swarm's topology,
 * built in cfn-flow, is enforced on the route stage). Package-private, beside them: the stages of
 * the message path below, the mailbox ({@code Mailbox}), the per-agent cell ({@code AgentCell}),
 * the topic router and the meters. Users cannot reach the machinery; maintainers find it here.
 *
 * <h2>The message path</h2>
 *
 * <p>Every message travels one chain of stages. Each stage is a small package-private class named
 * after what it does, given the next stages in its constructor by {@code AgentRuntime} (which only
 * wires them), and never calling back into the runtime:
 *
 * <pre>
 *  ctx.send / rt.send / ref.tell / request / forward / reply      (MessageBus verbs, via Sender)
 *        │
 *  1 Validate ─── checks arguments, builds the Envelope (Ids: id, stamp)
 *        │
 *  2 Admit ────── running / draining (agents only) / terminated; counts accepted vs finished
 *        │        (consulted before a RELIABLE append, and by Enqueue right after counting)
 *  3 Route ────── point-to-point: Directory.cellFor (activates lazily)
 *        │        between members of one swarm: its SwarmRule may refuse (SwarmRules)
 *        │        topic: TopicRouter fan-out · reply: Replies completes the future
 *        │        nowhere to go: DeadLetterSink
 *        ├──────────────────────────────┐ RELIABLE only
 *        │                  4 JournalAppend ── Journal.append (durable; appendOnce for an
 *        │                              │      idempotency key: a duplicate stops here), then on;
 *        │                              │      an outside sender's unkeyed message goes on once
 *        │                              │      queued (Journal.appendQueued: its acknowledgement
 *        │                              │      commits with or after the append, never without
 *        │                              │      it) and the send returns once it is durable;
 *        │                              │      also recovery, retries, parked types, replays;
 *        │                              │      a RELIABLE reply → ReliableReplies (waiting future,
 *        │                              │      held for an external caller, or the agent's mailbox)
 *  5 Enqueue ◄──────────────────────────┘
 *        │        mailbox lane offer; overflow policy (REJECT / DROP_OLDEST / BLOCK)
 *  6 Dispatch ─── AgentCell.schedule → Carrier (platform thread, work stealing)
 *        │                            or VirtualDispatcher (blocking types)
 *  7 Invoke ───── the handler; failures → DeadLetterSink + supervision (AgentCell)
 *        │
 *  8 Acknowledge  BEST_EFFORT: counted delivered (in Invoke)
 *                 RELIABLE: Journal.acknowledge + effects in one transaction, then the outbox
 *                 goes back to JournalAppend; failures retried with backoff or dead-lettered;
 *                 a type with reliableBatch: up to N queued messages in one turn, one
 *                 Journal.acknowledgeTogether (a failed batch comes back one per turn)
 * </pre>
 *
 * <p>Beside the chain: {@code Directory} (registered types, live agents, activation), {@code
 * Replies} (requests waiting for a reply, with their timeouts), {@code DeadLetterSink}, {@code
 * Lifecycle} (lifecycle events re-enter the chain at Route: its one back edge, bound once after
 * wiring), {@code ReliableLedger} (attempts, recovered ids and the pending reliable messages shared
 * by the two RELIABLE stages) and {@code ReliableReplies} (where replies to RELIABLE requests go
 * once journaled). {@code Stages} is the wiring an agent's cell receives. {@code EffectsBuffer} is
 * the {@link dev.cfn.core.Effects} of one RELIABLE handler call: the public {@link
 * dev.cfn.core.spi.BufferedEffects} (its writes over the journal's committed state, turned into
 * {@code Effect}s at the acknowledgement; shared with cfn-cluster's nodes) given the runtime's ids
 * and swarm rules.
 *
 * <p>The interfaces the stores implement (journal, effects, memory store, call log) are in {@link
 * dev.cfn.core.spi}; the RELIABLE stages here program against them. {@code InMemoryJournal} stays
 * in this package, beside the builder users pass it to: it is something users construct, not a
 * contract.
 *
 * <p>Depends only on JCTools, HdrHistogram, Micrometer core and SLF4J. Nothing in cfn-core depends
 * on another cfn module.
 */
package dev.cfn.core;
