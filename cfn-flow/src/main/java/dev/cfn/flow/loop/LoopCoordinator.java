package dev.cfn.flow.loop;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import dev.cfn.core.TopicId;
import dev.cfn.flow.loop.LoopStep.Phase;
import dev.cfn.flow.loop.Messages.Call;
import dev.cfn.flow.loop.Messages.Decide;
import dev.cfn.flow.loop.Messages.Indexed;
import dev.cfn.flow.loop.Messages.ResumeLoop;
import dev.cfn.flow.loop.Messages.StartLoop;
import dev.cfn.flow.loop.Messages.StepDone;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's coordinator, the agent {@code cfn-loop/RUN}. Its whole state is the run's {@link
 * LoopRecord} in its journal namespace; every message is RELIABLE, and what it changes (the record,
 * the calls it sends, the index entry) commits with the message's acknowledgement. So a crash
 * between two commits redelivers the last message, which is handled again from the committed
 * record: no call is sent twice and no step is recorded twice. While a run waits for a person
 * nothing runs for it: the record says WAITING until a {@link Decide} arrives.
 */
final class LoopCoordinator implements Agent {
  static final String TYPE = "cfn-loop";
  private static final Logger log = LoggerFactory.getLogger(LoopCoordinator.class);

  /** Steps are kept in this order, whatever order the answers arrived in. */
  static final Comparator<LoopStep> ORDER =
      Comparator.comparingInt(LoopStep::iteration)
          .thenComparing(LoopStep::phase)
          .thenComparingInt(LoopStep::index);

  private final LoopRunner runner;
  private final String runId;

  LoopCoordinator(LoopRunner runner, AgentId id) {
    this.runner = runner;
    this.runId = id.key();
  }

  @Override
  public void onMessage(Envelope m, AgentContext ctx) {
    if (m.isReply()) {
      return;
    }
    Effects effects = ctx.effects();
    LoopRecord record = effects.get(LoopRecord.STATE_KEY).map(LoopRecord::fromJson).orElse(null);
    switch (m.payload()) {
      case StartLoop s -> {
        if (record != null) {
          log.debug("loop {}: already started; a second start changes nothing", runId);
          report(record);
          return;
        }
        advance(ctx, LoopRecord.fromJson(s.recordJson()), null, null);
      }
      case StepDone d -> {
        if (record == null || record.status() != LoopStatus.RUNNING) {
          log.debug("loop {}: step {} arrives for a run that is not running", runId, d.callId());
          return;
        }
        LoopStep step = Steps.read(Steps.fromJson(d.stepJson()));
        if (LoopMachine.find(record.steps(), step.iteration(), step.phase(), step.index())
            != null) {
          return; // recorded already
        }
        List<LoopStep> steps = new ArrayList<>(record.steps());
        steps.add(step);
        steps.sort(ORDER);
        advance(ctx, record, steps, step);
      }
      case Decide d -> {
        if (record == null || record.status() != LoopStatus.WAITING) {
          log.warn(
              "loop {}: a person's decision for a run that does not wait for one is ignored",
              runId);
          if (record != null) {
            report(record);
          }
          return;
        }
        LoopMachine.Evaluation e =
            LoopMachine.evaluate(record.spec(), record.task(), record.steps());
        if (!(e.next() instanceof LoopMachine.Waiting w)) {
          throw new IllegalStateException("loop " + runId + " is WAITING but its rules say " + e);
        }
        List<LoopStep> steps = new ArrayList<>(record.steps());
        LoopStep decided = human(w.iteration(), d.decision(), d.note(), d.at());
        steps.add(decided);
        advance(ctx, record, steps, decided);
      }
      case ResumeLoop r -> {
        if (record != null) {
          report(record);
        }
      }
      default ->
          log.warn(
              "loop {}: the coordinator ignores a {}", runId, m.payload().getClass().getName());
    }
  }

  /**
   * Applies the rules to {@code steps} (null: the record's), sends the calls due, stores the record
   * and tells the index, which reports a settled run once this commit is done.
   */
  private void advance(
      AgentContext ctx, LoopRecord record, List<LoopStep> steps, LoopStep recorded) {
    Effects effects = ctx.effects();
    if (recorded != null) {
      publish(ctx, answered(recorded, record.status()));
    }
    List<LoopStep> all = new ArrayList<>(steps == null ? record.steps() : steps);
    LoopMachine.Evaluation e;
    while (true) {
      e = LoopMachine.evaluate(record.spec(), record.task(), all);
      if (!(e.next() instanceof LoopMachine.Waiting w)) {
        break;
      }
      LoopStep preset = LoopMachine.find(record.presetDecisions(), w.iteration(), Phase.HUMAN, 0);
      if (preset == null) {
        break;
      }
      all.add(preset); // a replay: the person's recorded decision, instead of waiting
    }
    Set<String> dispatched = new LinkedHashSet<>(record.dispatched());
    LoopStatus status;
    String reason;
    switch (e.next()) {
      case LoopMachine.Calls c -> {
        status = LoopStatus.RUNNING;
        reason = null;
        for (LoopMachine.Call call : c.calls()) {
          if (dispatched.add(call.id())) {
            publish(
                ctx,
                new LoopEvent(
                    runId,
                    LoopEvent.Kind.ASKED,
                    call.iteration(),
                    call.phase(),
                    call.agent(),
                    call.index(),
                    LoopStatus.RUNNING,
                    true,
                    null,
                    null));
            effects.send(
                LoopCall.id(runId, call),
                new Call(
                    runId,
                    record.keyRun(),
                    call.iteration(),
                    call.phase().name(),
                    call.index(),
                    call.agent(),
                    call.prompt(),
                    record.spec().callTimeoutMillis()));
          }
        }
      }
      case LoopMachine.Waiting w -> {
        status = LoopStatus.WAITING;
        reason = w.reason();
      }
      case LoopMachine.Finished f -> {
        status = f.status();
        reason = f.reason();
      }
    }
    LoopRecord next = record.with(status, reason, e.decisions(), all, List.copyOf(dispatched));
    String json = next.toJson();
    effects.put(LoopRecord.STATE_KEY, json);
    if (status != record.status() || steps == null) {
      publish(
          ctx,
          new LoopEvent(
              runId,
              LoopEvent.Kind.RUN,
              next.iterations(),
              null,
              null,
              0,
              status,
              true,
              null,
              reason));
      effects.send(
          LoopRunner.INDEX,
          new Indexed(
              runId,
              status.name(),
              runner.clock().millis(),
              status == LoopStatus.RUNNING ? null : json));
    }
  }

  private LoopEvent answered(LoopStep s, LoopStatus status) {
    String detail =
        !s.ok()
            ? s.note().isEmpty() ? s.text() : s.note()
            : s.decision() != null ? s.decision() : s.verdict();
    return new LoopEvent(
        runId,
        LoopEvent.Kind.ANSWERED,
        s.iteration(),
        s.phase(),
        s.agent(),
        s.index(),
        status,
        s.ok(),
        s.confidence(),
        detail);
  }

  /** Publishes {@code e}; an event that cannot be published changes nothing about the run. */
  private void publish(AgentContext ctx, LoopEvent e) {
    try {
      ctx.publish(TopicId.of(e.topic(), runId), e);
    } catch (RuntimeException ex) {
      log.debug("loop {}: event {} not published: {}", runId, e.kind(), ex.toString());
    }
  }

  static LoopStep human(int iteration, String decision, String note, long at) {
    return new LoopStep(
        iteration,
        Phase.HUMAN,
        "person",
        0,
        true,
        decision,
        null,
        null,
        null,
        null,
        decision,
        note,
        null,
        0,
        0,
        null,
        at,
        at,
        false);
  }

  /** Reports a settled run whose record is committed already. */
  private void report(LoopRecord record) {
    if (record.status() != LoopStatus.RUNNING) {
      runner.settled(record);
    }
  }
}
