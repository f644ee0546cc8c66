package dev.cfn.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.CompletableFuture;

/**
 * Stage 7 of the message path: calls the agent's handler with one message, on the thread its
 * dispatcher (stage 6) runs the turn on. A failure is counted, published as a lifecycle event and
 * dead-lettered, then handed to the agent's supervision ({@link AgentCell}); a BEST_EFFORT message
 * is then acknowledged by counting it delivered. A RELIABLE message runs with an effects buffer and
 * goes on to {@link Acknowledge} (stage 8).
 */
final class Invoke {
  private final DeadLetterSink deadLetters;
  private final Lifecycle lifecycle;
  private final Acknowledge acknowledge; // null without a journal
  private final Ids ids;
  private final Counter handlerFailures;
  private final Counter restarts;
  private final SwarmRules swarmRules; // for the outbox's sends

  Invoke(
      DeadLetterSink deadLetters,
      Lifecycle lifecycle,
      Acknowledge acknowledge,
      Ids ids,
      MeterRegistry registry,
      SwarmRules swarmRules) {
    this.swarmRules = swarmRules;
    this.deadLetters = deadLetters;
    this.lifecycle = lifecycle;
    this.acknowledge = acknowledge;
    this.ids = ids;
    this.handlerFailures = Counter.builder(CfnMetrics.HANDLER_FAILURES).register(registry);
    this.restarts = Counter.builder(CfnMetrics.AGENT_RESTARTS).register(registry);
  }

  /** Calls onStart; a failure goes to supervision like a handler's. */
  void start(AgentCell cell) {
    try {
      cell.agent().onStart(cell);
    } catch (Throwable t) {
      cell.failures++;
      handlerFailures.increment();
      AgentCell.log.warn("agent {} failed in onStart: {}", cell.id, t.toString());
      lifecycle.publish(cell.id, LifecycleEvent.Kind.FAILED, "onStart: " + t);
      cell.supervise(t);
    }
  }

  void message(AgentCell cell, Envelope m) {
    if (m.delivery() == DeliveryMode.RELIABLE) {
      reliable(cell, m);
      return;
    }
    cell.current = m;
    try {
      cell.agent().onMessage(m, cell);
      afterHandler(cell);
    } catch (Throwable t) {
      failed(cell, t);
      deadLetters.add(m, DeadLetter.Reason.HANDLER_FAILED, t.toString());
      cell.supervise(t);
    } finally {
      cell.current = null;
      cell.processed++;
      cell.dispatcher.delivered(m.createdNanos());
    }
  }

  /**
   * After a handler (or onStart) returned normally: if it left deferred sends (see {@link
   * AgentCell#defer}), suspend the agent until they complete, so its next message sees them done
   * and the carrier runs other agents meanwhile. A handler that threw leaves its deferred sends
   * running without the pause: supervision has the agent already.
   */
  void afterHandler(AgentCell cell) {
    CompletableFuture<Void> deferred = cell.takeDeferred();
    if (deferred != null && cell.isActive()) { // not while a restart backoff already pauses it
      cell.suspend();
      deferred.whenComplete((x, t) -> cell.resume());
    }
  }

  /** A deferred send failed (after its handler returned): supervise as for a handler failure. */
  void deferredSendFailed(AgentCell cell, Throwable t) {
    AgentCell.log.warn("a send by agent {} failed after its handler returned: {}", cell.id, t);
    failed(cell, t);
    cell.supervise(t);
  }

  /**
   * A RELIABLE message: skip it if it was already acknowledged; otherwise run the handler with an
   * effects buffer, then acknowledge (committing the effects) or record the failure for a retry.
   */
  private void reliable(AgentCell cell, Envelope m) {
    if (!acknowledge.shouldHandle(m)) {
      cell.processed++;
      cell.dispatcher.delivered(m.createdNanos());
      return;
    }
    EffectsBuffer fx = new EffectsBuffer(cell.id, acknowledge.journal(), ids, swarmRules);
    cell.current = m;
    cell.effects = fx;
    try {
      cell.agent().onMessage(m, cell);
      CompletableFuture<Void> deferred = cell.takeDeferred();
      if (deferred != null) {
        // Its RELIABLE sends are not durable yet (or wait for room): acknowledge only once they
        // are, so a crash before that redelivers this message; a failed send fails the message.
        cell.suspend();
        deferred.whenComplete(
            (x, t) -> {
              Throwable failure = cell.peekDeferredFailure();
              if (failure != null) {
                acknowledge.failed(m, failure);
                cell.resume();
              } else {
                acknowledge.succeeded(m, fx.effects(), cell::resume);
              }
            });
      } else if (fx.used()) {
        // The next message must see this one's state: pause the agent (holding its schedule
        // flag, as during a restart backoff) until the acknowledgement and its effects commit.
        cell.suspend();
        acknowledge.succeeded(m, fx.effects(), cell::resume);
      } else {
        acknowledge.succeeded(m, fx.effects(), null);
      }
    } catch (Throwable t) {
      failed(cell, t);
      acknowledge.failed(m, t);
      cell.supervise(t);
    } finally {
      cell.current = null;
      cell.effects = null;
      cell.processed++;
      cell.dispatcher.delivered(m.createdNanos());
    }
  }

  private void failed(AgentCell cell, Throwable t) {
    cell.failures++;
    handlerFailures.increment();
    lifecycle.publish(cell.id, LifecycleEvent.Kind.FAILED, t.toString());
  }

  void restarted(AgentCell cell, Throwable cause) {
    restarts.increment();
    lifecycle.publish(cell.id, LifecycleEvent.Kind.RESTARTED, cause.toString());
  }
}
