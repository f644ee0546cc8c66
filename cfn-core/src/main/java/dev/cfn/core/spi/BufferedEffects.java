package dev.cfn.core.spi;

import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Effects;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Effects} of one handler invocation of a RELIABLE message: what the handler wants
 * committed with the message's acknowledgement, collected as {@link Effect}s in call order. Lives
 * for one invocation, on the handler's thread; not thread-safe.
 *
 * <p>Its view of the agent's state is an overlay: the keys this handler wrote (a deleted key as
 * absent) over the committed state, which {@link Journal#state} serves. A runtime creates one per
 * invocation, passes it to the handler, and hands {@link #effects()} to {@link
 * Journal#acknowledge}: the embedded kernel (cfn-core) and the cluster's nodes (cfn-cluster) both
 * do, so a handler sees the same semantics on either.
 *
 * <p>A subclass supplies the ids of outgoing messages ({@link #nextMessageId}) and may refuse an
 * outgoing message before it joins the outbox ({@link #checkOutgoing}).
 */
public abstract class BufferedEffects implements Effects {
  private static final Logger LOG = LoggerFactory.getLogger(BufferedEffects.class);

  private final AgentId agent;
  private final Journal journal;
  private final List<Effect> effects = new ArrayList<>(2);
  private Map<String, String> overlay; // key -> value this handler wrote, null when deleted
  private String namespace; // agent.toString(), on first use
  private boolean used; // any call, reads included
  private Map<String, String> calls; // call records of this handler, by key; null until one
  private List<Runnable> onDiscarded; // actions for effects that will not commit; null until one

  /**
   * The effects of a handler of {@code agent}, reading committed state from {@code journal} (the
   * journal, or the view of it, that the acknowledgement will commit to). Neither may be null.
   */
  protected BufferedEffects(AgentId agent, Journal journal) {
    this.agent = agent; // both non-null: the runtime's own (no check here, as in a hot path)
    this.journal = journal;
  }

  /** The id of the next outgoing RELIABLE message: unique among every message of the journal. */
  protected abstract long nextMessageId();

  /**
   * Called with each message {@link #send} or {@link #request} is about to add to the outbox;
   * throws to refuse it (nothing is added). Does nothing by default.
   */
  protected void checkOutgoing(Envelope message) {}

  /**
   * Registers {@code action}, run once by {@link #runDiscardedActions} when these effects will not
   * be committed; true: every runtime built on this class calls that on each such path.
   */
  @Override
  public boolean whenDiscarded(Runnable action) {
    Objects.requireNonNull(action, "action");
    if (onDiscarded == null) {
      onDiscarded = new ArrayList<>(1);
    }
    onDiscarded.add(action);
    return true;
  }

  /**
   * Runs the actions given to {@link #whenDiscarded}, once (a later call runs nothing): for the
   * runtime to call when these effects will not be committed (the handler threw, a send failed, the
   * acknowledgement's commit failed or applied nothing), never when they commit. An action that
   * throws is logged and the others still run.
   */
  protected final void runDiscardedActions() {
    List<Runnable> actions = onDiscarded;
    onDiscarded = null;
    if (actions == null) {
      return;
    }
    for (Runnable action : actions) {
      try {
        action.run();
      } catch (RuntimeException e) {
        LOG.warn("an action run for discarded effects of agent {} failed: {}", agent, e.toString());
      }
    }
  }

  /** The agent whose handler this is. */
  public final AgentId agent() {
    return agent;
  }

  private String namespace() {
    String ns = namespace;
    if (ns == null) {
      ns = agent.toString();
      namespace = ns;
    }
    return ns;
  }

  @Override
  public Optional<String> get(String key) {
    Objects.requireNonNull(key, "key");
    used = true;
    if (overlay != null && overlay.containsKey(key)) {
      return Optional.ofNullable(overlay.get(key));
    }
    return journal.state(namespace(), key);
  }

  @Override
  public OptionalLong getLong(String key) {
    Optional<String> text = get(key);
    return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(parseLong(key, text.get()));
  }

  @Override
  public Optional<byte[]> getBytes(String key) {
    Optional<String> text = get(key);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Base64.getDecoder().decode(text.get()));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "state key '"
              + key
              + "' of "
              + agent
              + " holds text that is not Base64, so it was not written by putBytes; read it with"
              + " get",
          e);
    }
  }

  @Override
  public SortedMap<String, String> getByPrefix(String prefix, int limit) {
    Objects.requireNonNull(prefix, "prefix");
    Journal.checkPrefixLimit(limit);
    used = true;
    int written = 0;
    if (overlay != null) {
      for (String k : overlay.keySet()) {
        if (k.startsWith(prefix)) {
          written++;
        }
      }
    }
    // read enough committed entries that the ones this handler deleted cannot leave a gap
    int wanted = (int) Math.min(Journal.MAX_PREFIX_ENTRIES, (long) limit + written);
    TreeMap<String, String> view =
        new TreeMap<>(journal.stateByPrefix(namespace(), prefix, wanted));
    if (overlay != null) {
      for (Map.Entry<String, String> e : overlay.entrySet()) {
        if (e.getKey().startsWith(prefix)) {
          if (e.getValue() == null) {
            view.remove(e.getKey());
          } else {
            view.put(e.getKey(), e.getValue());
          }
        }
      }
    }
    while (view.size() > limit) {
      view.pollLastEntry();
    }
    return view;
  }

  @Override
  public Effects put(String key, String value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    used = true;
    effects.add(new Effect.Put(namespace(), key, value));
    write(key, value);
    return this;
  }

  @Override
  public Effects putLong(String key, long value) {
    return put(key, Long.toString(value));
  }

  @Override
  public Effects putBytes(String key, byte[] value) {
    Objects.requireNonNull(value, "value");
    return put(key, Base64.getEncoder().encodeToString(value));
  }

  @Override
  public Effects putJson(String key, String json) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(json, "json");
    try {
      JsonText.check(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "state key '" + key + "' of " + agent + " was not set: " + e.getMessage(), e);
    }
    return put(key, json);
  }

  @Override
  public long increment(String key, long delta) {
    Objects.requireNonNull(key, "key");
    OptionalLong current = getLong(key);
    long next = Math.addExact(current.orElse(0), delta);
    effects.add(new Effect.Increment(namespace(), key, delta));
    write(key, Long.toString(next));
    return next;
  }

  @Override
  public boolean compareAndSet(String key, String expected, String value) {
    Objects.requireNonNull(value, "value");
    Optional<String> current = get(key);
    if (!Objects.equals(current.orElse(null), expected)) {
      return false;
    }
    effects.add(new Effect.CompareAndSet(namespace(), key, expected, value));
    write(key, value);
    return true;
  }

  @Override
  public Effects delete(String key) {
    Objects.requireNonNull(key, "key");
    used = true;
    effects.add(new Effect.Delete(namespace(), key));
    write(key, null);
    return this;
  }

  @Override
  public Effects send(AgentId to, Object payload) {
    outgoing(to, payload, false);
    return this;
  }

  @Override
  public long request(AgentId to, Object payload) {
    return outgoing(to, payload, true);
  }

  /** Adds a RELIABLE message to the outbox, a request (its correlation id its own id) or not. */
  private long outgoing(AgentId to, Object payload, boolean request) {
    used = true;
    Objects.requireNonNull(to, "to");
    long id = nextMessageId();
    Envelope e =
        new Envelope(
            id,
            payload == null ? "null" : payload.getClass().getName(),
            agent,
            to,
            null,
            request ? id : 0,
            Priority.NORMAL,
            DeliveryMode.RELIABLE,
            Map.of(),
            payload,
            System.nanoTime());
    checkOutgoing(e); // refused now, in the handler, rather than after the commit
    effects.add(new Effect.Send(e));
    return id;
  }

  @Override
  public boolean recordCall(String key, String result) {
    Effect.RecordCall record = new Effect.RecordCall(key, result); // validates both
    if (!journal.recordsCalls()) {
      return false;
    }
    effects.add(record);
    if (calls == null) {
      calls = new HashMap<>(4);
    }
    calls.putIfAbsent(key, result); // the first record of a key wins, as in the journal
    return true;
  }

  @Override
  public Optional<String> recordedCall(String key) {
    Objects.requireNonNull(key, "key");
    if (calls != null && calls.containsKey(key)) {
      return Optional.of(calls.get(key));
    }
    return journal.recordsCalls() ? journal.findCall(key) : Optional.empty();
  }

  /**
   * Adds {@code message} (built by the runtime, such as a reply to the RELIABLE request being
   * handled) to the outbox as it is, unchecked. It does not count as use: a reply reads no state,
   * so the agent need not wait for the commit before its next message.
   */
  public final void outbox(Envelope message) {
    Objects.requireNonNull(message, "message");
    effects.add(new Effect.Send(message));
  }

  private void write(String key, String value) {
    if (overlay == null) {
      overlay = new HashMap<>();
    }
    overlay.put(key, value);
  }

  private long parseLong(String key, String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "state key '"
              + key
              + "' of "
              + agent
              + " holds '"
              + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
              + "', not a whole number, so it is not a counter; read it with get",
          e);
    }
  }

  /**
   * What the acknowledgement commits, in call order: the live list (it grows as the handler goes
   * on), for {@link Journal#acknowledge} once the handler returned.
   */
  public final List<Effect> effects() {
    return effects;
  }

  /** True when the handler read or wrote state or sent through the outbox. */
  public final boolean used() {
    return used;
  }
}
