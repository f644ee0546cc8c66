package dev.cfn.cli;

import dev.cfn.ai.budget.Budget;
import dev.cfn.flow.spec.GraphFile;
import dev.cfn.flow.spec.GraphFileException;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What {@code cfn task} keeps beside the journal for each run submitted without a server, in {@code
 * runs/RUN/} next to the journal file (default {@code .cfn/runs/RUN/}):
 *
 * <ul>
 *   <li>{@code graph.yaml}: the graph file as submitted, so {@code cfn task resume} and {@code
 *       status} read the same graph whatever happens to the original;
 *   <li>{@code run.properties}: the graph's name, the agents' paths, when it was submitted, its
 *       limits ({@code --budget-usd} and {@code --max-calls} as submitted, which every later
 *       process of the run applies), and what its processes spent (tokens, calls, dollars, added up
 *       over resumes);
 *   <li>{@code cancel} or {@code cancel.TASK}: a cancel request ({@code cfn task cancel}), which
 *       the process running the run honours within a second and a later {@code resume} honours at
 *       its start. Requests are never removed: cancelling twice changes nothing.
 * </ul>
 *
 * <p>The run's progress itself (task statuses, results, the state) is in the journal, where the
 * graph runner keeps it; these files never decide anything about it.
 */
final class RunFiles {
  static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");
  private static final String GRAPH = "graph.yaml";
  private static final String PROPS = "run.properties";
  private static final String CANCEL = "cancel";
  private static final String LIMIT_USD = "limit.budgetUsd";
  private static final String LIMIT_CALLS = "limit.maxCalls";

  private final Path dir;
  private final String runId;

  private RunFiles(Path dir, String runId) {
    this.dir = dir;
    this.runId = runId;
  }

  /** The runs folder of journal {@code db}. */
  static Path runsFolder(Path db) {
    Path parent = db.toAbsolutePath().getParent();
    return (parent != null ? parent : db.toAbsolutePath()).resolve("runs");
  }

  /** Run {@code runId}'s files beside {@code db} (they may not exist yet). */
  static RunFiles of(Path db, String runId) {
    checkRunId(runId);
    return new RunFiles(runsFolder(db).resolve(runId), runId);
  }

  static void checkRunId(String runId) {
    if (runId == null || !RUN_ID.matcher(runId).matches()) {
      throw CommandFailure.usage(
          "run id '" + runId + "' is not 1 to 100 letters, digits, '_' or '-'",
          "use e.g. --run research-1; cfn status lists the runs");
    }
  }

  /** Every run with files beside {@code db}, by id. */
  static List<RunFiles> all(Path db) {
    Path folder = runsFolder(db);
    List<RunFiles> out = new ArrayList<>();
    if (!Files.isDirectory(folder)) {
      return out;
    }
    TreeMap<String, RunFiles> sorted = new TreeMap<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(folder)) {
      for (Path d : dirs) {
        String id = String.valueOf(d.getFileName());
        if (RUN_ID.matcher(id).matches() && Files.isRegularFile(d.resolve(PROPS))) {
          sorted.put(id, new RunFiles(d, id));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.addAll(sorted.values());
    return out;
  }

  String runId() {
    return runId;
  }

  Path dir() {
    return dir;
  }

  boolean exists() {
    return Files.isRegularFile(dir.resolve(PROPS)) && Files.isRegularFile(dir.resolve(GRAPH));
  }

  /** The graph as submitted. */
  String graphText() throws IOException {
    return Files.readString(dir.resolve(GRAPH), StandardCharsets.UTF_8);
  }

  /** The graph as submitted, checked again. */
  GraphFile graph() {
    try {
      return GraphFile.parse(graphText(), dir.resolve(GRAPH).toString());
    } catch (IOException e) {
      throw CommandFailure.failed(
          "cannot read run " + runId + "'s graph: " + e.getMessage(),
          "check " + dir.resolve(GRAPH));
    } catch (GraphFileException e) {
      throw CommandFailure.failed(
          "run " + runId + "'s stored graph is not valid any more: " + e.getMessage(),
          "submit the graph again under a new --run");
    }
  }

  Properties properties() {
    Properties p = new Properties();
    Path file = dir.resolve(PROPS);
    if (Files.isRegularFile(file)) {
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return p;
  }

  /** Creates the run's files: the graph as given and its properties. */
  void create(String graphText, String graphName, String boundName, List<Path> agents)
      throws IOException {
    Files.createDirectories(dir);
    write(GRAPH, graphText);
    Properties p = new Properties();
    p.setProperty("graph", graphName);
    p.setProperty("bound", boundName);
    p.setProperty("submitted", Instant.now().toString());
    p.setProperty(
        "agents",
        String.join(
            java.io.File.pathSeparator,
            agents.stream().map(a -> a.toAbsolutePath().normalize().toString()).toList()));
    store(p);
  }

  /** The limits kept with the run: empty when none were (a run submitted by an earlier version). */
  Optional<Limits> limits() {
    Properties p = properties();
    String usd = p.getProperty(LIMIT_USD);
    String calls = p.getProperty(LIMIT_CALLS);
    if (usd == null || calls == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new Limits(
              usd.isEmpty() ? null : new BigDecimal(usd),
              calls.isEmpty() ? null : Long.valueOf(calls)));
    } catch (NumberFormatException e) {
      throw CommandFailure.failed(
          "run "
              + runId
              + "'s stored limits are not numbers: "
              + LIMIT_USD
              + "="
              + usd
              + ", "
              + LIMIT_CALLS
              + "="
              + calls,
          "correct them in " + dir.resolve(PROPS) + " (empty: no limit)");
    }
  }

  /** Keeps {@code limits} with the run (null fields: no limit). */
  void keepLimits(Limits limits) throws IOException {
    Properties p = properties();
    p.setProperty(LIMIT_USD, limits.usd() == null ? "" : limits.usd().toPlainString());
    p.setProperty(LIMIT_CALLS, limits.maxCalls() == null ? "" : limits.maxCalls().toString());
    store(p);
  }

  /** A run's spending limits, {@code --budget-usd} and {@code --max-calls}; null: no limit. */
  record Limits(BigDecimal usd, Long maxCalls) {
    /** The limits as the flags that give them, such as {@code --max-calls 2}, or "no limits". */
    String flags() {
      List<String> out = new ArrayList<>();
      if (usd != null) {
        out.add("--budget-usd " + usd.toPlainString());
      }
      if (maxCalls != null) {
        out.add("--max-calls " + maxCalls);
      }
      return out.isEmpty() ? "no limits" : String.join(" ", out);
    }
  }

  /** Adds what a process spent on the run to what earlier ones did. */
  void addSpent(Budget.Spent spent) throws IOException {
    Properties p = properties();
    p.setProperty("spent.calls", Long.toString(number(p, "spent.calls") + spent.calls()));
    p.setProperty("spent.tokens", Long.toString(number(p, "spent.tokens") + spent.totalTokens()));
    BigDecimal cost = new BigDecimal(p.getProperty("spent.costUsd", "0"));
    p.setProperty("spent.costUsd", cost.add(spent.costUsd()).toPlainString());
    p.setProperty("last.process", Instant.now().toString());
    store(p);
  }

  static long number(Properties p, String key) {
    try {
      return Long.parseLong(p.getProperty(key, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Records a cancel request for the run ({@code task} null) or one task. */
  void requestCancel(String task, String reason) throws IOException {
    write(task == null ? CANCEL : CANCEL + "." + task, reason + "\n");
  }

  /** The cancel requests: "" for the whole run, else task ids. */
  List<String> cancelRequests() {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, CANCEL + "*")) {
      for (Path f : files) {
        String name = String.valueOf(f.getFileName());
        if (name.equals(CANCEL)) {
          out.add("");
        } else if (name.startsWith(CANCEL + ".") && !name.endsWith(".tmp")) {
          out.add(name.substring(CANCEL.length() + 1));
        }
      }
    } catch (IOException e) {
      return out;
    }
    out.sort(null);
    return out;
  }

  private void store(Properties p) throws IOException {
    Path tmp = dir.resolve(PROPS + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "cfn task: run " + runId + " (the run's progress is in the journal)");
    }
    move(tmp, dir.resolve(PROPS));
  }

  private void write(String name, String text) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    move(tmp, dir.resolve(name));
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Whether a process holds journal {@code db} open now (its lock file is locked): empty when it
   * cannot tell.
   *
   * <p>The look never takes the lock. Taking it, even for a moment (as {@code tryLock} and release
   * would), races a process starting on the journal at that instant, which would then be refused as
   * if another run held it; and on Linux closing any descriptor of the lock file drops the POSIX
   * locks this JVM holds on it. So on Linux the kernel's table of locks ({@code /proc/locks}) is
   * read for the lock file's device and inode; elsewhere the lock file's pid (written by the owner,
   * kept after it closes) is looked up among the live processes.
   */
  static Optional<Boolean> journalInUse(Path db) {
    Path real = db.toAbsolutePath().normalize();
    try {
      real = Files.exists(real) ? real.toRealPath() : real;
    } catch (IOException e) {
      return Optional.empty();
    }
    Path lock = real.resolveSibling(real.getFileName() + ".lock");
    if (!Files.isRegularFile(lock)) {
      return Optional.of(false);
    }
    Optional<Boolean> kernel = lockedInKernelTable(lock, Path.of("/proc/locks"));
    return kernel.isPresent() ? kernel : ownerAlive(lock);
  }

  /**
   * Whether {@code locks} (the format of Linux's {@code /proc/locks}: {@code "1: POSIX ADVISORY
   * WRITE PID MAJ:MIN:INODE 0 EOF"}, device numbers in hex) lists a lock held on {@code file}:
   * empty when there is no such table or the file's device and inode cannot be read.
   */
  static Optional<Boolean> lockedInKernelTable(Path file, Path locks) {
    if (!Files.isReadable(locks)) {
      return Optional.empty();
    }
    long inode;
    long dev;
    try {
      inode = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
      dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return Optional.empty();
    }
    // glibc's encoding of dev_t (gnu_dev_major, gnu_dev_minor)
    long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    List<String> lines;
    try {
      lines = Files.readAllLines(locks, StandardCharsets.US_ASCII);
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
    for (String line : lines) {
      if (line.contains("->")) {
        continue; // a process waiting for a lock, not holding one
      }
      for (String field : line.trim().split("\\s+")) {
        String[] p = field.split(":");
        if (p.length != 3) {
          continue;
        }
        try {
          if (Long.parseLong(p[2]) == inode
              && Long.parseLong(p[0], 16) == major
              && Long.parseLong(p[1], 16) == minor) {
            return Optional.of(true);
          }
        } catch (NumberFormatException notTheDeviceField) {
          // "1:" and the like
        }
      }
    }
    return Optional.of(false);
  }

  /** Whether the pid the journal's owner wrote in {@code lock} is a live process. */
  private static Optional<Boolean> ownerAlive(Path lock) {
    try {
      String pid = Files.readString(lock, StandardCharsets.US_ASCII).strip();
      if (!pid.matches("\\d{1,18}")) {
        return Optional.of(false);
      }
      return Optional.of(
          ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false));
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }
}
