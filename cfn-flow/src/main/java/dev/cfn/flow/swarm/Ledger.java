package dev.cfn.flow.swarm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.CallLog;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Journal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p><b>Spend</b> is written by the swarm's call log ({@link Swarm#callLog(CallLog)}): a model
 * call's record goes to the member's call log first (committed before its answer is used), then its
 * usage to the ledger, by a RELIABLE request whose handler adds it to the totals and marks the call
 * (a hash of its key) in the same commit; the record returns once that commit is done. A crash
 * between the two commits leaves a recorded call without its mark: the call is replayed, not made
 * again, when its task is handled again, and the replay charges it then (the mark tells a replay
 * whose spend is counted from one whose is not). So a call is counted once: never lost once its
 * record committed, never twice. Payloads are strings, so no journal needs a payload type for it.
 */
final class Ledger {
  private static final Logger LOG = LoggerFactory.getLogger(Ledger.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The agent type of the ledgers, registered on the runtime by the first durable swarm. */
  static final String TYPE = "cfn-swarm-ledger";

  /** How long a record waits for its spend to be committed. */
  static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(30);

  private static final String CHARGE = "charge";
  private static final String REFUSED = "refused";
  private static final char SEP = '\n';
  private static final String MARK = "call.";
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
  private final Set<String> markedHere = ConcurrentHashMap.newKeySet();
  private final AtomicLong pendingRefusals = new AtomicLong();
  private final List<String> pendingReasons = new ArrayList<>(); // guarded by itself
  private final AtomicBoolean flushing = new AtomicBoolean();

  Ledger(AgentRuntime runtime, Journal journal, String swarm, Budget budget) {
    this.runtime = runtime;
    this.journal = journal;
    this.id = AgentId.of(TYPE, swarm);
    this.budget = budget;
    try {
      runtime.register(AgentType.builder(TYPE, ledgerId -> handler()).build());
    } catch (IllegalStateException alreadyRegistered) {
      // another durable swarm on this runtime registered it; the handler serves every ledger alike
    }
  }

  /** The ledger's agent: applies charges (once per mark) and refusal counts to its state. */
  private static Agent handler() {
    return (m, ctx) -> {
      if (!(m.payload() instanceof String s)) {
        return;
      }
      String[] f = s.split(String.valueOf(SEP), -1);
      if (f[0].equals(CHARGE) && f.length == 7) {
        String mark = MARK + f[1];
        if (ctx.effects().get(mark).isEmpty()) {
          String model = f[2];
          ctx.effects().put(mark, "1");
          ctx.effects().increment(CALLS + model, 1);
          ctx.effects().increment(INPUT + model, Long.parseLong(f[3]));
          ctx.effects().increment(OUTPUT + model, Long.parseLong(f[4]));
          ctx.effects().increment(CACHED + model, Long.parseLong(f[5]));
        }
      } else if (f[0].equals(REFUSED) && f.length >= 2) {
        long total = ctx.effects().increment(REFUSED_KEY, Long.parseLong(f[1]));
        int reasons = f.length - 2;
        for (int i = 0; i < reasons; i++) {
          long seq = total - reasons + 1 + i;
          ctx.effects()
              .put(RECENT + Math.floorMod(seq, Swarm.RECENT_REFUSALS), seq + "\t" + f[2 + i]);
        }
      }
      if (m.isRequest()) {
        ctx.reply("ok"); // joins the outbox: sent once the change is committed
      }
    };
  }

  // ------------------------------------------------------------------ restore

  /** What the ledger holds: charged into {@link #budget}, refusals returned. */
  Restored restore() {
    // by prefix, not the whole namespace: the marks of the calls ("call.") are many
    SortedMap<String, String> state =
        new TreeMap<>(journal.stateByPrefix(id, "spent.", Journal.MAX_PREFIX_ENTRIES));
    state.putAll(journal.stateByPrefix(id, RECENT, Swarm.RECENT_REFUSALS + 1));
    journal.state(id, REFUSED_KEY).ifPresent(v -> state.put(REFUSED_KEY, v));
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
        String model = k.substring(k.indexOf('.', "spent.".length()) + 1);
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
      // counts the calls, the tokens and the cost its price table gives them.
      if (t[0] > 0) {
        budget.charge(new Usage(t[1], t[2], t[3]), model);
        for (long i = 1; i < t[0]; i++) {
          budget.charge(Usage.ZERO, model);
        }
      }
      calls += t[0];
    }
    return new Restored(calls, refused, List.copyOf(recent.values()));
  }

  /** What a restore found. */
  record Restored(long calls, long refused, List<String> recentRefusals) {}

  // ------------------------------------------------------------------ spend

  /** {@code inner} with every model call it records (and every replay not yet counted) charged. */
  CallLog callLog(CallLog inner) {
    return new CallLog() {
      @Override
      public Optional<String> find(String key) {
        Optional<String> found = inner.find(key);
        found.ifPresent(json -> replayed(key, json));
        return found;
      }

      @Override
      public void record(String key, String resultJson) {
        inner.record(key, resultJson); // the call's record first: what a replay finds
        recorded(key, resultJson);
      }

      @Override
      public String toString() {
        return "CallLog[" + inner + ", charged to ledger " + id + "]";
      }
    };
  }

  /** A model call made now (the agent charged the budget already): its spend made durable. */
  private void recorded(String key, String json) {
    Charge c = charge(json);
    if (c == null) {
      return; // a tool's result, not a model call
    }
    String mark = mark(key);
    if (markedHere.add(mark)) {
      commit(mark, c);
    }
  }

  /** A call replayed from the log: charged when its spend was never committed (a crash). */
  private void replayed(String key, String json) {
    Charge c = charge(json);
    if (c == null) {
      return;
    }
    String mark = mark(key);
    if (markedHere.contains(mark) || journal.state(id, MARK + mark).isPresent()) {
      return;
    }
    if (markedHere.add(mark)) {
      budget.charge(c.usage(), c.model());
      commit(mark, c);
    }
  }

  private void commit(String mark, Charge c) {
    String payload =
        CHARGE
            + SEP
            + mark
            + SEP
            + c.model()
            + SEP
            + c.usage().inputTokens()
            + SEP
            + c.usage().outputTokens()
            + SEP
            + c.usage().cachedTokens()
            + SEP;
    try {
      runtime
          .request(Envelope.to(id).delivery(DeliveryMode.RELIABLE).payload(payload), COMMIT_TIMEOUT)
          .get(COMMIT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // The call's record is durable: a replay after a crash finds no mark and charges it then.
      markedHere.remove(mark);
      LOG.warn(
          "swarm ledger {} did not commit a call's spend ({}); it is counted in memory, and again"
              + " durably if the call is replayed",
          id,
          e.toString());
    }
  }

  private record Charge(Usage usage, String model) {}

  /** The usage and model of a model call's record; null for a tool's or an unreadable one. */
  private static Charge charge(String json) {
    try {
      JsonNode o = JSON.readTree(json);
      JsonNode u = o.path("usage");
      if (!u.isObject() || !o.has("stopReason")) {
        return null;
      }
      String model = o.path("model").asText("").replace(SEP, ' ');
      return new Charge(
          new Usage(u.path("input").asLong(), u.path("output").asLong(), u.path("cached").asLong()),
          model);
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  private static String mark(String key) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
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

  /** Waits until the refusals counted so far are stored (for a clean close and for tests). */
  void awaitRefusals(Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while ((flushing.get() || pendingRefusals.get() > 0) && System.nanoTime() < until) {
      Thread.sleep(5);
    }
  }
}
