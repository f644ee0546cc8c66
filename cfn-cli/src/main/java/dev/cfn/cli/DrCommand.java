package dev.cfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.backup.BackupSet;
import dev.cfn.store.backup.StoreBackup;
import dev.cfn.store.backup.StoreFiles;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn dr backup|restore|drill}: backup sets of a node's three store files (journal, memory,
 * call log; {@link StoreBackup}) and the disaster-recovery drill, which measures the recovery point
 * and time a restore achieves.
 */
@Command(
    name = "dr",
    mixinStandardHelpOptions = true,
    description = {
      "Disaster recovery: backup sets of the journal, memory and call log together, their restore,"
          + " and a drill that kills a loaded node, restores its latest backup into a fresh"
          + " folder, starts a node on it and reports the RPO and RTO achieved."
    },
    subcommands = {DrCommand.Backup.class, DrCommand.Restore.class, DrCommand.Drill.class})
final class DrCommand extends CommandGroup {
  static final Duration RPO_TARGET = Duration.ofMinutes(1);
  static final Duration RTO_TARGET = Duration.ofMinutes(5);

  static void print(PrintWriter out, String verb, BackupSet set) {
    out.println(verb + " " + set.dir() + " (taken " + set.takenAt() + ")");
    for (BackupSet.Part p : set.parts()) {
      out.printf(
          Locale.ROOT, "  %-8s %-10s %s%n", p.role(), p.file(), StoreCommand.bytes(p.bytes()));
    }
  }

  @Command(
      name = "backup",
      mixinStandardHelpOptions = true,
      description =
          "Takes a verified backup set of HOME/.cfn's journal, memory and call log, online, into"
              + " DIR/cfn-backup-<UTC time> (default DIR: HOME/.cfn/backups).")
  static final class Backup implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--to", paramLabel = "DIR", description = "The folder of backup sets.")
    Path to;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      StoreFiles files = StoreFiles.in(cfn);
      PathChecks.existingFile("--home", files.journal(), "journal");
      Path dir = to != null ? to : cfn.resolve("backups");
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw CommandFailure.usage("--to " + dir + " is a file", "give a folder for backup sets");
      }
      BackupSet set;
      try {
        set = StoreBackup.take(files, dir.resolve(StoreBackup.PREFIX + stamp(Instant.now())));
      } catch (JournalException e) {
        throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
      }
      print(spec.commandLine().getOut(), "backed up into", set);
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }

  static String stamp(Instant at) {
    return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'", Locale.ROOT)
        .withZone(java.time.ZoneOffset.UTC)
        .format(at);
  }

  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description =
          "Verifies a backup set (or the latest in a folder of sets) and restores it into"
              + " HOME/.cfn, for a stopped node; files there are moved aside, never deleted.")
  static final class Restore implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(
        names = "--from",
        required = true,
        paramLabel = "DIR",
        description = "A cfn-backup-... set, or a folder of them (the latest is restored).")
    Path from;

    @Override
    public Integer call() {
      if (!Files.isDirectory(from)) {
        throw CommandFailure.usage(
            "--from " + from + " is not a folder",
            "give a cfn-backup-... folder or a folder of them");
      }
      Path set =
          Files.isRegularFile(from.resolve("manifest.json"))
              ? from
              : StoreBackup.latest(from)
                  .orElseThrow(
                      () ->
                          CommandFailure.usage(
                              "no backup set in " + from,
                              "give a cfn-backup-... folder, or take one with cfn dr backup"));
      Path cfn = home.cfnDir();
      BackupSet restored;
      try {
        restored = StoreBackup.restore(set, StoreFiles.in(cfn));
      } catch (JournalException e) {
        throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
      }
      print(spec.commandLine().getOut(), "restored", restored);
      spec.commandLine().getOut().println("into " + cfn.toAbsolutePath().normalize());
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "drill",
      mixinStandardHelpOptions = true,
      description = {
        "Runs a disaster-recovery drill: a node (a worker JVM on the journal, memory and call log)"
            + " under load with scheduled backup sets is killed with SIGKILL, its latest set is"
            + " restored into a fresh folder, a node starts on it, and the three files are verified.",
        "Reports the RPO achieved (send time of the last acknowledged record minus that of the"
            + " newest restored one) and the RTO (kill to ready) beside the targets 1 min and 5 min."
      })
  static final class Drill implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--backup-every",
        paramLabel = "DURATION",
        description = "The backup interval of the loaded node (default: 5s).")
    Duration every = Duration.ofSeconds(5);

    @Option(
        names = "--backups",
        paramLabel = "N",
        description = "How many backup sets the node takes before it is killed (default: 2).")
    int backups = 2;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the figures to FILE.")
    Path json;

    @Option(
        names = "--dir",
        paramLabel = "DIR",
        description = "Work here (kept) instead of a temporary folder.")
    Path dir;

    @Override
    public Integer call() throws Exception {
      if (every.compareTo(Duration.ofMillis(100)) < 0) {
        throw CommandFailure.usage(
            "--backup-every must be at least 100ms, was " + every, "such as --backup-every 5s");
      }
      if (backups < 1 || backups > 100) {
        throw CommandFailure.usage(
            "--backups must be 1 to 100, was " + backups, "such as --backups 2");
      }
      if (json != null) {
        PathChecks.outputFile("--json", json);
      }
      Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("cfn-dr");
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Path live = work.resolve("node");
      Path backupDir = work.resolve("backups");
      Path restored = work.resolve("restored");
      Path progress = work.resolve("progress.txt");
      Path log = work.resolve("worker.log");
      Files.createDirectories(live);
      err.println("cfn dr drill: loading a node in " + live + ", backups every " + every);
      err.flush();
      Process node =
          launch(
              List.of(
                  "--load", "1",
                  "--home", live.toString(),
                  "--backups", backupDir.toString(),
                  "--backup-every", Long.toString(every.toMillis()),
                  "--progress", progress.toString()),
              log);
      long deadline = System.nanoTime() + every.multipliedBy(backups).plusMinutes(2).toNanos();
      while (StoreBackup.sets(backupDir).size() < backups) {
        if (!node.isAlive()) {
          throw new CommandFailure(
              ExitCode.FAILED, "the loaded node exited early", "see " + log, null);
        }
        if (System.nanoTime() > deadline) {
          node.destroyForcibly();
          throw new CommandFailure(
              ExitCode.FAILED,
              "the node took no " + backups + " backups in time",
              "see " + log,
              null);
        }
        Thread.sleep(20);
      }
      // a moment of load after the last backup, so that the recovery point is not zero by luck
      Thread.sleep(Math.min(every.toMillis() / 2, 2000));
      node.destroyForcibly(); // SIGKILL
      long killedAt = System.currentTimeMillis();
      node.waitFor(1, TimeUnit.MINUTES);
      long[] lastAcked = lastLine(progress);

      long restoreStart = System.nanoTime();
      Path latest = StoreBackup.latest(backupDir).orElseThrow();
      BackupSet set = StoreBackup.restore(latest, StoreFiles.in(restored.resolve(".cfn")));
      Duration restoreTook = Duration.ofNanos(System.nanoTime() - restoreStart);

      Path result = work.resolve("verify.json");
      Process verify =
          launch(
              List.of(
                  "--verify", "1", "--home", restored.toString(), "--result", result.toString()),
              log);
      if (!verify.waitFor(5, TimeUnit.MINUTES) || verify.exitValue() != 0) {
        verify.destroyForcibly();
        throw new CommandFailure(
            ExitCode.FAILED,
            "the node on the restored files did not become ready",
            "see " + log,
            null);
      }
      JsonNode v = new ObjectMapper().readTree(result.toFile());
      StoreFiles files = StoreFiles.in(restored.resolve(".cfn"));
      StoreCheck journalCheck = JournalFiles.check(files.journal());
      StoreCheck memoryCheck;
      try (SqliteMemoryStore m = SqliteMemoryStore.open(files.memory())) {
        memoryCheck = m.check();
      }
      StoreCheck callsCheck;
      try (SqliteCallLogStore c = SqliteCallLogStore.open(files.calls())) {
        callsCheck = c.check();
      }

      long readyAt = v.path("readyAtMillis").asLong();
      Duration rto = Duration.ofMillis(readyAt - killedAt);
      Map<String, Object> rpo = new LinkedHashMap<>();
      long worst = 0;
      List<String> problems = new ArrayList<>();
      for (String f : List.of("journal", "memory", "calls")) {
        String rec = v.path(f + "Last").asText(null);
        if (rec == null) {
          problems.add("the restored " + f + " holds no record");
          continue;
        }
        long n = Long.parseLong(rec.substring(0, rec.indexOf(':')));
        long sent = Long.parseLong(rec.substring(rec.indexOf(':') + 1));
        long age = lastAcked[1] - sent;
        worst = Math.max(worst, age);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("newestRecord", n);
        m.put("rpoMillis", age);
        rpo.put(f, m);
        if (n > lastAcked[0] + 1) {
          problems.add("the restored " + f + " holds record " + n + ", never acknowledged");
        }
      }
      if (!v.path("callsContiguous").asBoolean()) {
        problems.add("the restored call log misses a record below its newest");
      }
      if (v.path("pendingAfterRecovery").asLong() != 0) {
        problems.add("messages still pending after recovery");
      }
      for (var c :
          List.of(
              Map.entry("journal", journalCheck),
              Map.entry("memory", memoryCheck),
              Map.entry("calls", callsCheck))) {
        if (!c.getValue().ok()) {
          problems.add(
              "the restored " + c.getKey() + " fails its check: " + c.getValue().problems());
        }
      }
      Duration rpoAchieved = Duration.ofMillis(worst);
      boolean met =
          problems.isEmpty()
              && rpoAchieved.compareTo(RPO_TARGET) <= 0
              && rto.compareTo(RTO_TARGET) <= 0;

      Map<String, Object> report = new LinkedHashMap<>();
      report.put(
          "machine",
          Runtime.getRuntime().availableProcessors()
              + " cpus, "
              + System.getProperty("os.name")
              + ", JDK "
              + Runtime.version());
      report.put("backupEveryMillis", every.toMillis());
      report.put("lastAcknowledgedRecord", lastAcked[0]);
      report.put("backupSet", set.dir().toString());
      report.put("backupTakenAt", set.takenAt().toString());
      report.put("restoreMillis", restoreTook.toMillis());
      report.put("rpoMillis", rpoAchieved.toMillis());
      report.put("rpoTargetMillis", RPO_TARGET.toMillis());
      report.put("rtoMillis", rto.toMillis());
      report.put("rtoTargetMillis", RTO_TARGET.toMillis());
      report.put("pendingAtOpen", v.path("pendingAtOpen").asLong());
      report.put("drainMillis", v.path("drainedAtMillis").asLong() - readyAt);
      report.put("rpoByFile", rpo);
      report.put(
          "verified",
          Map.of(
              "journal", journalCheck.ok(), "memory", memoryCheck.ok(), "calls", callsCheck.ok()));
      report.put("problems", problems);
      report.put("met", met);
      if (json != null) {
        Files.writeString(json, AgentCommand.json(report), StandardCharsets.UTF_8);
      }
      out.printf(
          Locale.ROOT,
          "killed the node after record %d; restored %s (%d ms)%n",
          lastAcked[0],
          set.dir().getFileName(),
          restoreTook.toMillis());
      out.printf(
          Locale.ROOT,
          "RPO %.3f s (target %d s): %s%n",
          worst / 1000.0,
          RPO_TARGET.toSeconds(),
          worst <= RPO_TARGET.toMillis() ? "met" : "NOT met");
      out.printf(
          Locale.ROOT,
          "RTO %.3f s (target %d s): %s%n",
          rto.toMillis() / 1000.0,
          RTO_TARGET.toSeconds(),
          rto.compareTo(RTO_TARGET) <= 0 ? "met" : "NOT met");
      out.println(
          "verified: journal "
              + ok(journalCheck)
              + ", memory "
              + ok(memoryCheck)
              + ", call log "
              + ok(callsCheck));
      problems.forEach(p -> out.println("problem: " + p));
      out.flush();
      if (dir == null && met) {
        deleteTree(work);
      } else if (!met) {
        err.println("cfn dr drill: kept " + work);
        err.flush();
      }
      return met ? ExitCode.OK : ExitCode.FAILED;
    }

    private static String ok(StoreCheck c) {
      return c.ok() ? "ok" : "DAMAGED";
    }

    private static long[] lastLine(Path progress) throws IOException {
      List<String> lines = Files.readAllLines(progress, StandardCharsets.US_ASCII);
      for (int i = lines.size() - 1; i >= 0; i--) {
        String[] parts = lines.get(i).trim().split(" ");
        if (parts.length == 2) {
          try {
            return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
          } catch (NumberFormatException e) {
            // a line cut by the kill
          }
        }
      }
      throw new CommandFailure(
          ExitCode.FAILED, "the node acknowledged no record before the kill", null, null);
    }

    private static Process launch(List<String> args, Path log) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add("-Xmx256m");
      cmd.add("--enable-native-access=ALL-UNNAMED");
      cmd.add(DrWorker.class.getName());
      cmd.addAll(args);
      return new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
    }

    private static void deleteTree(Path dir) throws IOException {
      try (var walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
