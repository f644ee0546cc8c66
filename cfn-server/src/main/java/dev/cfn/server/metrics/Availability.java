package dev.cfn.server.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's own record of its availability, kept in {@code .cfn/availability.json} across
 * restarts: the intervals in which its readiness probe passed, every start, and whether the
 * previous run ended cleanly. From them it reports the uptime over the last hour, day and 30 days,
 * the restarts, and the downtime windows with their cause.
 *
 * <p>How it is measured: the node probes its own readiness ({@code /health/ready}'s checks: the
 * server is ready and every store answers a read) every {@link #DEFAULT_PROBE_EVERY}. A passing
 * probe extends the current up interval to now; a failing one closes it. A run that ends with
 * {@link #stopped()} is a clean stop; a run whose record has no end when the next one starts (a
 * crash, a kill, a power loss) ended unclean at its last passing probe. The time from a start to
 * its first passing probe (recovery) is down time, except after the very first start (the node was
 * not expected up before it was ever ready). Uptime over a window is the time inside up intervals
 * over the part of the window that the probes observed: from the node's first ready probe (kept in
 * the record, so a fresh node and a fresh restore start at 1, never at the time before they were
 * first ready) to its latest probe, so the precision is one probe period. The time since the latest
 * probe is not known yet and counts neither way: were it counted as down, a freshly started node
 * would read 0 % a moment after its first probe, and under 99.9 % of the hour for its first 80
 * minutes (one 5 s probe period of 5,000 s), and its availability alert would fire on a node that
 * never failed. Intervals older than 30 days are dropped. The file is rewritten atomically after
 * each change (a temporary file moved over it), so a crash leaves the previous version.
 *
 * <p>Thread-safe.
 */
public final class Availability {
  private final Object lock = new Object();
  private static final Logger log = LoggerFactory.getLogger(Availability.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How often the node probes itself unless told otherwise. */
  public static final Duration DEFAULT_PROBE_EVERY = Duration.ofSeconds(5);

  /** The windows reported: 1 h, 24 h, 30 d. */
  public static final Map<String, Duration> WINDOWS =
      java.util.Collections.unmodifiableMap(
          new LinkedHashMap<>(
              Map.of(
                  "1h",
                  Duration.ofHours(1),
                  "24h",
                  Duration.ofHours(24),
                  "30d",
                  Duration.ofDays(30))));

  private static final Duration KEEP = Duration.ofDays(30);

  /** An interval in which every probe passed. */
  record Up(Instant from, Instant to) {}

  /** A start of the node; {@code end} is null while it runs, and after an unclean stop. */
  record Run(Instant start, Instant end, boolean clean) {}

  /** A window in which the node was not up, with why. */
  public record Downtime(Instant from, Instant to, String cause) {
    /** Its length. */
    public Duration length() {
      return Duration.between(from, to);
    }
  }

  private final Path file;
  private final Clock clock;
  private final List<Up> ups = new ArrayList<>();
  private final List<Run> runs = new ArrayList<>();
  private boolean upNow; // the last probe of this run passed
  private Instant firstReady; // the first passing probe ever recorded; null before it
  private Instant lastProbe; // the latest probe of this run; null before it
  private long probesPassed;
  private long probesFailed;

  private Availability(Path file, Clock clock) {
    this.file = file;
    this.clock = clock;
  }

  /**
   * Reads the record in {@code file} (none yet: an empty one), closes the previous run (unclean
   * when it has no end), and starts a new one now.
   */
  public static Availability start(Path file, Clock clock) {
    Availability a = new Availability(file, clock);
    synchronized (a.lock) {
      a.load();
      int last = a.runs.size() - 1;
      if (last >= 0 && a.runs.get(last).end() == null) {
        Run r = a.runs.get(last);
        Instant lastUp = a.ups.isEmpty() ? r.start() : a.ups.getLast().to();
        a.runs.set(
            last, new Run(r.start(), lastUp.isBefore(r.start()) ? r.start() : lastUp, false));
      }
      a.runs.add(new Run(clock.instant(), null, false));
      a.prune();
      a.save();
    }
    return a;
  }

  /** Records one readiness probe. */
  public void probe(boolean ready) {
    synchronized (lock) {
      Instant now = clock.instant();
      lastProbe = now;
      if (ready && firstReady == null) {
        firstReady = now;
      }
      if (ready) {
        probesPassed++;
        if (upNow && !ups.isEmpty()) {
          ups.set(ups.size() - 1, new Up(ups.getLast().from(), now));
        } else {
          ups.add(new Up(now, now));
        }
      } else {
        probesFailed++;
      }
      upNow = ready;
      prune();
      save();
    }
  }

  /** Records a clean stop: the current run ends now (after a last probe). */
  public void stopped() {
    synchronized (lock) {
      int last = runs.size() - 1;
      if (last >= 0 && runs.get(last).end() == null) {
        runs.set(last, new Run(runs.get(last).start(), clock.instant(), true));
        save();
      }
    }
  }

  /**
   * The share of {@code window} (ending now) it was up, over the part the probes observed: since
   * the node was first ready, up to its latest probe (see the class comment). 1 before it was ever
   * ready: no time of it is observed yet.
   */
  public double uptime(Duration window) {
    synchronized (lock) {
      if (firstReady == null) {
        return 1; // never ready yet: the time before the first ready is not down time
      }
      Instant now = lastProbe != null ? lastProbe : clock.instant();
      Instant from = max(clock.instant().minus(window), firstReady);
      long observed = Duration.between(from, now).toMillis();
      if (observed <= 0) {
        return upNow ? 1 : 0;
      }
      long up = 0;
      for (Up u : ups) {
        Instant a = max(u.from(), from);
        Instant b = min(u.to(), now);
        if (b.isAfter(a)) {
          up += Duration.between(a, b).toMillis();
        }
      }
      return Math.min(1, (double) up / observed);
    }
  }

  /** Starts recorded (over the last 30 days) after the first: restarts. */
  public int restarts() {
    synchronized (lock) {
      return Math.max(0, runs.size() - 1);
    }
  }

  /** Runs that ended without {@link #stopped()}: crashes, kills. */
  public int uncleanStops() {
    synchronized (lock) {
      int n = 0;
      for (int i = 0; i < runs.size() - 1; i++) {
        n += runs.get(i).clean() ? 0 : 1;
      }
      return n;
    }
  }

  /**
   * The windows (over the last 30 days) in which the node was down, oldest first: from the end of
   * one up interval to the start of the next, named by what happened between them ({@code restart},
   * {@code crash}, {@code not ready}), and the current one when the last probe failed (ending now).
   */
  public List<Downtime> downtime() {
    synchronized (lock) {
      List<Downtime> out = new ArrayList<>();
      Instant now = clock.instant();
      for (int i = 1; i < ups.size(); i++) {
        Instant from = ups.get(i - 1).to();
        Instant to = ups.get(i).from();
        out.add(new Downtime(from, to, cause(from, to)));
      }
      if (!upNow && !ups.isEmpty()) {
        Instant from = ups.getLast().to();
        out.add(new Downtime(from, now, cause(from, now)));
      }
      return out;
    }
  }

  private String cause(Instant from, Instant to) {
    for (Run r : runs) {
      if (r.start().isAfter(from) && !r.start().isAfter(to)) {
        int i = runs.indexOf(r);
        return i > 0 && runs.get(i - 1).clean() ? "restart" : "crash";
      }
    }
    return "not ready";
  }

  /** The report {@code GET /v1/availability} answers with. */
  public Map<String, Object> report() {
    synchronized (lock) {
      Map<String, Object> m = new LinkedHashMap<>();
      Map<String, Object> uptime = new LinkedHashMap<>();
      WINDOWS.forEach((k, w) -> uptime.put(k, uptime(w)));
      m.put("uptime", uptime);
      m.put("up", upNow);
      m.put("since", runs.isEmpty() ? null : runs.getFirst().start().toString());
      m.put("firstReady", firstReady == null ? null : firstReady.toString());
      m.put("currentStart", runs.isEmpty() ? null : runs.getLast().start().toString());
      m.put("restarts", restarts());
      m.put("uncleanStops", uncleanStops());
      m.put("probes", Map.of("passed", probesPassed, "failed", probesFailed));
      List<Map<String, Object>> down = new ArrayList<>();
      for (Downtime d : downtime()) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("from", d.from().toString());
        x.put("to", d.to().toString());
        x.put("seconds", d.length().toMillis() / 1000.0);
        x.put("cause", d.cause());
        down.add(x);
      }
      m.put("downtime", down);
      return m;
    }
  }

  /** The gauges {@code cfn_availability_ratio{window}} and {@code cfn_node_restarts}. */
  public void bindTo(MeterRegistry registry) {
    WINDOWS.forEach(
        (k, w) ->
            Gauge.builder("cfn.availability.ratio", this, a -> a.uptime(w))
                .tag("window", k)
                .description(
                    "share of the window (1h, 24h, 30d; since the node was first ready)"
                        + " in which the node's readiness probe passed, 0 to 1")
                .register(registry));
    Gauge.builder("cfn.node.restarts", this, Availability::restarts)
        .description("starts of the node after its first, over the last 30 days")
        .register(registry);
  }

  private void prune() {
    Instant cut = clock.instant().minus(KEEP);
    ups.removeIf(u -> u.to().isBefore(cut));
    while (runs.size() > 1 && runs.get(0).end() != null && runs.get(0).end().isBefore(cut)) {
      runs.remove(0);
    }
  }

  private void load() {
    if (!Files.exists(file)) {
      return;
    }
    try {
      JsonNode root = JSON.readTree(file.toFile());
      for (JsonNode r : root.path("runs")) {
        runs.add(
            new Run(
                Instant.parse(r.path("start").asText()),
                r.hasNonNull("end") ? Instant.parse(r.path("end").asText()) : null,
                r.path("clean").asBoolean()));
      }
      for (JsonNode u : root.path("up")) {
        ups.add(
            new Up(Instant.parse(u.path("from").asText()), Instant.parse(u.path("to").asText())));
      }
      if (root.hasNonNull("firstReady")) {
        firstReady = Instant.parse(root.path("firstReady").asText());
      } else if (!ups.isEmpty()) {
        firstReady = ups.getFirst().from(); // a record written before firstReady was kept
      }
    } catch (IOException | RuntimeException e) {
      log.warn(
          "the availability record {} could not be read ({}); starting a new one",
          file,
          e.toString());
      runs.clear();
      ups.clear();
      firstReady = null;
    }
  }

  private void save() {
    ObjectNode root = JSON.createObjectNode();
    if (firstReady != null) {
      root.put("firstReady", firstReady.toString());
    }
    ArrayNode r = root.putArray("runs");
    for (Run run : runs) {
      ObjectNode o = r.addObject().put("start", run.start().toString()).put("clean", run.clean());
      if (run.end() != null) {
        o.put("end", run.end().toString());
      } else {
        o.putNull("end");
      }
    }
    ArrayNode u = root.putArray("up");
    for (Up up : ups) {
      u.addObject().put("from", up.from().toString()).put("to", up.to().toString());
    }
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.write(tmp, JSON.writeValueAsBytes(root));
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      log.warn("the availability record {} could not be written: {}", file, e.toString());
    }
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
