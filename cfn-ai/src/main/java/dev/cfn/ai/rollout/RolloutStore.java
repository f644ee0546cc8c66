package dev.cfn.ai.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.internal.json.JsonMappers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The durable rollouts of a node: one JSON file per agent in a folder ({@code
 * .cfn/rollouts/AGENT.json}), written whole to a temporary sibling, fsynced and renamed over the
 * old one, so that a crash leaves the previous or the next state, never half of one. Every change
 * happens under an exclusive lock on {@code AGENT.lock} (and a lock within this JVM), so the
 * process running a rollout and an operator's {@code cfn rollout promote|rollback} never lose each
 * other's writes.
 *
 * <p>The operator's verbs live here: {@link #start}, {@link #promote}, {@link #rollback}, {@link
 * #status} and {@link #list}. A node running tasks attaches a {@link Rollout} to the same file.
 */
public final class RolloutStore {
  private static final JsonMapper JSON = JsonMappers.create();
  private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

  private final Path dir;

  private RolloutStore(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  /**
   * The rollouts kept in {@code dir} (created on the first start).
   *
   * @param dir the folder, such as {@code .cfn/rollouts}
   * @return the store
   */
  public static RolloutStore at(Path dir) {
    return new RolloutStore(dir);
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /**
   * Starts rolling {@code canary} out in place of {@code baseline}: the canary takes the first
   * step's share of new tasks once a node attaches.
   *
   * @param baseline the definition in use, loaded from its file
   * @param canary the new version, loaded from its own file; same name, different content
   * @param steps the canary's shares in percent, rising, each 1 to 100, the last 100
   * @param hold how long each step runs before it may be promoted
   * @param gates what the canary must hold
   * @param now the time of the start
   * @param by who starts it
   * @return the new rollout
   * @throws IllegalArgumentException for a bad plan, with what to fix
   * @throws IllegalStateException when a rollout of the agent is running already
   */
  public RolloutStatus start(
      AgentDefinition baseline,
      AgentDefinition canary,
      List<Integer> steps,
      Duration hold,
      Gates gates,
      Instant now,
      String by) {
    checkPlan(baseline, canary, steps, hold);
    RolloutState s = new RolloutState();
    s.agent = baseline.name();
    s.baseline = DefinitionVersion.of(baseline);
    s.canary = DefinitionVersion.of(canary);
    if (s.baseline.hash().equals(s.canary.hash())) {
      throw new IllegalArgumentException(
          canary.source()
              + " is the same as the definition in use ("
              + s.baseline.file()
              + "), so there is nothing to roll out: give the new version's file");
    }
    s.steps = List.copyOf(steps);
    s.hold = hold;
    s.gates = gates;
    s.stepStartedAt = now;
    s.events.add(
        new RolloutEvent(
            now,
            s.agent,
            RolloutEvent.STARTED,
            steps.getFirst(),
            "from "
                + s.baseline.label()
                + " to "
                + s.canary.label()
                + ", steps "
                + steps
                + ", hold "
                + hold,
            by));
    synchronized (jvmLock(s.agent)) {
      try (FileLock ignored = lock(s.agent)) {
        Optional<RolloutState> old = read(s.agent);
        if (old.isPresent() && old.get().phase == RolloutStatus.Phase.RUNNING) {
          throw new IllegalStateException(
              "a rollout of "
                  + s.agent
                  + " is running already (to "
                  + old.get().canary.label()
                  + "): finish it with cfn rollout promote or cfn rollout rollback first");
        }
        s.revision = old.map(o -> o.revision).orElse(0L) + 1;
        write(s);
      } catch (IOException e) {
        throw failure(s.agent, e);
      }
    }
    return s.status();
  }

  static void checkPlan(
      AgentDefinition baseline, AgentDefinition canary, List<Integer> steps, Duration hold) {
    if (!baseline.name().equals(canary.name())) {
      throw new IllegalArgumentException(
          canary.source()
              + " defines agent '"
              + canary.name()
              + "', not '"
              + baseline.name()
              + "': the new version must keep the agent's name");
    }
    if (steps.isEmpty() || steps.getLast() != 100) {
      throw new IllegalArgumentException(
          "the steps must end at 100, were " + steps + ": such as --steps 5,25,100");
    }
    int before = 0;
    for (int step : steps) {
      if (step <= before || step > 100) {
        throw new IllegalArgumentException(
            "the steps must rise from 1 to 100, were " + steps + ": such as --steps 5,25,100");
      }
      before = step;
    }
    if (hold.isNegative()) {
      throw new IllegalArgumentException("the hold cannot be negative: such as --hold 10m");
    }
  }

  /**
   * The rollout of {@code agent}, whatever its phase.
   *
   * @param agent the agent's name
   * @return its status, empty when it was never rolled out here
   */
  public Optional<RolloutStatus> status(String agent) {
    requireName(agent);
    try {
      return read(agent).map(RolloutState::status);
    } catch (IOException e) {
      throw failure(agent, e);
    }
  }

  /** Every rollout kept here, by agent name. */
  public List<RolloutStatus> list() {
    List<RolloutStatus> all = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return all;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
      for (Path f : files) {
        String name = String.valueOf(f.getFileName());
        status(name.substring(0, name.length() - ".json".length())).ifPresent(all::add);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    all.sort(Comparator.comparing(RolloutStatus::agent));
    return all;
  }

  /**
   * Takes the running rollout of {@code agent} one step up now, without waiting for its hold or its
   * gates; from the last step, completes it (the canary's file replaces the definition's).
   *
   * @return the rollout after the step
   * @throws IllegalStateException when no rollout of the agent is running
   */
  public RolloutStatus promote(String agent, Instant now, String by) {
    return change(agent, s -> step(s, now, "promoted by hand", by), null);
  }

  /**
   * Rolls the running rollout of {@code agent} back: the baseline takes every new task again.
   *
   * @return the rollout rolled back
   * @throws IllegalStateException when no rollout of the agent is running
   */
  public RolloutStatus rollback(String agent, String reason, Instant now, String by) {
    return change(agent, s -> rollBack(s, now, reason, by), null);
  }

  private RolloutStatus change(
      String agent, UnaryOperator<RolloutState> action, Consumer<RolloutEvent> listener) {
    requireName(agent);
    synchronized (jvmLock(agent)) {
      try (FileLock ignored = lock(agent)) {
        RolloutState s =
            read(agent)
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "no rollout of "
                                + agent
                                + " in "
                                + dir
                                + ": start one with cfn rollout start "
                                + agent
                                + " --to FILE"));
        if (s.phase != RolloutStatus.Phase.RUNNING) {
          throw new IllegalStateException(
              "the rollout of "
                  + agent
                  + " is "
                  + s.phase.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                  + " already: start a new one with cfn rollout start");
        }
        action.apply(s);
        s.revision++;
        write(s);
        if (listener != null) {
          listener.accept(s.events.getLast());
        }
        return s.status();
      } catch (IOException e) {
        throw failure(agent, e);
      }
    }
  }

  /** One step up, or completion from the last step; appends the event. */
  static RolloutState step(RolloutState s, Instant now, String detail, String by) {
    if (s.stepIndex + 1 < s.steps.size()) {
      s.stepIndex++;
      s.stepStartedAt = now;
      s.canaryMeasures = new Measures();
      s.events.add(new RolloutEvent(now, s.agent, RolloutEvent.PROMOTED, s.share(), detail, by));
      return s;
    }
    install(s);
    s.phase = RolloutStatus.Phase.COMPLETED;
    s.reason = detail;
    s.events.add(new RolloutEvent(now, s.agent, RolloutEvent.COMPLETED, 100, detail, by));
    return s;
  }

  static RolloutState rollBack(RolloutState s, Instant now, String reason, String by) {
    s.phase = RolloutStatus.Phase.ROLLED_BACK;
    s.reason = reason;
    s.events.add(new RolloutEvent(now, s.agent, RolloutEvent.ROLLED_BACK, 0, reason, by));
    return s;
  }

  /**
   * Makes the canary the definition: its file's bytes replace the baseline's file (atomically,
   * through a sibling), the old bytes kept beside it as {@code NAME.md.before-rollout-HASH}.
   */
  private static void install(RolloutState s) {
    Path target = Path.of(s.baseline.file());
    Path source = Path.of(s.canary.file());
    try {
      byte[] canary = Files.readAllBytes(source);
      Path keep =
          target.resolveSibling(target.getFileName() + ".before-rollout-" + s.baseline.hash());
      if (Files.exists(target) && !Files.exists(keep)) {
        Files.copy(target, keep);
      }
      Path tmp = target.resolveSibling("." + target.getFileName() + ".rollout-tmp");
      Files.write(tmp, canary);
      moveAtomically(tmp, target);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot install "
              + source
              + " as "
              + target
              + " ("
              + e.getMessage()
              + "): copy it there by hand; the rollout is otherwise complete",
          e);
    }
  }

  /**
   * Takes over into {@code mine} (a running node's copy) the decisions of a command that wrote the
   * file since (see {@link RolloutState#adoptDecisions}), then writes it back when {@code changed}
   * (its measures or decisions differ from what it last wrote); unchanged, the file is left as it
   * is (it then holds exactly {@code mine}). Returns false, writing nothing, when the file is gone
   * (the rollout was removed) or holds another rollout of the agent (started after this one ended):
   * the node then stops routing to this one's canary, and never writes its old plan over the new
   * one.
   */
  boolean sync(RolloutState mine, boolean changed) {
    synchronized (jvmLock(mine.agent)) {
      try (FileLock ignored = lock(mine.agent)) {
        Optional<RolloutState> onDisk = read(mine.agent);
        if (onDisk.isEmpty() || !onDisk.get().identity().equals(mine.identity())) {
          return false;
        }
        if (onDisk.get().revision != mine.revision) {
          mine.adoptDecisions(onDisk.get());
          mine.revision = onDisk.get().revision;
        }
        if (!changed) {
          return true;
        }
        mine.revision++;
        write(mine);
        return true;
      } catch (IOException e) {
        throw failure(mine.agent, e);
      }
    }
  }

  /** The state on disk, for a node attaching to it. */
  Optional<RolloutState> load(String agent) {
    requireName(agent);
    try {
      return read(agent);
    } catch (IOException e) {
      throw failure(agent, e);
    }
  }

  private Optional<RolloutState> read(String agent) throws IOException {
    Path file = dir.resolve(agent + ".json");
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    JsonNode n = JSON.readTree(file.toFile());
    return Optional.of(RolloutState.fromJson(n));
  }

  private void write(RolloutState s) throws IOException {
    Path file = dir.resolve(s.agent + ".json");
    Path tmp = dir.resolve("." + s.agent + ".json.tmp");
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s.toJson());
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
      ch.force(true);
    }
    moveAtomically(tmp, file);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // directories cannot be fsynced everywhere; the rename is then as durable as the OS makes it
    }
  }

  private static void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private FileLock lock(String agent) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      }
    }
    FileChannel ch =
        FileChannel.open(
            dir.resolve(agent + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = ch.lock();
      return new ClosingLock(ch, lock);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private Object jvmLock(String agent) {
    return JVM_LOCKS.computeIfAbsent(dir.resolve(agent), k -> new Object());
  }

  private static void requireName(String agent) {
    if (!AgentDefinition.isValidName(agent)) {
      throw new IllegalArgumentException(
          "'" + agent + "' is not an agent name: lowercase letters, digits, hyphens and dots");
    }
  }

  private UncheckedIOException failure(String agent, IOException e) {
    return new UncheckedIOException(
        "cannot read or write the rollout of "
            + agent
            + " in "
            + dir
            + " ("
            + e.getMessage()
            + "): check that the folder is writable",
        e);
  }

  /** A file lock that also closes its channel. */
  private static final class ClosingLock extends FileLock {
    private final FileChannel channel;
    private final FileLock lock;

    ClosingLock(FileChannel channel, FileLock lock) {
      super(channel, lock.position(), lock.size(), lock.isShared());
      this.channel = channel;
      this.lock = lock;
    }

    @Override
    public boolean isValid() {
      return lock.isValid();
    }

    @Override
    public void release() throws IOException {
      try {
        lock.release();
      } finally {
        channel.close();
      }
    }
  }
}
