package dev.cfn.server.alerts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every alert transition and notification, one JSON object a line, appended to {@code
 * .cfn/alert-history.jsonl} and forced to disk before {@link #append} returns, so the history
 * survives a crash of the node. A line cut short by a crash is skipped on reading. {@code cfn
 * alerts history} and {@code GET /v1/alerts/history} read it.
 *
 * <p>Bounded ({@link AlertConfig.HistorySettings}): once the file holds a quarter more entries than
 * it keeps, and at each start of the engine, it is {@linkplain #prune pruned} to the newest {@code
 * keep} entries no older than {@code max-age}: rewritten whole to a sibling, forced to disk and
 * renamed over the file, so a crash leaves the old history or the pruned one, never a part.
 */
public final class AlertHistory {
  private final Object lock = new Object();
  private static final Logger log = LoggerFactory.getLogger(AlertHistory.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where a node's history is, under its home. */
  public static final String FILE = ".cfn/alert-history.jsonl";

  /**
   * One entry.
   *
   * @param at when
   * @param rule the rule's name
   * @param severity critical or warning
   * @param state pending, firing, resolved, inactive (a pending alert whose condition cleared),
   *     test, or notified (a webhook delivery's outcome)
   * @param value the value the rule saw (NaN when none)
   * @param detail what happened, for people
   */
  public record Entry(
      Instant at, String rule, String severity, String state, double value, String detail) {}

  private final Path file;
  private final AlertConfig.HistorySettings retention;
  private long lines = -1; // entries in the file, counted on the first append; guarded by lock

  private AlertHistory(Path file, AlertConfig.HistorySettings retention) {
    this.file = file;
    this.retention = retention;
  }

  /** The history of the node under {@code home}, kept as the defaults say. */
  public static AlertHistory of(Path home) {
    return new AlertHistory(home.resolve(FILE), AlertConfig.HistorySettings.DEFAULTS);
  }

  /** The same file, kept as {@code settings} say (one writer per file: the node's engine). */
  public AlertHistory retaining(AlertConfig.HistorySettings settings) {
    return new AlertHistory(file, java.util.Objects.requireNonNull(settings, "settings"));
  }

  /**
   * Rewrites the file with the newest {@code keep} entries no older than {@code max-age} before
   * {@code now} (nothing when none is dropped); logs and returns false when it cannot.
   */
  public boolean prune(Instant now) {
    synchronized (lock) {
      try {
        List<String> all = Files.exists(file) ? readLines() : List.of();
        Instant oldest = now.minus(retention.maxAge());
        List<String> kept = new ArrayList<>();
        for (String line : all) {
          Entry e = parse(line);
          if (e != null && !e.at().isBefore(oldest)) {
            kept.add(line);
          }
        }
        if (kept.size() > retention.keep()) {
          kept = kept.subList(kept.size() - retention.keep(), kept.size());
        }
        if (kept.size() != all.size()) {
          Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
          try (FileChannel ch =
              FileChannel.open(
                  tmp,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  StandardOpenOption.WRITE)) {
            ByteBuffer b =
                ByteBuffer.wrap(
                    (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n"))
                        .getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
              ch.write(b);
            }
            ch.force(false);
          }
          Files.move(
              tmp,
              file,
              java.nio.file.StandardCopyOption.REPLACE_EXISTING,
              java.nio.file.StandardCopyOption.ATOMIC_MOVE);
          log.info(
              "alert history {}: pruned {} entries, kept {} (keep {}, max-age {})",
              file,
              all.size() - kept.size(),
              kept.size(),
              retention.keep(),
              AlertConfig.format(retention.maxAge()));
        }
        lines = kept.size();
        return true;
      } catch (IOException | RuntimeException x) {
        log.warn("the alert history {} could not be pruned: {}", file, x.toString());
        return false;
      }
    }
  }

  private List<String> readLines() throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(line);
      }
    }
    return out;
  }

  /** The file. */
  public Path file() {
    return file;
  }

  /** Appends {@code e} durably (written and forced to disk); logs and returns false on failure. */
  public boolean append(Entry e) {
    synchronized (lock) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("at", e.at().toString());
      m.put("rule", e.rule());
      m.put("severity", e.severity());
      m.put("state", e.state());
      m.put("value", Double.isFinite(e.value()) ? e.value() : null);
      m.put("detail", e.detail());
      try {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
          Files.createDirectories(dir);
        }
        byte[] line = (JSON.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch =
            FileChannel.open(
                file,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
          ByteBuffer b = ByteBuffer.wrap(line);
          while (b.hasRemaining()) {
            ch.write(b);
          }
          ch.force(false);
        }
      } catch (IOException x) {
        log.warn("the alert history {} could not be written: {}", file, x.toString());
        return false;
      }
      if (lines < 0) {
        try {
          lines = readLines().size();
        } catch (IOException x) {
          lines = 0;
        }
      } else {
        lines++;
      }
      if (lines > retention.keep() + retention.keep() / 4) {
        prune(e.at());
      }
      return true;
    }
  }

  /** The entry of one line, or null for a line cut short by a crash. */
  private static Entry parse(String line) {
    try {
      JsonNode n = JSON.readTree(line);
      return new Entry(
          Instant.parse(n.path("at").asText()),
          n.path("rule").asText(),
          n.path("severity").asText(),
          n.path("state").asText(),
          n.path("value").isNumber() ? n.path("value").asDouble() : Double.NaN,
          n.path("detail").asText(""));
    } catch (IOException | RuntimeException ex) {
      return null;
    }
  }

  /** The last {@code limit} entries, oldest first (every one for a limit of 0 or less). */
  public List<Entry> read(int limit) throws IOException {
    List<Entry> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : readLines()) {
      Entry e = parse(line);
      if (e != null) {
        out.add(e);
      }
    }
    return limit > 0 && out.size() > limit ? out.subList(out.size() - limit, out.size()) : out;
  }

  /** The latest state of each rule in the history (pending, firing, resolved, inactive). */
  public Map<String, Entry> latestStates() throws IOException {
    Map<String, Entry> m = new LinkedHashMap<>();
    for (Entry e : read(0)) {
      if (List.of("pending", "firing", "resolved", "inactive").contains(e.state())) {
        m.put(e.rule(), e);
      }
    }
    return m;
  }
}
