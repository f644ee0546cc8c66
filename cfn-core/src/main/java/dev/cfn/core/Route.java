package dev.cfn.core;

/**
 * Stage 3 of the message path: finds where a validated message goes. A point-to-point message goes
 * to its agent's cell (activated on first use); a publication to the agent of every matching
 * subscription; a reply to the waiting request's future. RELIABLE messages pass through the journal
 * stage ({@link JournalAppend}) first; everything else goes straight to {@link Enqueue}. What has
 * nowhere to go becomes a dead letter.
 */
final class Route {
  private final Directory directory;
  private final TopicRouter router;
  private final Replies replies;
  private final DeadLetterSink deadLetters;
  private final Admit admit;
  private final JournalAppend journal; // null without a journal
  private final Enqueue enqueue;
  private final SwarmRules swarmRules;

  Route(
      Directory directory,
      TopicRouter router,
      Replies replies,
      DeadLetterSink deadLetters,
      Admit admit,
      JournalAppend journal,
      Enqueue enqueue,
      SwarmRules swarmRules) {
    this.directory = directory;
    this.router = router;
    this.replies = replies;
    this.deadLetters = deadLetters;
    this.admit = admit;
    this.journal = journal;
    this.enqueue = enqueue;
    this.swarmRules = swarmRules;
  }

  /**
   * Routes any message: RELIABLE, publication, reply or point-to-point. Returns the id the message
   * goes under: its own, or for a RELIABLE message whose idempotency key was already journaled, the
   * first message's (see {@link JournalAppend#append}).
   */
  long route(Envelope e, boolean internal) {
    if (e.delivery() == DeliveryMode.RELIABLE) {
      if (journal == null) {
        throw new IllegalStateException(
            "RELIABLE delivery needs a durable journal and this runtime has none; send it"
                + " BEST_EFFORT or configure one with AgentRuntime.builder().journal(...)"
                + " (cfn-store's SqliteJournal)");
      }
      if (!admit.admits(internal)) {
        throw new IllegalStateException(
            "the runtime is shutting down; no more messages are accepted");
      }
      swarmRules.checkReliable(e);
      return journal.append(e);
    }
    if (e.topic() != null) {
      publish(e, internal);
    } else if (e.isReply()) {
      reply(e);
    } else {
      deliverTo(e, internal);
    }
    return e.id();
  }

  /** The replies to RELIABLE requests, or null without a journal. */
  ReliableReplies reliableReplies() {
    return journal == null ? null : journal.replies();
  }

  /** A point-to-point BEST_EFFORT message (the hot path). */
  void deliverTo(Envelope e, boolean internal) {
    toCell(directory.cellFor(e.recipient()), e, internal);
  }

  /** A point-to-point message whose cell the caller resolved already (null: no such type). */
  void toCell(AgentCell cell, Envelope e, boolean internal) {
    if (cell == null) {
      if (admit.isTerminated()) {
        enqueue.refuse(e, internal);
      } else {
        deadLetters.add(e, DeadLetter.Reason.NO_SUCH_AGENT_TYPE, noType(e.recipient()));
      }
      return;
    }
    swarmRules.check(cell, e);
    enqueue.enqueue(cell, e, internal);
  }

  void publish(Envelope e, boolean internal) {
    if (admit.isTerminated()) {
      enqueue.refuse(e, internal);
      return;
    }
    TopicRouter.Entry[] subs = router.match(e.topic().type());
    if (subs.length == 0) {
      if (!e.topic().type().startsWith("cfn.")) {
        deadLetters.add(
            e, DeadLetter.Reason.NO_SUBSCRIBERS, "no subscription matches " + e.topic());
      }
      return;
    }
    RuntimeException first = null;
    for (TopicRouter.Entry sub : subs) {
      AgentId target = sub.target(e.topic());
      AgentCell cell = directory.cellFor(target);
      if (cell == null) {
        deadLetters.add(e, DeadLetter.Reason.NO_SUCH_AGENT_TYPE, noType(target));
        continue;
      }
      try {
        swarmRules.check(cell, e);
        enqueue.enqueue(cell, e, internal);
      } catch (MailboxFullException | SwarmRuleException ex) {
        if (first == null) {
          first = ex;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** A reply completes its request's future, or is a late reply if nothing waits for it. */
  void reply(Envelope r) {
    if (!replies.complete(r)) {
      deadLetters.add(
          r,
          DeadLetter.Reason.LATE_REPLY,
          "request " + r.correlationId() + " timed out or was already answered");
    }
  }

  private static String noType(AgentId id) {
    return "no agent type '" + id.type() + "' is registered for " + id;
  }
}
