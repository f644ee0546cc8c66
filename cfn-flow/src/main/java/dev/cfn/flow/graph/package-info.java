/**
 * Durable task graphs: a DAG of tasks, each one a message to an agent over the runtime's bus, run
 * in memory (BEST_EFFORT) or durably through the journal (RELIABLE).
 *
 * <p>Public: {@link dev.cfn.flow.graph.TaskGraph} (and its builder with the compositions: sequence,
 * fan-out/fan-in, loop, branch), {@link dev.cfn.flow.graph.TaskSpec}, {@link
 * dev.cfn.flow.graph.GraphRunner} (starts, resumes), {@link dev.cfn.flow.graph.GraphRun} (outcome,
 * cancellation), {@link dev.cfn.flow.graph.RunState} (what inputs and conditions read), {@link
 * dev.cfn.flow.graph.TaskWorker} (an agent that answers tasks), the outcomes ({@link
 * dev.cfn.flow.graph.RunOutcome}, {@link dev.cfn.flow.graph.TaskOutcome}, the statuses) and {@link
 * dev.cfn.flow.graph.FlowEvent} (published on {@code cfn.flow.*}) and {@link
 * dev.cfn.flow.graph.RunView} (a RELIABLE run as the journal holds it, for those who show runs).
 *
 * <p>Package-private: {@code RunCoordinator} (the agent {@code cfn-flow-run/RUN} that walks a run's
 * graph, sends every attempt and times it out), {@code Run} (a run's state, mirrored in the
 * coordinator's journal effects), {@code Messages} (the protocol), {@code Node} (a task of a built
 * graph), {@code Answers} (reads an agent's answer), {@code RunIndex} (the unfinished RELIABLE
 * runs, resumed when a runner is built), {@code TaskAttempts} (the agent {@code
 * cfn-flow-task/RUN.TASK.ITERATION} through which runs started by an earlier version sent their
 * tasks; kept so that such runs finish after an upgrade).
 *
 * <p>How a RELIABLE run stays exactly-once: each hop is a RELIABLE message whose consequences
 * (state changes and the next messages) are committed in its handler's effects, atomically with its
 * acknowledgement. Two hops per task: coordinator → task agent (the input, a request in the
 * coordinator's outbox, its id kept in the task's row) → coordinator (the agent's reply, in the
 * agent's outbox, committed with the agent's own effects; it names the request, so the coordinator
 * knows the task). A crash between two commits redelivers the last message, whose handler runs
 * again from the committed state; nothing is sent twice. The only effects that can repeat are those
 * outside the journal (a worker's HTTP call, its files) and timers, which {@link
 * dev.cfn.flow.graph.GraphRunner#resume} sets again.
 *
 * <p>Through a swarm: a task that names a capability ({@link
 * dev.cfn.flow.graph.TaskSpec#capability}) goes to a member of the runner's {@link
 * dev.cfn.flow.swarm.Swarm} ({@link dev.cfn.flow.graph.GraphRunner.Builder#swarm}), picked by the
 * runner's strategy when the coordinator sends each attempt, its model calls charged to the swarm's
 * budget; a used-up budget fails the task with {@value
 * dev.cfn.flow.graph.GraphRunner#BUDGET_EXHAUSTED}. Nothing new is journaled for it: the attempt is
 * the same request in the coordinator's outbox, and the spend is the swarm's ledger's.
 *
 * <p>Depends on {@code cfn-core} (the runtime, effects), {@code cfn-ai} (the {@code TaskResult} and
 * {@code TaskFailed} an {@code LlmAgent} answers, budgets) and {@code dev.cfn.flow.swarm} (the
 * swarm a runner may send tasks through; that package does not depend on this one). Not on {@code
 * cfn-store}: any journal works.
 */
package dev.cfn.flow.graph;
