package dev.cfn.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
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
      cell.dispatcher.started(m.createdNanos());
      cell.agent().onMessage(m, cell);
      afterHandler(cell);
    } catch (Throwable t) {
      failed(cell, t);
      deadLetters.add(m, DeadLetter.Reason.HANDLER_FAILED, t.toString());
      cell.supervise(t);
    } finally {
      cell.current = null;
      counted(cell, m);
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
    boolean first = acknowledge.firstHandling(m);
    if (!acknowledge.shouldHandle(m)) {
      counted(cell, m);
      return;
    }
    if (cell.singles > 0) {
      cell.singles--; // after a failed batch: one message per turn
    } else if (cell.type.spec.reliableBatch() > 1 && acknowledge.journal().acknowledgesTogether()) {
      batch(cell, m, cell.type.spec.reliableBatch(), first);
      return;
    }
    EffectsBuffer fx = new EffectsBuffer(cell.id, acknowledge.journal(), ids, swarmRules);
    fx.firstDelivery = first;
    cell.current = m;
    cell.effects = fx;
    try {
      cell.dispatcher.started(m.createdNanos());
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
                fx.discarded();
                acknowledge.failed(m, failure);
                cell.resume();
              } else {
                acknowledge.succeeded(m, fx, cell::resume);
              }
            });
      } else if (fx.used()) {
        // The next message must see this one's state: pause the agent (holding its schedule
        // flag, as during a restart backoff) until the acknowledgement and its effects commit.
        cell.suspend();
        acknowledge.succeeded(m, fx, cell::resume);
      } else {
        acknowledge.succeeded(m, fx, null);
      }
    } catch (Throwable t) {
      fx.discarded();
      failed(cell, t);
      acknowledge.failed(m, t);
      cell.supervise(t);
    } finally {
      cell.current = null;
      cell.effects = null;
      counted(cell, m);
    }
  }

  /**
   * A batch (see {@link AgentType.Builder#reliableBatch}): handles {@code first} and then up to
   * {@code max - 1} more RELIABLE messages already queued, with one effects buffer, and
   * acknowledges them together in one transaction while the agent waits (suspended) for it. A
   * handler that throws ends the batch with nothing acknowledged: the failing message takes the
   * usual retry path and the ones before it are handled again, one per turn. A failed transaction
   * hands the whole batch back the same way.
   */
  private void batch(AgentCell cell, Envelope first, int max, boolean firstHandling) {
    EffectsBuffer fx = new EffectsBuffer(cell.id, acknowledge.journal(), ids, swarmRules);
    List<Envelope> taken = new ArrayList<>();
    Mailbox mb = cell.mailbox();
    Envelope m = first;
    CompletableFuture<Void> deferred = null;
    try {
      while (true) {
        taken.add(m);
        fx.firstDelivery = firstHandling;
        cell.current = m;
        cell.effects = fx;
        cell.dispatcher.started(m.createdNanos());
        cell.agent().onMessage(m, cell);
        deferred = cell.takeDeferred();
        if (deferred != null || taken.size() >= max || !cell.isActive()) {
          break;
        }
        Envelope next = cell.nextMessage(mb);
        while (next != null && next.delivery() == DeliveryMode.RELIABLE) {
          firstHandling = acknowledge.firstHandling(next);
          if (acknowledge.shouldHandle(next)) {
            break;
          }
          counted(cell, next); // a recovered duplicate, skipped as in the single path
          next = cell.nextMessage(mb);
        }
        if (next == null) {
          break;
        }
        if (next.delivery() != DeliveryMode.RELIABLE) {
          cell.pushFront(next); // handled after this batch's commit, as after a single message
          break;
        }
        m = next;
      }
    } catch (Throwable t) {
      cell.current = null;
      cell.effects = null;
      fx.discarded();
      Envelope failing = taken.removeLast();
      cell.takeDeferred(); // a failing handler's sends go on without the pause, as in the single
      // path
      cell.handleAgainOneByOne(taken);
      failed(cell, t);
      acknowledge.failed(failing, t);
      cell.supervise(t);
      if (!taken.isEmpty() && cell.type.spec.supervision() instanceof SupervisionStrategy.Resume) {
        cell.replaceInstance(); // its memory holds what the batch did and nothing committed
      }
      counted(cell, failing);
      return;
    }
    cell.current = null;
    cell.effects = null;
    for (Envelope e : taken) {
      counted(cell, e);
    }
    cell.suspend();
    if (deferred != null) {
      deferred.whenComplete(
          (x, t) -> {
            Throwable failure = cell.peekDeferredFailure();
            if (failure != null) {
              // the last handler's send failed: it fails; the others are handled again
              fx.discarded();
              Envelope last = taken.getLast();
              cell.handleAgainLater(taken.subList(0, taken.size() - 1));
              acknowledge.failed(last, failure);
              cell.resume();
            } else {
              acknowledge.succeededTogether(taken, fx, cell::handleAgainLater, cell::resume);
            }
          });
    } else {
      acknowledge.succeededTogether(taken, fx, cell::handleAgainLater, cell::resume);
    }
  }

  /**
   * Counts {@code m} handled (the runtime's delivered count, which drain checks compare with the
   * accepted count) unless it is a message of a failed batch handled again, counted the first time.
   */
  private static void counted(AgentCell cell, Envelope m) {
    if (cell.counted > 0) {
      cell.counted--;
      return;
    }
    cell.processed++;
    cell.dispatcher.delivered(m.createdNanos());
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
