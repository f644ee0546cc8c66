package dev.cfn.cluster.node;

import dev.cfn.cluster.pg.Lease;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.cluster.pg.PgLeases;
import dev.cfn.cluster.pg.PgNodes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which partitions this node works on: it heartbeats in PostgreSQL, computes the owner of every
 * partition by {@linkplain Rendezvous rendezvous hashing} over the live nodes, takes the lease of
 * each partition it owns (a new epoch) and starts the partition's work under it, and gives up the
 * partitions another node now owns.
 *
 * <p>Every {@code ttl / 3} (a <em>tick</em>) the node:
 *
 * <ol>
 *   <li>heartbeats ({@link PgNodes#heartbeat}) and reads the live nodes;
 *   <li>renews all its leases in one statement ({@link PgLeases#renewAll}); the work of a lease
 *       that was not renewed is stopped at once (someone took it over, or it lapsed);
 *   <li>for each partition it owns and does not hold, tries to {@linkplain PgLeases#acquire
 *       acquire} its lease (which fails while the previous holder's lease is valid) and starts the
 *       work under the lease;
 *   <li>for each partition it holds and no longer owns (a node joined), stops the work and
 *       {@linkplain PgLeases#release releases} the lease, so the new owner takes it at its next
 *       tick instead of waiting for the TTL.
 * </ol>
 *
 * <p>Work is stopped off the tick, on a thread of its own: closing it may wait for a handler in a
 * long call (a model call), and the tick must go on renewing the other leases meanwhile. The lease
 * of a partition being given up is renewed until its work stopped and only then released, so its
 * new owner cannot start while the old handler still runs; a partition whose work is stopping is
 * not taken again by this node until the stop finished.
 *
 * <p>When a tick cannot reach the database, the work of every lease whose TTL has passed by this
 * node's own timer (started before the renewal was sent) is stopped: the database's clock decides
 * who holds a lease, and a writer past its TTL is refused by the epoch check anyway, but stopping
 * early keeps it from wasting work. A node that dies stops heartbeating: after the TTL it is no
 * longer live, its leases have lapsed, and the new owners (by rendezvous over the survivors) take
 * its partitions with epoch + 1 at their next tick, so a takeover takes at most TTL + one tick +
 * the time to start the work.
 *
 * <p>Give each start of a node its own id (say {@code name-<start time>}): a restarted node must
 * not renew the leases of its previous life.
 */
public final class Placement implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Placement.class);
  private static final int ACQUIRE_CHUNK = 32;

  /** The work of one partition, started under its lease and closed when the lease goes. */
  @FunctionalInterface
  public interface PartitionWork {
    /**
     * Starts working on {@code lease.partition()} under {@code lease}; the returned handle is
     * closed when the node gives the partition up or loses its lease.
     *
     * @throws Exception when the work could not start: the lease is released and tried again later
     */
    AutoCloseable start(Lease lease) throws Exception;
  }

  /**
   * Placement's settings.
   *
   * @param partitions how many partitions (the same on every node)
   * @param ttl how long a heartbeat and a lease last; a dead node's partitions move after it
   */
  public record Settings(int partitions, Duration ttl) {
    /** 256 partitions, 10 s TTL. */
    public static final Settings DEFAULT = new Settings(256, Duration.ofSeconds(10));

    /** Validates the settings. */
    public Settings {
      Objects.requireNonNull(ttl, "ttl");
      if (partitions < 1 || partitions > 4096) {
        throw new IllegalArgumentException(
            "partitions is " + partitions + " (fix: 1 to 4096, the same on every node; 256)");
      }
      if (ttl.toMillis() < 300) {
        throw new IllegalArgumentException(
            "the TTL is " + ttl + " (fix: at least 300 ms; 10 s in production)");
      }
    }
  }

  private record Held(Lease lease, AutoCloseable work, long localExpiry) {}

  /** A partition whose work is being stopped; its lease is renewed while {@code keep}. */
  private static final class Stopping {
    private Lease lease;
    private long localExpiry;
    private boolean keep;
    private boolean done;

    Stopping(Held held, boolean keep) {
      this.lease = held.lease();
      this.localExpiry = held.localExpiry();
      this.keep = keep;
    }

    /** The lease to renew, or null when it is not kept (lost, or the work stopped). */
    synchronized Lease renewable() {
      return keep && !done ? lease : null;
    }

    synchronized void renewed(Lease now, long expiry) {
      lease = now;
      localExpiry = expiry;
    }

    /** Stops keeping the lease; returns whether it was kept. */
    synchronized boolean lapse() {
      boolean was = keep && !done;
      keep = false;
      return was;
    }

    /** Whether the kept lease passed its TTL by this node's timer at {@code at}. */
    synchronized boolean pastTtl(long at) {
      return keep && !done && at - localExpiry > 0;
    }

    /** The work stopped: returns the lease to release, or null. */
    synchronized Lease finish() {
      done = true;
      return keep ? lease : null;
    }
  }

  private final PgNodes nodes;
  private final PgLeases leases;
  private final String node;
  private final Settings settings;
  private final PartitionWork work;
  private final Map<Integer, Held> held = new ConcurrentHashMap<>();
  private final Map<Integer, Stopping> stopping = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final Condition changed = lock.newCondition();
  private final AtomicLong takeovers = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final Thread loop;
  private volatile boolean running = true;
  private volatile boolean leaving;
  private volatile List<String> live = List.of();

  private Placement(PgJournal journal, String node, Settings settings, PartitionWork work) {
    this.nodes = journal.nodes();
    this.leases = journal.leases();
    this.node = node;
    this.settings = settings;
    this.work = work;
    this.loop = Thread.ofPlatform().daemon().name("cfn-placement-" + node).unstarted(this::run);
  }

  /**
   * Joins the cluster as {@code node} and starts placing partitions: the first tick runs before
   * this returns (a lone node then holds what it could start within one tick, in chunks of 32
   * leases taken in one statement; the rest at the next ticks).
   */
  public static Placement start(
      PgJournal journal, String node, Settings settings, PartitionWork work) {
    Objects.requireNonNull(journal, "journal");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(work, "work");
    if (node.isBlank() || node.length() > 200) {
      throw new IllegalArgumentException(
          "a node id is 1 to 200 characters, was '" + node + "' (fix: e.g. node-a-1733500000)");
    }
    Placement p = new Placement(journal, node, settings, work);
    p.tick();
    p.loop.start();
    return p;
  }

  /** This node's id. */
  public String node() {
    return node;
  }

  /** The leases this node holds now, by partition. */
  public Map<Integer, Lease> held() {
    Map<Integer, Lease> out = new TreeMap<>();
    held.forEach((p, h) -> out.put(p, h.lease()));
    return out;
  }

  /** The live nodes as of the last tick. */
  public List<String> liveNodes() {
    return live;
  }

  /** Partitions this node took (leases acquired and work started) since it started. */
  public long takeovers() {
    return takeovers.get();
  }

  /** Leases this node lost (not renewed in time) since it started. */
  public long lostLeases() {
    return lost.get();
  }

  /** Runs a tick now instead of at the next interval (after a node joined, say). */
  public void nudge() {
    lock.lock();
    try {
      wake.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private Duration interval() {
    return Duration.ofMillis(Math.max(50, settings.ttl().toMillis() / 3));
  }

  private void run() {
    while (running) {
      lock.lock();
      try {
        if (running) {
          boolean nudged = wake.await(interval().toMillis(), TimeUnit.MILLISECONDS);
          log.trace("node {}: tick ({})", node, nudged ? "nudged" : "interval");
        }
      } catch (InterruptedException e) {
        return;
      } finally {
        lock.unlock();
      }
      if (running) {
        tick();
      }
    }
  }

  private void tick() {
    long started = System.nanoTime();
    long ttlNanos = settings.ttl().toNanos();
    try {
      nodes.heartbeat(node, settings.ttl());
      List<String> now = new ArrayList<>(nodes.live());
      if (!now.contains(node)) {
        now.add(node);
      }
      live = List.copyOf(now);
      renew(started + ttlNanos);
      Set<Integer> mine = new HashSet<>();
      for (int p = 0; p < settings.partitions() && !leaving; p++) {
        if (node.equals(Rendezvous.owner(p, now))) {
          mine.add(p);
        }
      }
      for (Integer p : List.copyOf(held.keySet())) {
        if (!mine.contains(p)) {
          handOff(p);
        }
      }
      List<Integer> wanted = new ArrayList<>();
      for (int p : mine) {
        if (!held.containsKey(p) && !stopping.containsKey(p)) {
          wanted.add(p); // one still stopping is taken again once it stopped
        }
      }
      for (int from = 0; from < wanted.size() && running; from += ACQUIRE_CHUNK) {
        if (System.nanoTime() - started > interval().toNanos()) {
          break; // renew in time; the rest at the next tick
        }
        take(wanted.subList(from, Math.min(wanted.size(), from + ACQUIRE_CHUNK)));
      }
    } catch (RuntimeException e) {
      log.warn("node {}: placement tick failed ({}); retrying next tick", node, e.getMessage());
      long at = System.nanoTime();
      for (Map.Entry<Integer, Held> h : List.copyOf(held.entrySet())) {
        if (at - h.getValue().localExpiry() > 0) {
          log.warn(
              "node {}: lease of partition {} passed its TTL unrenewed; stopping its work",
              node,
              h.getKey());
          stop(h.getKey(), false);
          lost.incrementAndGet();
        }
      }
      for (Map.Entry<Integer, Stopping> s : List.copyOf(stopping.entrySet())) {
        if (s.getValue().pastTtl(at) && s.getValue().lapse()) {
          log.warn(
              "node {}: lease of partition {} passed its TTL unrenewed while its work stops",
              node,
              s.getKey());
          lost.incrementAndGet();
        }
      }
    } finally {
      signalChanged();
    }
  }

  private void signalChanged() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void renew(long localExpiry) {
    List<Lease> current = new ArrayList<>();
    held.values().forEach(h -> current.add(h.lease()));
    Map<Integer, Stopping> giving = new HashMap<>();
    stopping.forEach(
        (p, s) -> {
          Lease kept = s.renewable();
          if (kept != null) {
            current.add(kept);
            giving.put(p, s);
          }
        });
    if (current.isEmpty()) {
      return;
    }
    Set<Integer> renewed = new HashSet<>();
    for (Lease lease : leases.renewAll(current, settings.ttl())) {
      renewed.add(lease.partition());
      Stopping s = giving.get(lease.partition());
      if (s != null) {
        s.renewed(lease, localExpiry);
      } else {
        held.computeIfPresent(lease.partition(), (p, h) -> new Held(lease, h.work(), localExpiry));
      }
    }
    for (Lease lease : current) {
      Stopping s = giving.get(lease.partition());
      if (s != null) {
        // not renewed: lost, unless its work stopped and released it meanwhile
        if (!renewed.contains(lease.partition()) && s.lapse()) {
          log.warn(
              "node {}: lost the lease of partition {} at epoch {} while its work stops",
              node,
              lease.partition(),
              lease.epoch());
          lost.incrementAndGet();
        }
      } else if (!renewed.contains(lease.partition())) {
        log.warn(
            "node {}: lost the lease of partition {} at epoch {}; stopping its work",
            node,
            lease.partition(),
            lease.epoch());
        stop(lease.partition(), false);
        lost.incrementAndGet();
      }
    }
  }

  private void take(List<Integer> partitions) {
    long at = System.nanoTime();
    // those still held by a previous owner are not returned: its release or its TTL, then a tick
    for (Lease lease : leases.acquireAll(partitions, node, settings.ttl())) {
      int partition = lease.partition();
      AutoCloseable started;
      try {
        started = work.start(lease);
      } catch (Exception e) {
        log.warn(
            "node {}: could not start partition {} at epoch {} ({}); releasing it",
            node,
            partition,
            lease.epoch(),
            e.toString());
        leases.release(lease);
        continue;
      }
      held.put(partition, new Held(lease, started, at + settings.ttl().toNanos()));
      takeovers.incrementAndGet();
      log.debug("node {}: took partition {} at epoch {}", node, partition, lease.epoch());
    }
  }

  private void handOff(int partition) {
    Held h = stop(partition, true);
    if (h != null) {
      log.debug("node {}: handing partition {} over once its work stopped", node, partition);
    }
  }

  /**
   * Stops the work of {@code partition} on a thread of its own (it may wait for a handler), so a
   * tick is never held up by it; with {@code release} its lease is renewed meanwhile and released
   * once the work stopped.
   */
  private Held stop(int partition, boolean release) {
    Held h = held.remove(partition);
    if (h == null) {
      return null;
    }
    Stopping s = new Stopping(h, release);
    stopping.put(partition, s);
    Thread.ofVirtual()
        .name("cfn-placement-stop-" + node + "-p" + partition)
        .start(() -> finishStop(partition, h, s));
    return h;
  }

  private void finishStop(int partition, Held h, Stopping s) {
    try {
      h.work().close();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn("node {}: stopping partition {} failed: {}", node, partition, e.toString());
    }
    Lease release = s.finish();
    stopping.remove(partition, s);
    if (release != null) {
      try {
        leases.release(release);
      } catch (RuntimeException e) {
        log.warn("node {}: could not release partition {}: {}", node, partition, e.getMessage());
      }
    }
    log.debug("node {}: the work of partition {} stopped", node, partition);
    signalChanged();
  }

  /** Waits until {@code done} holds (checked after every tick and stop), at most {@code max}. */
  private boolean await(BooleanSupplier done, Duration max) {
    long left = max.toNanos();
    lock.lock();
    try {
      while (!done.getAsBoolean()) {
        if (left <= 0) {
          return false;
        }
        left = changed.awaitNanos(left);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      lock.unlock();
    }
  }

  /** Waits for every stop under way to finish (each waits at most 35 s for its handler). */
  private void awaitStops() {
    if (!await(stopping::isEmpty, Duration.ofSeconds(60))) {
      log.warn("node {}: partitions {} still stopping after 60 s", node, stopping.keySet());
    }
  }

  /**
   * Stops placing without a goodbye, as a crash would: the work of every partition is stopped but
   * no lease is released and the heartbeat row stays, so other nodes take over only after the TTL.
   */
  void halt() {
    stopLoop();
    stopping.values().forEach(Stopping::lapse); // a crash releases nothing
    for (Integer p : List.copyOf(held.keySet())) {
      stop(p, false);
    }
    awaitStops();
  }

  private void stopLoop() {
    running = false;
    nudge();
    try {
      loop.join(Duration.ofSeconds(60));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Leaves the cluster cleanly: stops the work of every partition, releases each lease once its
   * work stopped (renewing it until then) and removes this node from the live nodes, so the others
   * take over at their next tick.
   */
  @Override
  public void close() {
    leaving = true;
    nudge();
    if (loop.isAlive()
        && !await(() -> held.isEmpty() && stopping.isEmpty(), Duration.ofSeconds(60))) {
      log.warn("node {}: partitions still held or stopping after 60 s; leaving anyway", node);
    }
    stopLoop();
    for (Integer p : List.copyOf(held.keySet())) {
      stop(p, true);
    }
    awaitStops();
    try {
      nodes.leave(node);
    } catch (RuntimeException e) {
      log.warn("node {}: could not leave cleanly: {}", node, e.getMessage());
    }
  }
}
