package dev.cfn.store.journal;

import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduled backups of an open journal: every interval, on a daemon thread of its own, a
 * verified snapshot ({@link Backups#snapshot}) named {@code cfn-backup-<UTC timestamp>.db} in the
 * backup directory, then the oldest such files beyond {@code keep} are deleted.
 *
 * <p>The schedule runs at a fixed rate, so the newest backup is at most one interval (plus the time
 * a backup takes) old: that is the recovery point. A failed backup is logged with its reason and
 * retried at the next interval; it never fails the journal. Rotation only ever deletes files whose
 * whole name is a scheduled backup's, never the one just written; give each journal a backup
 * directory of its own. {@link #close()} interrupts a backup in progress and stops the thread.
 */
final class BackupSchedule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackupSchedule.class);

  static final String PREFIX = "cfn-backup-";
  private static final Pattern NAME =
      Pattern.compile(Pattern.quote(PREFIX) + "\\d{8}T\\d{6}\\.\\d{3}Z\\.db");
  private static final Pattern PARTIAL =
      Pattern.compile("\\." + Pattern.quote(PREFIX) + ".*\\.partial");

  private final Path database;
  private final Path dir;
  private final Duration interval;
  private final int keep;
  private final Clock clock;
  private final Consumer<BackupInfo> onSuccess;
  private final Backups.Cancel cancel = new Backups.Cancel();
  private final ScheduledExecutorService scheduler;
  private final Object runLock = new Object();
  private int failures; // guarded by runLock

  BackupSchedule(
      Path database,
      Path dir,
      Duration interval,
      int keep,
      Clock clock,
      Consumer<BackupInfo> onSuccess) {
    this.database = database;
    this.dir = Backups.normalize(dir);
    this.interval = interval;
    this.keep = keep;
    this.clock = clock;
    this.onSuccess = onSuccess;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            task ->
                Thread.ofPlatform()
                    .name("cfn-journal-backup-" + database.getFileName())
                    .daemon(true)
                    .unstarted(task));
  }

  /** The name of the scheduled backup taken at {@code at}. */
  static String fileName(Instant at) {
    return PREFIX + Backups.STAMP.format(at) + ".db";
  }

  /**
   * Removes leftovers of interrupted backups, then schedules the first one an interval from now.
   */
  void start() {
    for (Path partial : list(PARTIAL)) {
      try {
        Files.deleteIfExists(partial);
        log.info("deleted {}, left over by a backup that was interrupted", partial);
      } catch (IOException e) {
        log.debug("cannot delete {}: {}", partial, e.toString());
      }
    }
    Backups.removeStale(dir); // what killed backups of any kind left, once their writer is gone
    long every = interval.toNanos();
    scheduler.scheduleAtFixedRate(this::runScheduled, every, every, TimeUnit.NANOSECONDS);
    log.debug("backing up {} into {} every {}, keeping {}", database, dir, interval, keep);
  }

  /**
   * Takes one scheduled backup now and rotates; empty (and logged) when it failed or the schedule
   * is closed. Never throws.
   */
  Optional<BackupInfo> runOnce() {
    synchronized (runLock) {
      if (cancel.cancelled()) {
        return Optional.empty();
      }
      long started = System.nanoTime();
      Instant at = clock.instant();
      BackupInfo info;
      try {
        info = Backups.snapshot(database, dir.resolve(fileName(at)), true, at, cancel);
      } catch (RuntimeException e) {
        if (cancel.cancelled()) {
          log.debug("backup of {} interrupted by closing the journal: {}", database, e.toString());
          return Optional.empty();
        }
        failures++;
        log.warn(
            "scheduled backup of {} into {} failed ({} in a row): {}; retrying in {}",
            database,
            dir,
            failures,
            e.getMessage(),
            interval);
        log.debug("the failed backup", e);
        return Optional.empty();
      }
      onSuccess.accept(info);
      if (failures > 0) {
        log.info(
            "scheduled backup of {} into {} works again after {} failures",
            database,
            dir,
            failures);
        failures = 0;
      }
      rotate(info.path());
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      if (took.compareTo(interval) > 0) {
        log.warn(
            "backing up {} took {}, longer than the backup interval {}: backups run back to back;"
                + " choose a longer interval",
            database,
            took,
            interval);
      }
      return Optional.of(info);
    }
  }

  private void runScheduled() {
    try {
      runOnce();
    } catch (Throwable t) { // an escaping throwable would cancel every later backup
      log.error(
          "scheduled backup of {} failed unexpectedly; retrying in {}", database, interval, t);
    }
  }

  /** Deletes the oldest scheduled backups beyond {@code keep}, never {@code newest}. */
  private void rotate(Path newest) {
    List<Path> others = new ArrayList<>(list(NAME));
    others.remove(newest);
    others.sort(Comparator.comparing((Path p) -> PrivateFiles.nameOf(p)).reversed());
    for (Path old : others.subList(Math.min(keep - 1, others.size()), others.size())) {
      try {
        Files.deleteIfExists(old);
        log.debug("deleted the old backup {}", old);
      } catch (IOException e) {
        log.warn("cannot delete the old backup {}: {}", old, e.toString());
      }
    }
  }

  /** The files of the backup directory whose whole name matches {@code pattern}. */
  private List<Path> list(Pattern pattern) {
    List<Path> files = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return files;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        if (pattern.matcher(PrivateFiles.nameOf(entry)).matches() && Files.isRegularFile(entry)) {
          files.add(entry);
        }
      }
    } catch (IOException e) {
      log.warn("cannot list the backup directory {}: {}", dir, e.toString());
    }
    return files;
  }

  /** True once {@link #close()} has stopped the schedule and its thread. */
  boolean stopped() {
    return scheduler.isTerminated();
  }

  /** Interrupts a backup in progress, stops the thread and waits for it. */
  @Override
  public void close() {
    cancel.cancel();
    scheduler.shutdownNow();
    boolean interrupted = false;
    while (true) {
      try {
        if (scheduler.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
        log.warn("still waiting for the backup of {} to stop", database);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
