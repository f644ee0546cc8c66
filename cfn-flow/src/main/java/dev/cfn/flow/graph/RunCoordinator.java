package dev.cfn.flow.graph;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import dev.cfn.flow.graph.Messages.AttemptDone;
import dev.cfn.flow.graph.Messages.CancelAttempts;
import dev.cfn.flow.graph.Messages.CancelRun;
import dev.cfn.flow.graph.Messages.CancelTask;
import dev.cfn.flow.graph.Messages.Rearm;
import dev.cfn.flow.graph.Messages.ResumeRun;
import dev.cfn.flow.graph.Messages.RetryDue;
import dev.cfn.flow.graph.Messages.RunDeadline;
import dev.cfn.flow.graph.Messages.StartRun;
import dev.cfn.flow.graph.Messages.TaskFinished;
import dev.cfn.flow.graph.Messages.TimersDue;
import dev.cfn.flow.graph.Messages.WorkerAnswer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's coordinator: the agent {@code cfn-flow-run/RUN} that walks the graph. It releases a task
 * when its dependencies are final (skipping it when its branch condition does not hold, cancelling
 * it when a dependency failed), computes its input, sends it off, records what comes back, repeats
 * loops and finishes the run.
 *
 * <p>RELIABLE runs: every message to the coordinator is RELIABLE and every change of the run is
 * written through the message's {@link dev.cfn.core.Effects} (see {@link Run}). An attempt is a
 * RELIABLE request to the task's agent in the effects' outbox ({@link
 * dev.cfn.core.Effects#request}), so it is sent exactly when the change that released it commits,
 * and never again; the request's id goes into the task's row. The agent's reply (in its own outbox,
 * committed with its own effects) comes back here naming that id, which is how a reply finds its
 * task, even among several tasks under way at one agent. Attempt timeouts and retry backoffs are
 * timers of this process ({@link #resume} sets them again after a restart). So a task costs two
 * RELIABLE hops, the coordinator's and its agent's; earlier versions sent each task iteration
 * through an attempts agent of its own ({@link TaskAttempts}), four hops, and runs they started
 * still finish that way. A coordinator that handled a message and died before the commit handles it
 * again from the committed state.
 *
 * <p>Throughput of RELIABLE runs: the coordinator is one agent per run, and every message it gets
 * changes the run, so it must not handle a message before the previous one's changes are committed.
 * With one journal transaction per message a run advanced by one fsync at a time (about 400 tasks a
 * second measured), however many tasks ran in parallel. So its type takes up to {@link #BATCH}
 * queued messages per turn and acknowledges them together in one transaction ({@link
 * dev.cfn.core.AgentType.Builder#reliableBatch}): while one commit is under way the next messages
 * queue up, and the next turn takes them all, so the batch grows with the load and the commit rate
 * stops being the limit. Batched turns were chosen over the alternatives because they keep every
 * guarantee as it was: nothing is sent before its commit, a crash redelivers the whole batch (none
 * of it committed) or none of it, and a failure hands the batch back one message per turn.
 * Pipelined acknowledgements (the next turn before the previous commit) would need the runtime to
 * chain uncommitted state and abort dependent turns on a failed commit; a coordinator sharded per
 * partition of the graph would split one run's state and its exactly-once bookkeeping across
 * agents. A batch handed back after a failed commit finds this agent's memory ahead of the journal:
 * the run's {@code seq} (a count of handled messages, committed with each) tells, and the run is
 * loaded again from the journal.
 *
 * <p>BEST_EFFORT runs: the state lives in this agent only; each attempt is a request to the task's
 * agent. Its answer is handled where it arrives: on the thread of the agent that replied (its
 * carrier, inside its {@code ctx.reply}), which releases the next tasks and sends them from there,
 * so a sequence's next task is queued on the same carrier (the carriers' locality) without a hop
 * through this agent's mailbox and a turn of its own. The run's state is still touched by one
 * thread at a time: the agent's turns and the answers take the run in turn ({@link #inline}). A
 * failure or a timeout (on the runtime's deadline thread) comes back through the mailbox as an
 * {@link AttemptDone}. This halves the hops of a step (request, reply; before: request, reply, a
 * message to this agent); it is what lets a best-effort step cost little more than the bus's own
 * request and reply. Running the task's agent itself inline, on the coordinator's thread, would
 * need the runtime to run another agent's turn nested inside this one; the graph layer does not.
 */
final class RunCoordinator implements Agent {
  private static final Logger log = LoggerFactory.getLogger(RunCoordinator.class);

  /** The agent type of coordinators. */
  static final String TYPE = "cfn-flow-run";

  /**
   * The most messages a RELIABLE coordinator handles in one turn and one commit: the runtime's
   * most. A wide graph's answers arrive a journal commit's worth at a time (up to a thousand), and
   * a turn capped at 256 of them cost the run four commits, one after another, for each of those; a
   * batch only grows as large as what is queued, so a small run's turns stay small.
   */
  static final int BATCH = GraphRunner.DEFAULT_COORDINATOR_BATCH;

  private final GraphRunner runner;
  private final String runId;
  private Run run; // null until started (BEST_EFFORT) or loaded (RELIABLE)
  private AgentContext ctx;
  private Envelope current; // the message being handled
  // RELIABLE: the effects of the turn under way (one for every message of a batched turn); kept so
  // that a new turn is told from the next message of the same batch
  private dev.cfn.core.Effects turnEffects;
  private final ArrayDeque<Integer> released = new ArrayDeque<>();
  // RELIABLE: when each task's timer is due (nanoTime; 0: none), an attempt's timeout or the end of
  // a retry's backoff, and the one timer of the runner that wakes this agent at the earliest.
  private long[] due = new long[0];
  private Future<?> wakeup;
  // volatile only so that no reader could see half of it: RELIABLE runs, the only ones with timers,
  // touch it on the agent's turns alone (BEST_EFFORT answers run on other threads; see inline)
  private volatile long wakeupAt;
  // What every step would otherwise build again (and validate with a regular expression): the
  // topics of this run's events, one per transition, and each task's agent in this run.
  private final TopicId[] topics = new TopicId[Transition.values().length];
  private AgentId[] targets = new AgentId[0];
  // BEST_EFFORT: what waits to be handled, and who handles it now (see inline)
  private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean turn = new AtomicBoolean();
  // a swarm's tasks: the member each task's attempt under way is counted in flight at, and the
  // action ending that count (see settle)
  private AgentId[] countedAt = new AgentId[0];
  private Runnable[] uncount = new Runnable[0];

  RunCoordinator(GraphRunner runner, AgentId self) {
    this.runner = runner;
    this.runId = self.key();
  }

  @Override
  public void onMessage(Envelope message, AgentContext ctx) {
    if (!runner.reliable() && message.delivery() != DeliveryMode.RELIABLE) {
      this.ctx = ctx; // the same context every time: the agent's own
      inline(message.payload());
      return;
    }
    this.ctx = ctx;
    this.current = message;
    boolean reliable = message.delivery() == DeliveryMode.RELIABLE;
    try {
      boolean firstOfTurn = false;
      if (reliable) {
        // A batched turn hands every message of the turn the same effects, committed together:
        // the check against the journal and the count of handled messages are needed once per
        // turn (its first message), not once per message (a row in the commit each).
        firstOfTurn = ctx.effects() != turnEffects;
        if (firstOfTurn) {
          turnEffects = ctx.effects();
          if (run != null && run.seq != run.committedSeq(ctx.effects())) {
            // what this agent holds was never committed (a failed commit): load what was
            log.debug("run {}: reloading the run from the journal after a failed commit", runId);
            run = null;
          }
        }
        if (run == null) {
          run = Run.load(runId, ctx.effects(), runner.graphs()).orElse(null);
          if (run != null) {
            adopt();
          }
        }
        if (run != null) {
          run.writeThrough(ctx.effects());
        }
      }
      if (message.isReply()) {
        replied(message);
      } else {
        handle(message.payload());
      }
      if (reliable && run != null) {
        run.handled(firstOfTurn || !run.seqWritten(ctx.effects()));
      }
    } catch (RuntimeException e) {
      if (reliable) {
        run = null; // its changes are not committed: load the committed state next time
        turnEffects = null; // and check the journal again on the next message
      }
      released.clear();
      throw e;
    } finally {
      if (run != null) {
        run.writeThrough(null);
      }
    }
  }

  /**
   * BEST_EFFORT: handles {@code payload} now on this thread, or hands it to the thread handling the
   * run's previous one. Whichever thread wins {@link #turn} handles everything {@link #inbox}
   * holds, one at a time: the agent's own messages on its turns, and its agents' answers on the
   * threads that answer (see {@link #attempt}). Ordering: a producer offers to the queue and then
   * tries the flag; the holder, after its last poll came back empty, clears the flag (a volatile
   * write) and then reads the queue again. So either the producer's try follows the clearing and
   * wins, or the holder's second read sees the offer: nothing is left unhandled. The flag's set and
   * clear also order every access to the run's fields between two holders.
   */
  private void inline(Object payload) {
    inbox.offer(payload);
    while (!inbox.isEmpty() && turn.compareAndSet(false, true)) {
      try {
        for (Object p; (p = inbox.poll()) != null; ) {
          try {
            handle(p);
          } catch (RuntimeException e) {
            released.clear();
            log.warn(
                "run {}: the coordinator failed on a {}: {}",
                runId,
                p.getClass().getSimpleName(),
                e.toString(),
                e);
          }
        }
      } finally {
        turn.set(false);
      }
    }
  }

  private void handle(Object payload) {
    switch (payload) {
      case StartRun s -> start(s);
      case TaskFinished f -> finished(f);
      case AttemptDone d -> attemptDone(d);
      case RetryDue r -> retryDue(r);
      case TimersDue t -> timersDue(t);
      case CancelTask c -> cancelTask(c.task(), c.reason());
      case CancelRun c -> cancelRun(c.reason());
      case RunDeadline d -> deadline();
      case ResumeRun r -> resume();
      default -> unrequested(payload);
    }
  }

  // ---------------------------------------------------------------- the graph

  private void start(StartRun s) {
    if (run != null) {
      log.debug("run {}: already started, ignoring a second start", runId);
      if (run.runStatus != RunStatus.RUNNING) {
        runner.finished(run.outcome());
      }
      return;
    }
    TaskGraph graph = runner.graphs().get(s.graph());
    if (graph == null) {
      throw new IllegalStateException("run " + runId + ": no graph '" + s.graph() + "'");
    }
    run = new Run(runId, graph);
    adopt();
    if (runner.reliable()) {
      run.writeThrough(ctx.effects());
    }
    run.started(s.state(), s.deadlineAt());
    publishRun(RunStatus.RUNNING, graph.name());
    armDeadline();
    for (Node node : graph.nodes()) {
      if (node.dependencies().length == 0) {
        released.add(node.index());
      }
    }
    drain();
  }

  /**
   * Takes {@link #run}, new or just loaded (after a restart, or again after a failed commit), for a
   * runner with a swarm: each task's member as kept in the run, and the swarm's count of tasks in
   * flight made to match the attempts under way in it.
   */
  private void adopt() {
    if (runner.swarm() == null) {
      return;
    }
    int n = run.graph.nodes().size();
    if (targets.length < n) {
      targets = java.util.Arrays.copyOf(targets, n);
    }
    for (Node node : run.graph.nodes()) {
      if (node.capability() != null) {
        targets[node.index()] = run.member[node.index()];
      }
    }
    run.onChange(this::settle);
    for (int i = 0; i < n; i++) {
      settle(i);
    }
  }

  /**
   * Makes the swarm count task {@code i} in flight at its member exactly while an attempt of it is
   * under way (RUNNING, not waiting out a backoff): called on every change of the task's row, so an
   * answer, a failure, a timeout, a cancellation and the run's end all end the count.
   */
  private void settle(int i) {
    if (countedAt.length <= i) {
      int n = run.graph.nodes().size();
      countedAt = java.util.Arrays.copyOf(countedAt, n);
      uncount = java.util.Arrays.copyOf(uncount, n);
    }
    AgentId want =
        run.status[i] == TaskStatus.RUNNING && run.attempt[i] > 0 && !run.legacy[i]
            ? run.member[i]
            : null;
    AgentId have = countedAt[i];
    if (java.util.Objects.equals(want, have)) {
      return;
    }
    if (have != null) {
      uncount[i].run();
      uncount[i] = null;
      countedAt[i] = null;
    }
    if (want != null) {
      uncount[i] = runner.swarm().countInFlight(want);
      countedAt[i] = want;
    }
  }

  /** Releases every task whose dependencies became final, then finishes the run if it is over. */
  private void drain() {
    for (Integer i; (i = released.poll()) != null; ) {
      release(run.graph.nodes().get(i));
    }
    if (run.unfinished == 0 && run.runStatus == RunStatus.RUNNING) {
      finish();
    }
  }

  private void release(Node node) {
    int i = node.index();
    if (run.status[i] != TaskStatus.PENDING) {
      return;
    }
    for (int d : node.dependencies()) {
      TaskStatus ds = run.status[d];
      if (ds == TaskStatus.FAILED || ds == TaskStatus.CANCELLED) {
        end(
            node,
            TaskStatus.CANCELLED,
            "dependency '" + run.graph.nodes().get(d).id() + "' " + ds.name().toLowerCase());
        return;
      }
    }
    Boolean holds =
        node.when() == null ? Boolean.TRUE : user(node, "condition", () -> node.when().test(run));
    if (holds == null) {
      return; // the condition threw: the task failed
    }
    if (!holds) {
      end(node, TaskStatus.SKIPPED, "its condition did not hold");
      return;
    }
    run.setStatus(i, TaskStatus.RUNNING);
    dispatch(node);
  }

  /**
   * Calls the user's function {@code what} of {@code node} (its input, condition or exit
   * condition); when it throws or returns null, the task fails with the cause and null is returned.
   * A function that throws must not take the coordinator down: in a RELIABLE run the message would
   * be retried until dead-lettered, and the run would stall.
   */
  private <T> T user(Node node, String what, java.util.function.Supplier<T> f) {
    String why;
    try {
      T value = f.get();
      if (value != null) {
        return value;
      }
      why = "returned null (fix: return a value)";
    } catch (RuntimeException e) {
      why = "threw " + e;
    }
    end(node, TaskStatus.FAILED, "the " + what + " of task '" + node.id() + "' " + why);
    return null;
  }

  /** Sends the task's current iteration off. */
  private void dispatch(Node node) {
    int i = node.index();
    String input = user(node, "input", () -> node.input().apply(run));
    if (input == null) {
      return;
    }
    publish(node, Transition.QUEUED, 0, null, null);
    run.setInput(i, input);
    attempt(node, 1);
  }

  /** A task's iteration ended at its attempts agent (a run started by an earlier version). */
  private void finished(TaskFinished f) {
    Node node = requireStarted() ? run.graph.node(f.task()) : null;
    if (node == null) {
      return;
    }
    int i = node.index();
    if (run.status[i] != TaskStatus.RUNNING || run.iteration[i] != f.iteration()) {
      log.debug("run {}: late answer for task {} ignored", runId, f.task());
      return;
    }
    run.setAttempt(i, f.attempts());
    run.legacy[i] = false;
    if ("SUCCEEDED".equals(f.status())) {
      succeeded(node, f.result());
    } else {
      end(node, TaskStatus.FAILED, f.error());
    }
    drain();
  }

  private void succeeded(Node node, String result) {
    int i = node.index();
    run.setResult(i, result);
    if (node.writes() != null) {
      run.put(node.writes(), result);
    }
    if (node.until() == null) {
      end(node, TaskStatus.SUCCEEDED, null);
      return;
    }
    publish(node, Transition.SUCCEEDED, run.attempt[i], null, "iteration " + run.iteration[i]);
    Boolean exit = user(node, "exit condition", () -> node.until().test(result, run));
    if (exit == null) {
      return;
    }
    if (exit) {
      end(node, TaskStatus.SUCCEEDED, null);
    } else if (run.iteration[i] < node.maxIterations()) {
      run.setIteration(i, run.iteration[i] + 1);
      dispatch(node);
    } else {
      end(
          node,
          TaskStatus.FAILED,
          "loop '"
              + node.id()
              + "' reached its bound of "
              + node.maxIterations()
              + " iterations without its exit condition (fix: raise the bound, or loosen the"
              + " condition)");
    }
  }

  /** Makes a task final and releases its dependents that wait for nothing else. */
  private void end(Node node, TaskStatus status, String why) {
    int i = node.index();
    boolean wasRunning = run.status[i] == TaskStatus.RUNNING;
    run.setStatus(i, status);
    if (why != null) {
      run.setError(i, why);
    }
    run.unfinished--;
    Transition t =
        switch (status) {
          case SUCCEEDED -> Transition.SUCCEEDED;
          case FAILED -> Transition.FAILED;
          case SKIPPED -> Transition.SKIPPED;
          default -> Transition.CANCELLED;
        };
    publish(node, t, run.attempt[i], null, why);
    cancelTimer(i);
    run.forgetRequests(i); // a reply to one of its requests is late from now on
    if (status == TaskStatus.CANCELLED && wasRunning && run.legacy[i]) {
      ctx.effects()
          .send(TaskAttempts.id(runId, node.id(), run.iteration[i]), new CancelAttempts(why));
    }
    for (int d : node.dependents()) {
      if (--run.waitingFor[d] == 0) {
        released.add(d);
      }
    }
  }

  private void finish() {
    RunStatus end = RunStatus.SUCCEEDED;
    for (TaskStatus s : run.status) {
      if (s == TaskStatus.FAILED) {
        end = RunStatus.FAILED;
        break;
      }
      if (s == TaskStatus.CANCELLED) {
        end = RunStatus.CANCELLED;
      }
    }
    if (run.cancelled != null) {
      end = RunStatus.CANCELLED;
    }
    run.setRunStatus(end);
    publishRun(end, run.cancelled);
    if (runner.reliable()) {
      // The outcome completes once this turn commits: the index's Untrack leaves in its outbox,
      // and the index hands the outcome over when it arrives (a failed commit sends nothing).
      runner.finishing(run.outcome());
      ctx.effects().send(RunIndex.ID, new RunIndex.Untrack(runId));
    } else {
      runner.finished(run.outcome());
    }
    if (!runner.reliable()) {
      // its state lives only here and the outcome is out: free the agent (a late message starts a
      // fresh one, which ignores it as a run it never started)
      ctx.stopSelf();
    }
  }

  // ---------------------------------------------------------------- cancellation, deadline, resume

  private void cancelTask(String task, String reason) {
    if (!requireStarted()) {
      return;
    }
    Node node = run.graph.node(task);
    if (node == null || run.status[node.index()].isFinal()) {
      return;
    }
    end(node, TaskStatus.CANCELLED, reason);
    drain();
  }

  private void cancelRun(String reason) {
    if (!requireStarted() || run.runStatus != RunStatus.RUNNING) {
      return;
    }
    run.setCancelled(reason);
    for (Node node : run.graph.nodes()) {
      if (!run.status[node.index()].isFinal()) {
        end(node, TaskStatus.CANCELLED, reason);
      }
    }
    released.clear(); // everything is final already
    drain();
  }

  private void deadline() {
    if (run != null && run.runStatus == RunStatus.RUNNING) {
      cancelRun("the run's deadline passed");
    }
  }

  private void armDeadline() {
    if (run.deadlineAt > 0) {
      long left = Math.max(0, run.deadlineAt - runner.clock().millis());
      AgentId self = ctx.self();
      runner.later(
          Duration.ofMillis(left), () -> runner.sendToSelf(self, new RunDeadline(run.deadlineAt)));
    }
  }

  private void resume() {
    if (!requireStarted()) {
      return;
    }
    if (run.runStatus != RunStatus.RUNNING) {
      runner.finished(run.outcome());
      return;
    }
    armDeadline();
    if (runner.reliable()) {
      for (Node node : run.running()) {
        int i = node.index();
        if (run.legacy[i]) {
          ctx.effects()
              .send(
                  TaskAttempts.id(runId, node.id(), run.iteration[i]),
                  new Rearm(runner.clock().millis()));
        } else if (run.attempt[i] > 0) {
          armTimeout(node, run.attempt[i]);
        } else if (run.attempt[i] < 0) {
          armRetry(node, -run.attempt[i] + 1);
        }
      }
    }
  }

  private boolean requireStarted() {
    if (run == null) {
      log.warn("run {}: a message for a run that was never started is ignored", runId);
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- attempts

  /**
   * Sends attempt {@code attempt} of the task's iteration to its agent. RELIABLE: a request in the
   * effects' outbox (sent exactly when this message's changes commit, and never again), whose id is
   * kept in the task's row so that its reply, which names it, finds the task; the attempt's timeout
   * is a timer of this process ({@link #resume} sets it again after a restart). BEST_EFFORT: a
   * request whose reply comes back as an {@link AttemptDone}.
   */
  private void attempt(Node node, int attempt) {
    int i = node.index();
    run.setAttempt(i, attempt);
    AgentId target;
    if (node.capability() != null) {
      target = assign(node, attempt);
      if (target == null) {
        return; // failed: the task ended, or the attempt is failed
      }
    } else {
      target = target(node);
    }
    int iteration = run.iteration[i];
    publish(node, Transition.ASSIGNED, attempt, target, null);
    if (runner.reliable()) {
      run.asked(i, ctx.effects().request(target, run.input[i]));
      publish(node, Transition.RUNNING, attempt, target, null);
      armTimeout(node, attempt);
      return;
    }
    AgentContext c = ctx;
    c.request(target, run.input[i], node.timeout())
        .whenComplete(
            (reply, error) -> {
              if (error != null) {
                // a timeout (on the runtime's one deadline thread) or a refusal: through the
                // mailbox, so that the deadline thread runs no run's work
                c.send(
                    c.self(),
                    new AttemptDone(node.id(), iteration, attempt, false, describe(error)));
                return;
              }
              WorkerAnswer a = answer(reply);
              inline(new AttemptDone(node.id(), iteration, attempt, a.ok(), a.text()));
            });
    publish(node, Transition.RUNNING, attempt, target, null);
  }

  /**
   * Picks the swarm's member for attempt {@code attempt} of a task naming a capability (the member
   * of the iteration's earlier attempts while it may still do it, see {@link GraphRunner}), and
   * keeps it as the task's agent (for an answer that is not a reply) in the run. Null when none may
   * be picked: with the swarm's budget used up the task fails at once, without retries; with no
   * live member offering the capability the attempt fails (and is retried as the task says, a
   * member may join meanwhile): RELIABLE at once, BEST_EFFORT through the mailbox, as a refused
   * request.
   */
  private AgentId assign(Node node, int attempt) {
    int i = node.index();
    try {
      AgentId member = runner.assign(node, run.member[i]);
      if (targets.length <= i) {
        targets = java.util.Arrays.copyOf(targets, run.graph.nodes().size());
      }
      targets[i] = member;
      if (!member.equals(run.member[i])) {
        run.setMember(i, member); // RELIABLE: in the commit that sends the attempt to it
      }
      return member;
    } catch (dev.cfn.ai.budget.BudgetExhaustedException e) {
      end(node, TaskStatus.FAILED, Answers.budgetFailure(describe(e)));
    } catch (IllegalStateException | IllegalArgumentException e) {
      String why = "swarm '" + runner.swarm().name() + "': " + describe(e);
      if (runner.reliable()) {
        failedAttempt(node, attempt, why);
      } else {
        ctx.send(ctx.self(), new AttemptDone(node.id(), run.iteration[i], attempt, false, why));
      }
    }
    return null;
  }

  private void attemptDone(AttemptDone d) {
    Node node = run == null ? null : run.graph.node(d.task());
    if (node == null) {
      return;
    }
    int i = node.index();
    if (run.status[i] != TaskStatus.RUNNING
        || run.iteration[i] != d.iteration()
        || run.attempt[i] != d.attempt()) {
      return; // cancelled meanwhile, or an answer to an attempt that timed out
    }
    if (d.ok()) {
      succeeded(node, d.text());
    } else if (Answers.exhausted(d.text())) {
      end(node, TaskStatus.FAILED, d.text()); // another attempt would be refused as well
    } else if (d.attempt() < node.attempts()) {
      publish(node, Transition.RETRIED, d.attempt(), null, d.text());
      AgentId self = ctx.self();
      AgentContext c = ctx;
      RetryDue due = new RetryDue(d.task(), d.iteration(), d.attempt() + 1);
      runner.later(node.backoffBefore(d.attempt() + 1), () -> c.send(self, due));
      run.setAttempt(i, -d.attempt()); // negative: waiting out the backoff
    } else {
      end(node, TaskStatus.FAILED, d.text());
    }
    drain();
  }

  /** RELIABLE: a task's agent replied to request {@code m.correlationId()}. */
  private void replied(Envelope m) {
    if (!requireStarted()) {
      return;
    }
    Integer at = run.requests.get(m.correlationId());
    if (at == null) {
      log.debug("run {}: late reply to request {} ignored", runId, m.correlationId());
      return;
    }
    answered(run.graph.nodes().get(at), m.correlationId(), Answers.of(m.payload()));
  }

  /**
   * An answer that is not a reply: a task's agent that sends its answer to its sender instead of
   * replying to the request. It is the answer of the one task under way at that agent, if there is
   * exactly one; otherwise it cannot be told apart and is ignored.
   */
  private void unrequested(Object payload) {
    Envelope m = current;
    if (run == null
        || m == null
        || m.delivery() != DeliveryMode.RELIABLE
        || !(payload instanceof String
            || payload instanceof dev.cfn.ai.TaskResult
            || payload instanceof dev.cfn.ai.TaskFailed)) {
      log.warn(
          "run {}: coordinator ignores a {} it does not understand (a task's agent answers a task"
              + " with ctx.reply)",
          runId,
          payload.getClass().getName());
      return;
    }
    Node found = null;
    for (Node node : run.running()) {
      if (!run.legacy[node.index()] && m.sender().equals(target(node))) {
        if (found != null) {
          found = null;
          break;
        }
        found = node;
      }
    }
    if (found == null) {
      log.warn(
          "run {}: an answer from {} that is not a reply cannot be matched to one task (fix: answer"
              + " a task with ctx.reply, as TaskWorker does)",
          runId,
          m.sender());
      return;
    }
    answered(found, run.asked[found.index()], Answers.of(payload));
  }

  /**
   * RELIABLE: the answer to request {@code request} of a task. Any success is the task's result,
   * even one to an attempt that timed out (every attempt carries the same input); a failure counts
   * only for the attempt under way.
   */
  private void answered(Node node, long request, WorkerAnswer a) {
    int i = node.index();
    if (run.status[i] != TaskStatus.RUNNING) {
      return;
    }
    if (a.ok()) {
      cancelTimer(i);
      run.setAttempt(i, Math.abs(run.attempt[i]));
      succeeded(node, a.text());
    } else if (request == run.asked[i] && run.attempt[i] > 0) {
      failedAttempt(node, run.attempt[i], a.text());
    } else {
      return;
    }
    drain();
  }

  /** RELIABLE: attempt {@code attempt} failed; retry it (now, or after its backoff) or fail. */
  private void failedAttempt(Node node, int attempt, String why) {
    int i = node.index();
    cancelTimer(i);
    if (Answers.exhausted(why)) {
      end(node, TaskStatus.FAILED, why); // another attempt would be refused as well
    } else if (attempt < node.attempts()) {
      publish(node, Transition.RETRIED, attempt, null, why);
      if (node.backoffBefore(attempt + 1).isZero()) {
        attempt(node, attempt + 1);
      } else {
        run.setAttempt(i, -attempt); // negative: waiting out the backoff
        armRetry(node, attempt + 1);
      }
    } else {
      end(
          node,
          TaskStatus.FAILED,
          "failed after " + attempt + " attempt" + (attempt == 1 ? "" : "s") + ": " + why);
    }
  }

  private void armTimeout(Node node, int attempt) {
    setTimer(node.index(), node.timeout());
  }

  private void armRetry(Node node, int next) {
    setTimer(node.index(), node.backoffBefore(next));
  }

  /**
   * Sets task {@code i}'s timer (RELIABLE runs). A timer per task on the runner's scheduler cost a
   * schedule and a cancel per task, a tenth of a wide graph's coordinator time; so a task's timer
   * is only a time in {@link #due}, and the runner wakes this agent once, at the earliest of them.
   */
  private void setTimer(int i, Duration delay) {
    if (due.length <= i) {
      due = java.util.Arrays.copyOf(due, run.graph.nodes().size());
    }
    long at = System.nanoTime() + Math.max(0, delay.toNanos());
    due[i] = at == 0 ? 1 : at; // 0 means no timer
    wakeAt(at, delay);
  }

  private void wakeAt(long at, Duration delay) {
    if (wakeup != null && wakeupAt - at <= 0) {
      return; // the wake-up already set comes first
    }
    if (wakeup != null) {
      wakeup.cancel(false);
    }
    AgentId self = ctx.self();
    TimersDue message = new TimersDue(at);
    wakeupAt = at;
    wakeup = runner.later(delay, () -> runner.sendToSelf(self, message));
  }

  private void cancelTimer(int i) {
    if (i < due.length) {
      due[i] = 0;
    }
  }

  /** RELIABLE: the wake-up came; fire every task timer that is due and wake again for the rest. */
  private void timersDue(TimersDue t) {
    if (wakeup != null && t.at() == wakeupAt) {
      wakeup = null;
    }
    if (run == null) {
      return;
    }
    long now = System.nanoTime();
    int[] fire = new int[8];
    int count = 0;
    long next = 0;
    boolean more = false;
    for (int i = 0; i < due.length; i++) {
      long at = due[i];
      if (at == 0) {
        continue;
      }
      if (at - now <= 0) {
        due[i] = 0;
        if (count == fire.length) {
          fire = java.util.Arrays.copyOf(fire, count * 2);
        }
        fire[count++] = i;
      } else if (!more || at - next < 0) {
        next = at;
        more = true;
      }
    }
    for (int k = 0; k < count; k++) {
      fireTimer(run.graph.nodes().get(fire[k]));
    }
    if (more) {
      wakeAt(next, Duration.ofNanos(Math.max(0, next - System.nanoTime())));
    }
    drain();
  }

  private void fireTimer(Node node) {
    int i = node.index();
    if (run.status[i] != TaskStatus.RUNNING || run.legacy[i]) {
      return;
    }
    int attempt = run.attempt[i];
    if (attempt > 0) {
      failedAttempt(
          node,
          attempt,
          "attempt " + attempt + " had no answer within " + node.timeout().toMillis() + " ms");
    } else if (attempt < 0) {
      attempt(node, -attempt + 1); // the backoff is over
    }
  }

  private void retryDue(RetryDue r) {
    Node node = run == null ? null : run.graph.node(r.task());
    if (node == null) {
      return;
    }
    int i = node.index();
    if (run.status[i] == TaskStatus.RUNNING
        && run.iteration[i] == r.iteration()
        && run.attempt[i] == -(r.attempt() - 1)) {
      attempt(node, r.attempt());
      drain(); // the attempt may have ended the task (a swarm's budget used up)
    }
  }

  /** What an agent's reply means: a result or a failure. */
  static WorkerAnswer answer(Envelope reply) {
    return Answers.of(reply.payload());
  }

  static String describe(Throwable error) {
    Throwable e =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  // ---------------------------------------------------------------- events

  private void publish(Node node, Transition t, int attempt, AgentId agent, String detail) {
    if (!runner.listened(t.topic())) {
      return; // nobody subscribes to these events: build none (most steps of a busy graph)
    }
    ctx.publish(
        topic(t),
        new FlowEvent(
            runId,
            node.id(),
            run.iteration[node.index()],
            t,
            null,
            Math.max(0, attempt),
            agent == null ? null : agent.toString(),
            detail));
  }

  private TopicId topic(Transition t) {
    TopicId topic = topics[t.ordinal()];
    if (topic == null) {
      topic = TopicId.of(t.topic(), runId);
      topics[t.ordinal()] = topic;
    }
    return topic;
  }

  private AgentId target(Node node) {
    int i = node.index();
    if (targets.length <= i) {
      targets = java.util.Arrays.copyOf(targets, run.graph.nodes().size());
    }
    AgentId target = targets[i];
    if (target == null && node.capability() == null) {
      target = node.target(runId);
      targets[i] = target;
    }
    return target; // a swarm's task: the member of its last attempt, null before one (or restart)
  }

  private void publishRun(RunStatus status, String detail) {
    String type = RUN_TOPICS[status.ordinal()];
    if (runner.listened(type)) {
      ctx.publish(
          TopicId.of(type, runId), new FlowEvent(runId, null, 0, null, status, 0, null, detail));
    }
  }

  /** The topic type of each run status's events. */
  private static final String[] RUN_TOPICS = new String[RunStatus.values().length];

  static {
    for (RunStatus s : RunStatus.values()) {
      RUN_TOPICS[s.ordinal()] =
          FlowEvent.RUN_TOPIC + "." + s.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
