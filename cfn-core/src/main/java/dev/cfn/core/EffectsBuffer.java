package dev.cfn.core;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
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

/**
 * Collects what one handler invocation of a RELIABLE message wants committed with its
 * acknowledgement. Lives for one invocation, on the agent's thread.
 *
 * <p>Its view of the agent's state is an overlay: the keys this handler wrote (a null value for a
 * deleted key) over the committed state, which the journal serves from memory (see {@link
 * Journal#state}).
 */
final class EffectsBuffer implements Effects {
  private final AgentId agent;
  private final Journal journal;
  private final Ids ids;
  private final SwarmRules swarmRules;
  private final List<Effect> effects = new ArrayList<>(2);
  private Map<String, String> overlay; // key -> value this handler wrote, null when deleted
  private String namespace; // agent.toString(), on first use
  private boolean used; // any call, reads included
  private Map<String, String> calls; // call records of this handler, by key; null until one

  EffectsBuffer(AgentId agent, Journal journal, Ids ids, SwarmRules swarmRules) {
    this.agent = agent;
    this.swarmRules = swarmRules;
    this.journal = journal;
    this.ids = ids;
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
    long id = ids.nextReliable();
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
    swarmRules.checkReliable(e); // refused now, in the handler, rather than after the commit
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
   * Adds {@code message} (built by the runtime: a reply to the RELIABLE request being handled) to
   * the outbox. It does not count as use: a reply reads no state, so the agent need not wait for
   * the commit before its next message.
   */
  void outbox(Envelope message) {
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

  List<Effect> effects() {
    return effects;
  }

  /** True when the handler read or wrote state or sent through the outbox. */
  boolean used() {
    return used;
  }
}
