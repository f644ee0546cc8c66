package dev.cfn.flow.swarm;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.JournalException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable swarm's ledger: what its members spent on model calls and how many messages its
 * topology refused, kept in the journal in the state of the agent {@code cfn-swarm-ledger/NAME} and
 * read back when the swarm is built again on the same journal.
 *
 * <p><b>Spend</b> is written by the members' budgets ({@link Swarm#memberBudget}): every charge of
 * one, made right after its model call answered and before the answer is used, sends the call's
 * usage to the ledger as a RELIABLE message whose handler adds it to the totals. The charge is
 * durable once that message is journaled, so the charge waits for the journal's append and nothing
 * more (not for the ledger to apply it: {@link #restore} applies what is pending first). Where the
 * answer's record joins the acknowledgement of the RELIABLE request the member is handling ({@code
 * LlmAgent}'s final answer to a RELIABLE request without an idempotency key), the message joins
 * that acknowledgement's outbox instead ({@link Budget#charge(Usage, String, Effects)}): the record
 * and the charge commit together, or neither does, and the charge costs no fsync of its own.
 *
 * <p><b>Counted once.</b> A call replayed from a call log is not charged (the agent does not charge
 * a replay), and its spend is journaled before its record is written, since the charge comes first;
 * a call whose record rides an acknowledgement is charged in the same commit. So every model call
 * whose answer was recorded or used is counted exactly once. The one window left is the one no
 * design can close: between the provider's answer and the first fsync that holds it, the usage
 * exists only in memory; a crash there loses the answer with its usage, nobody used that answer,
 * and the task, when it is delivered again, makes the call again and is charged for it once (the
 * provider bills both: the call log's documented crash window, at most one call per task in flight
 * at the crash). The ledger thus never counts more calls than the provider billed, and fewer by at
 * most one per task in flight at each crash. Closing the window would take a durable mark before
 * every model call (one more fsync per call, for a one-turn RELIABLE task two commits instead of
 * one) and would still not know the lost call's tokens, nor whether a marked call left the process
 * before the crash; the call itself would be made again all the same (providers' chat APIs take no
 * idempotency key), so the window stays, documented. On the call log's path, a crash after the
 * charge's append and before the record's commit counts that call and the one made again: two
 * calls, as the provider bills them.
 *
 * <p><b>Failed commits.</b> A commit that fails without a crash (a full disk, an I/O error) does
 * not make the ledger and the budgets in memory disagree. The budget in memory keeps every charge
 * (the call was made and billed whatever becomes of its commit, and only that count bounds what a
 * task retried against a failing disk spends: each attempt calls the model again). The ledger gets
 * the same charge by another route: an acknowledgement carrying a charge that is discarded ({@link
 * Effects#whenDiscarded}) has that charge journaled on its own, and a charge whose own send the
 * journal refused is sent again; both by a thread of the ledger, with backoff while the journal
 * refuses. So once those sends are journaled (at once when the journal works again) the ledger
 * counts every call the budgets in memory count, and a restart restores that count. Until then a
 * crash loses them, as it loses any charge not yet journaled (the window above). A charge from a
 * non-blocking agent's handler on a carrier is journaled before that agent's next message and
 * before its RELIABLE message's acknowledgement, not before the charge returns.
 *
 * <p><b>Restore</b> asks the ledger's agent for its totals (a RELIABLE request), so a charge
 * journaled but not yet applied when the process died, recovered from the journal at the restart
 * and queued before that request, is counted too.
 *
 * <p><b>Bounded.</b> The ledger holds four totals per model, the refusal count and the last {@value
 * Swarm#RECENT_REFUSALS} refusal reasons: no row per call. (Ledgers written before kept a mark per
 * call; the first build on such a ledger deletes the marks, {@value #COMPACT_BATCH} per commit.)
 * Payloads are strings, so no journal needs a payload type for it.
 */
final class Ledger {
  private static final Logger LOG = LoggerFactory.getLogger(Ledger.class);

  /** The agent type of the ledgers, registered on the runtime by the first durable swarm. */
  static final String TYPE = "cfn-swarm-ledger";

  /** How long a read, a refusal or a clearing waits for the ledger's answer. */
  static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(30);

  /** How many queued messages the ledger applies in one commit at most. */
  static final int APPLY_BATCH = 256;

  /** How many marks of an older ledger one compaction commit deletes. */
  static final int COMPACT_BATCH = 1_000;

  private static final String SPEND = "spend";
  private static final String CHARGE = "charge"; // an older ledger's, with a mark per call
  private static final String REFUSED = "refused";
  private static final String COMPACT = "compact";
  private static final String CLEAR = "clear";
  private static final String READ = "read";
  private static final char SEP = '\n';
  private static final String MARK = "call.";
  private static final String SPENT = "spent.";
  private static final String CALLS = "spent.calls.";
  private static final String INPUT = "spent.input.";
  private static final String OUTPUT = "spent.output.";
  private static final String CACHED = "spent.cached.";
  private static final String REFUSED_KEY = "refused";
  private static final String RECENT = "recent.";

  private final AgentRuntime runtime;
  private final Journal journal;
  private final AgentId id;
  private final Budget budget;
  private final AtomicLong pendingRefusals = new AtomicLong();
  private final List<String> pendingReasons = new ArrayList<>(); // guarded by itself
  private final AtomicBoolean flushing = new AtomicBoolean();
  private final Queue<String> resends = new ConcurrentLinkedQueue<>(); // spend to journal again
  private final AtomicBoolean resending = new AtomicBoolean();
  private final AtomicLong resent = new AtomicLong();

  Ledger(AgentRuntime runtime, Journal journal, String swarm, Budget budget) {
    this.runtime = runtime;
    this.journal = journal;
    this.id = AgentId.of(TYPE, swarm);
    this.budget = budget;
    try {
      // Its handler keeps nothing in memory, so it may take a batch of queued messages (spend
      // above all) in one turn and apply them in one commit instead of one commit each.
      runtime.register(
          AgentType.builder(TYPE, ledgerId -> handler()).reliableBatch(APPLY_BATCH).build());
    } catch (IllegalStateException alreadyRegistered) {
      // another durable swarm on this runtime registered it; the handler serves every ledger alike
    }
  }

  /** The ledger's agent: applies spend, refusal counts, compaction and clearing to its state. */
  private static Agent handler() {
    return (m, ctx) -> {
      if (!(m.payload() instanceof String s)) {
        return;
      }
      String[] f = s.split(String.valueOf(SEP), -1);
      if (f[0].equals(SPEND) && f.length == 5) {
        spend(ctx.effects(), f[1], f[2], f[3], f[4]);
      } else if (f[0].equals(CHARGE) && f.length == 7) {
        // sent by an older version, which marked each call; still pending at the upgrade
        if (ctx.effects().get(MARK + f[1]).isEmpty()) {
          spend(ctx.effects(), f[2], f[3], f[4], f[5]);
        }
      } else if (f[0].equals(REFUSED) && f.length >= 2) {
        long total = ctx.effects().increment(REFUSED_KEY, Long.parseLong(f[1]));
        int reasons = f.length - 2;
        for (int i = 0; i < reasons; i++) {
          long seq = total - reasons + 1 + i;
          ctx.effects()
              .put(RECENT + Math.floorMod(seq, Swarm.RECENT_REFUSALS), seq + "\t" + f[2 + i]);
        }
      } else if (f[0].equals(COMPACT)) {
        List<String> marks = List.copyOf(ctx.effects().getByPrefix(MARK, COMPACT_BATCH).keySet());
        marks.forEach(ctx.effects()::delete);
        if (marks.size() == COMPACT_BATCH) {
          ctx.effects().send(ctx.self(), COMPACT); // the next batch, in a commit of its own
        }
      } else if (f[0].equals(CLEAR)) {
        List<String> keys = new ArrayList<>();
        keys.addAll(ctx.effects().getByPrefix(SPENT, Journal.MAX_PREFIX_ENTRIES).keySet());
        keys.addAll(ctx.effects().getByPrefix(RECENT, Journal.MAX_PREFIX_ENTRIES).keySet());
        keys.add(REFUSED_KEY);
        keys.forEach(ctx.effects()::delete);
      } else if (f[0].equals(READ)) {
        // the totals as the ledger holds them once every message queued before this is applied
        SortedMap<String, String> totals =
            new TreeMap<>(ctx.effects().getByPrefix(SPENT, Journal.MAX_PREFIX_ENTRIES));
        totals.putAll(ctx.effects().getByPrefix(RECENT, Swarm.RECENT_REFUSALS + 1));
        ctx.effects().get(REFUSED_KEY).ifPresent(v -> totals.put(REFUSED_KEY, v));
        StringBuilder out = new StringBuilder();
        totals.forEach((k, v) -> out.append(k).append('\t').append(v).append(SEP));
        if (m.isRequest()) {
          ctx.reply(out.toString());
        }
        return;
      }
      if (m.isRequest()) {
        ctx.reply("ok"); // joins the outbox: sent once the change is committed
      }
    };
  }

  private static void spend(
      dev.cfn.core.Effects effects, String model, String input, String output, String cached) {
    effects.increment(CALLS + model, 1);
    effects.increment(INPUT + model, Long.parseLong(input));
    effects.increment(OUTPUT + model, Long.parseLong(output));
    effects.increment(CACHED + model, Long.parseLong(cached));
  }

  // ------------------------------------------------------------------ restore

  /** What the ledger holds: charged into {@link #budget}, refusals returned. */
  Restored restore() {
    SortedMap<String, String> state = read();
    Map<String, long[]> byModel = new TreeMap<>();
    long refused = 0;
    TreeMap<Long, String> recent = new TreeMap<>();
    for (Map.Entry<String, String> e : state.entrySet()) {
      String k = e.getKey();
      int field =
          k.startsWith(CALLS)
              ? 0
              : k.startsWith(INPUT) ? 1 : k.startsWith(OUTPUT) ? 2 : k.startsWith(CACHED) ? 3 : -1;
      if (field >= 0) {
        String model = k.substring(k.indexOf('.', SPENT.length()) + 1);
        byModel.computeIfAbsent(model, x -> new long[4])[field] = Long.parseLong(e.getValue());
      } else if (k.equals(REFUSED_KEY)) {
        refused = Long.parseLong(e.getValue());
      } else if (k.startsWith(RECENT)) {
        String v = e.getValue();
        int tab = v.indexOf('\t');
        recent.put(Long.parseLong(v.substring(0, tab)), v.substring(tab + 1));
      }
    }
    long calls = 0;
    for (Map.Entry<String, long[]> e : byModel.entrySet()) {
      long[] t = e.getValue();
      String model = e.getKey();
      // Charged as the calls were: the tokens once, every other call with none, so the budget
      // counts the calls, the tokens and the cost its price table gives them. The swarm's own
      // budget, not a member's: nothing here is sent to the ledger again.
      if (t[0] > 0) {
        budget.charge(new Usage(t[1], t[2], t[3]), model);
        for (long i = 1; i < t[0]; i++) {
          budget.charge(Usage.ZERO, model);
        }
      }
      calls += t[0];
    }
    if (!journal.stateByPrefix(id, MARK, 1).isEmpty()) {
      // an older ledger's marks, one per call: deleted in batches, off the caller's path
      runtime.send(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(COMPACT));
    }
    return new Restored(calls, refused, List.copyOf(recent.values()));
  }

  /**
   * The ledger's totals, asked of its agent by a RELIABLE request: the messages recovered from the
   * journal for it at the restart (a charge whose request was under way at a crash) are queued
   * before the request, so they are in the answer. Read from the journal directly if the agent does
   * not answer in time.
   */
  private SortedMap<String, String> read() {
    SortedMap<String, String> state = new TreeMap<>();
    try {
      Object answer =
          runtime
              .request(
                  Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(READ), COMMIT_TIMEOUT)
              .get(COMMIT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS)
              .payload();
      if (answer instanceof String text) {
        for (String line : text.split(String.valueOf(SEP))) {
          int tab = line.indexOf('\t');
          if (tab > 0) {
            state.put(line.substring(0, tab), line.substring(tab + 1));
          }
        }
        return state;
      }
      LOG.warn("swarm ledger {} answered a read with {}; reading the journal", id, answer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.warn("swarm ledger {} did not answer a read ({}); reading the journal", id, e.toString());
    }
    state.putAll(journal.stateByPrefix(id, SPENT, Journal.MAX_PREFIX_ENTRIES));
    state.putAll(journal.stateByPrefix(id, RECENT, Swarm.RECENT_REFUSALS + 1));
    journal.state(id, REFUSED_KEY).ifPresent(v -> state.put(REFUSED_KEY, v));
    return state;
  }

  /** What a restore found. */
  record Restored(long calls, long refused, List<String> recentRefusals) {}

  // ------------------------------------------------------------------ spend

  /**
   * A member's model call charged to its budget (see {@link Swarm#memberBudget}): its spend made
   * durable before the charge returns, so before the call's answer is used. The spend is a RELIABLE
   * message to the ledger, durable once it is journaled: from a caller's thread or a blocking
   * agent's virtual thread (an {@code LlmAgent}'s) {@link AgentRuntime#send} returns once its
   * append is fsynced, group-committed with the other appends of the moment. Its handling (the
   * totals' update) is not waited for: a spend journaled and not yet applied when the process dies
   * is recovered from the journal and applied before {@link #restore} reads the totals, so it is
   * counted, once (its handling and the update commit together).
   *
   * @throws dev.cfn.core.spi.JournalException when the spend could not be journaled: the charge
   *     stays counted in memory and the caller does not use the call's answer
   */
  void charged(Usage usage, String model) {
    String spend = spend(usage, model);
    try {
      runtime.send(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(spend));
    } catch (JournalException e) {
      // The call was made (and is counted in memory): journal its spend again, on its own.
      resendLater(spend, e);
      throw e;
    }
  }

  /**
   * A member's model call whose answer commits with {@code commit}, the acknowledgement of the
   * RELIABLE message the member is handling, and used by nothing before it: the spend rides that
   * commit, as a message to the ledger in its outbox. So it is journaled exactly when the answer
   * is: a crash or a failed commit before that loses both (the message is handled again and the
   * call made and charged again), after it neither; no separate fsync, nothing waited for.
   *
   * <p>The call itself was made, though, and the budget counts it in memory whatever becomes of
   * that commit. So when the commit does not happen without a crash (it failed, as on a full disk,
   * or the handler threw after the charge: {@link Effects#whenDiscarded}) the spend is journaled on
   * its own, as a RELIABLE message, by a thread of the ledger, again with backoff while the journal
   * refuses it: the ledger then counts every call the budget in memory counts (each handling of the
   * message that made a call, the one whose commit failed and the one made again). Where the
   * runtime cannot tell a discarded commit, the spend is journaled at once, as {@link
   * #charged(Usage, String)} does.
   */
  void charged(Usage usage, String model, Effects commit) {
    String spend = spend(usage, model);
    AtomicBoolean inOutbox = new AtomicBoolean();
    if (!commit.whenDiscarded(
        () -> {
          if (inOutbox.get()) {
            resendLater(spend, null);
          }
        })) {
      charged(usage, model);
      return;
    }
    try {
      commit.send(id, spend);
      inOutbox.set(true);
    } catch (RuntimeException refused) {
      charged(usage, model); // the outbox refused it: journal it now instead
    }
  }

  /**
   * Journals {@code spend} as a RELIABLE message of its own, from a thread of the ledger, retrying
   * with backoff while the journal refuses it: for a charge that its first route did not make
   * durable although the call was made. Never blocks the caller (a journal's completion thread).
   */
  private void resendLater(String spend, JournalException cause) {
    LOG.warn(
        "swarm ledger {}: a member's charge was not journaled with its first commit ({}); it is"
            + " journaled on its own",
        id,
        cause == null ? "the acknowledgement carrying it was not committed" : cause.toString());
    resends.add(spend);
    if (resending.compareAndSet(false, true)) {
      Thread.ofVirtual().name("cfn-swarm-ledger-resend-" + id.key()).start(this::resend);
    }
  }

  private void resend() {
    try {
      long backoffMillis = 10;
      for (String spend; (spend = resends.peek()) != null; ) {
        try {
          runtime.send(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(spend));
          resends.poll();
          resent.incrementAndGet();
          backoffMillis = 10;
        } catch (JournalException e) {
          LOG.warn(
              "swarm ledger {}: journaling a charge again failed ({}); retrying in {} ms",
              id,
              e.toString(),
              backoffMillis);
          Thread.sleep(backoffMillis);
          backoffMillis = Math.min(5_000, backoffMillis * 2);
        } catch (RuntimeException e) {
          // the runtime shut down: what is left is counted in memory only, as a crash would leave
          LOG.warn(
              "swarm ledger {}: {} charges not journaled, the runtime refused them: {}",
              id,
              resends.size(),
              e.toString());
          resends.clear();
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      resending.set(false);
      if (!resends.isEmpty() && resending.compareAndSet(false, true)) {
        Thread.ofVirtual().name("cfn-swarm-ledger-resend-" + id.key()).start(this::resend);
      }
    }
  }

  /** How many charges were journaled again after their first route failed (for tests). */
  long resent() {
    return resent.get();
  }

  private static String spend(Usage usage, String model) {
    return SPEND
        + SEP
        + (model == null ? "" : model.replace(SEP, ' '))
        + SEP
        + usage.inputTokens()
        + SEP
        + usage.outputTokens()
        + SEP
        + usage.cachedTokens();
  }

  /** The listener a member's budget tells of its charges ({@link Budget.Builder#onCharge}). */
  Budget.Charged listener() {
    return new Budget.Charged() {
      @Override
      public void charged(Usage usage, String model) {
        Ledger.this.charged(usage, model);
      }

      @Override
      public void charged(Usage usage, String model, Effects commit) {
        Ledger.this.charged(usage, model, commit);
      }
    };
  }

  /**
   * Deletes what the ledger holds (spend, refusals), durable when this returns: for a swarm whose
   * name is given up, so that a new swarm of that name starts from nothing.
   */
  void clear() throws Exception {
    commit(CLEAR);
    runtime.send(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(COMPACT));
  }

  private void commit(String payload) throws Exception {
    runtime
        .request(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(payload), COMMIT_TIMEOUT)
        .get(COMMIT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------ refusals

  /**
   * Counts a refusal and its reason durably, soon: from the bus's route stage, so the write is
   * handed to a virtual thread that sends what piled up as one RELIABLE message.
   */
  void refused(String reason) {
    pendingRefusals.incrementAndGet();
    synchronized (pendingReasons) {
      if (pendingReasons.size() == Swarm.RECENT_REFUSALS) {
        pendingReasons.removeFirst();
      }
      pendingReasons.add(reason.replace(SEP, ' ').replace('\t', ' '));
    }
    if (flushing.compareAndSet(false, true)) {
      Thread.ofVirtual().name("cfn-swarm-ledger-" + id.key()).start(this::flush);
    }
  }

  private void flush() {
    try {
      while (true) {
        long n = pendingRefusals.getAndSet(0);
        List<String> reasons;
        synchronized (pendingReasons) {
          reasons = List.copyOf(pendingReasons);
          pendingReasons.clear();
        }
        if (n == 0) {
          return;
        }
        StringBuilder p = new StringBuilder(REFUSED).append(SEP).append(n);
        for (String r : reasons) {
          p.append(SEP).append(r);
        }
        try {
          runtime
              .request(
                  Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(p.toString()),
                  COMMIT_TIMEOUT)
              .get(COMMIT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          LOG.warn("swarm ledger {} did not store {} refusals: {}", id, n, e.toString());
        }
      }
    } finally {
      flushing.set(false);
      if (pendingRefusals.get() > 0 && flushing.compareAndSet(false, true)) {
        Thread.ofVirtual().name("cfn-swarm-ledger-" + id.key()).start(this::flush);
      }
    }
  }

  /**
   * Waits until the refusals counted so far are stored, the charges to journal again are journaled,
   * and the spend journaled so far by this process's charges is applied to the totals (for a clean
   * close and for tests): a RELIABLE read queued behind them.
   */
  void awaitApplied(Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while ((flushing.get() || pendingRefusals.get() > 0 || resending.get() || !resends.isEmpty())
        && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    long left = until - System.nanoTime();
    if (left > 0) {
      try {
        runtime
            .request(
                Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(READ),
                Duration.ofNanos(left))
            .get(left, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        LOG.warn("swarm ledger {} did not answer in time: {}", id, e.toString());
      }
    }
  }
}
