package dev.cfn.store.journal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The committed agent state of a {@link SqliteJournal}, kept in memory by namespace, so that a
 * handler's {@code Effects.get} on a carrier thread reads a map, not the database.
 *
 * <p><b>How it stays right.</b> The first read of a namespace loads all of its keys in one query
 * (under this object's monitor) and keeps them. The writer thread, after each commit and before it
 * completes the futures of that batch, {@link #publish}es the final value of every key the batch's
 * acknowledgements wrote (under the same monitor), to namespaces that are loaded. A load reads only
 * committed data, and a batch is published before the next batch commits, so a load sees either the
 * state before a batch or after it, and the publication that follows writes the same values again.
 * Hits read a {@link ConcurrentSkipListMap} without the monitor: a reader of another agent's
 * namespace may see a batch half published; an agent that used its effects is paused until its
 * acknowledgement's futures complete, so it always sees its own writes whole.
 *
 * <p><b>Bound.</b> At most {@code maxKeys} keys are held; past that, whole namespaces are dropped
 * (arbitrary ones, not the least recently used) until a quarter of the room is free, and a
 * namespace larger than the bound is never held (its reads then go to the database key by key). 0
 * disables the cache: every read is one query, as before the cache existed.
 *
 * <p>Public only so that cfn-cluster's PostgreSQL journal keeps its committed state the same way;
 * not an API for applications, which read state through {@code Effects}.
 */
public final class StateCache {

  /** Reads committed state from the database. */
  public interface Source {
    /** Every key of {@code namespace}. */
    SortedMap<String, String> namespace(String namespace);

    /** One key. */
    Optional<String> key(String namespace, String key);

    /** At most {@code limit} keys of {@code namespace} starting with {@code prefix}. */
    SortedMap<String, String> byPrefix(String namespace, String prefix, int limit);
  }

  /** One key's final value after a commit; null value: the key was deleted. */
  public record Write(String namespace, String key, String value) {}

  private final int maxKeys;
  private final Source source;
  // namespaces too large to hold, read key by key (bounded: a hint, not a record)
  private final java.util.Set<String> oversized = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, ConcurrentSkipListMap<String, String>> namespaces =
      new ConcurrentHashMap<>();
  private long keys; // guarded by this
  private long loads; // guarded by this

  public StateCache(int maxKeys, Source source) {
    this.maxKeys = maxKeys;
    this.source = source;
  }

  /** The committed value of {@code key} in {@code namespace}. */
  public Optional<String> get(String namespace, String key) {
    ConcurrentSkipListMap<String, String> ns = namespaces.get(namespace);
    if (ns != null) {
      return Optional.ofNullable(ns.get(key));
    }
    if (maxKeys == 0 || oversized.contains(namespace)) {
      return source.key(namespace, key);
    }
    return Optional.ofNullable(load(namespace).get(key));
  }

  /** At most {@code limit} committed entries of {@code namespace} whose keys start with prefix. */
  public SortedMap<String, String> byPrefix(String namespace, String prefix, int limit) {
    SortedMap<String, String> ns = namespaces.get(namespace);
    if (ns == null) {
      if (maxKeys == 0 || oversized.contains(namespace)) {
        return source.byPrefix(namespace, prefix, limit);
      }
      ns = load(namespace);
    }
    TreeMap<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : ns.tailMap(prefix).entrySet()) {
      if (!e.getKey().startsWith(prefix) || out.size() == limit) {
        break;
      }
      out.put(e.getKey(), e.getValue());
    }
    return out;
  }

  private synchronized SortedMap<String, String> load(String namespace) {
    ConcurrentSkipListMap<String, String> ns = namespaces.get(namespace);
    if (ns != null) {
      return ns; // loaded while this thread waited for the monitor
    }
    SortedMap<String, String> rows = source.namespace(namespace);
    loads++;
    if (rows.size() > maxKeys) {
      if (oversized.size() < 1_024) {
        oversized.add(namespace);
      }
      return rows;
    }
    if (keys + rows.size() > maxKeys) {
      evict(maxKeys - maxKeys / 4 - rows.size());
    }
    ns = new ConcurrentSkipListMap<>(rows);
    namespaces.put(namespace, ns);
    keys += ns.size();
    return ns;
  }

  /** Drops namespaces until at most {@code target} keys are held. */
  private void evict(long target) {
    Iterator<ConcurrentSkipListMap<String, String>> it = namespaces.values().iterator();
    while (keys > target && it.hasNext()) {
      keys -= it.next().size();
      it.remove();
    }
  }

  /** Applies the final values a committed batch wrote to the namespaces held (writer thread). */
  public synchronized void publish(List<Write> writes) {
    for (Write w : writes) {
      ConcurrentSkipListMap<String, String> ns = namespaces.get(w.namespace());
      if (ns == null) {
        continue; // not held: its next read loads the committed rows
      }
      String before = w.value() == null ? ns.remove(w.key()) : ns.put(w.key(), w.value());
      if (before == null && w.value() != null) {
        keys++;
      } else if (before != null && w.value() == null) {
        keys--;
      }
    }
    if (keys > maxKeys) {
      evict(maxKeys - maxKeys / 4);
    }
  }

  /** Forgets every namespace held (after a failed batch whose outcome on disk is unknown). */
  public synchronized void clear() {
    namespaces.clear();
    keys = 0;
  }

  /** Namespaces loaded from the database since open (tests: a hit does not load). */
  synchronized long loads() {
    return loads;
  }

  /** Namespaces held now. */
  List<String> held() {
    return new ArrayList<>(namespaces.keySet());
  }
}
