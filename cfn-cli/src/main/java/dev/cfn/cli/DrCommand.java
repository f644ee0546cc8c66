package dev.cfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.spi.JournalException;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.backup.BackupSet;
import dev.cfn.store.backup.StoreBackup;
import dev.cfn.store.backup.StoreFiles;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.memory.SqliteMemoryStore;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
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
          + " and a drill that kills a served node under load, restores its latest backup into a"
          + " fresh folder, serves it again and reports the RPO and RTO achieved."
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
          "Takes a verified backup set of HOME/.cfn's journal, memory and call log, with the"
              + " token file, the TLS pair, the alert rules and history (the keyring only with"
              + " --include-keys), online, into DIR/cfn-backup-<UTC time> (default DIR:"
              + " HOME/.cfn/backups).")
  static final class Backup implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--to", paramLabel = "DIR", description = "The folder of backup sets.")
    Path to;

    @Option(
        names = "--include-keys",
        description =
            "Put the keyring (HOME/.cfn/keys, the master key included) in the set too. Off by"
                + " default: a set holding the master key opens every sealed record in it; take"
                + " such a set --to a place kept apart from the other sets (docs/operations.md).")
    boolean includeKeys;

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
        set =
            StoreBackup.take(
                files, dir.resolve(StoreBackup.PREFIX + stamp(Instant.now())), includeKeys);
      } catch (JournalException e) {
        throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
      }
      print(spec.commandLine().getOut(), "backed up into", set);
      spec.commandLine().getOut().flush();
      if (includeKeys) {
        spec.commandLine()
            .getErr()
            .println(
                "cfn dr backup: warning: "
                    + set.dir()
                    + " holds the master key: whoever reads it reads every sealed record in it;"
                    + " keep it apart from the sets without keys");
        spec.commandLine().getErr().flush();
      }
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

    @Option(
        names = "--keys-only",
        description =
            "Restore only the keyring of a set taken with --include-keys (where HOME/.cfn has"
                + " none), leaving the stores alone: the keys' half of a restore.")
    boolean keysOnly;

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
      List<String> kept = new ArrayList<>();
      try {
        for (BackupSet.Part p : StoreBackup.verify(set).parts()) {
          boolean ours =
              p.role().equals(StoreBackup.ROLE_NODE) || p.role().equals(StoreBackup.ROLE_KEYS);
          boolean restoring = !keysOnly || p.role().equals(StoreBackup.ROLE_KEYS);
          if (ours && restoring && Files.exists(cfn.resolve(p.file()))) {
            kept.add(p.file());
          }
        }
      } catch (JournalException e) {
        throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
      }
      BackupSet restored =
          AuditedAction.run(
              cfn,
              keysOnly ? "dr.restore-keys" : "dr.restore",
              cfn.toAbsolutePath().normalize().toString(),
              Map.of("from", String.valueOf(set.toAbsolutePath().normalize().getFileName())),
              () -> {}, // the set was verified above
              () -> {
                try {
                  return keysOnly
                      ? StoreBackup.restoreKeys(set, StoreFiles.in(cfn))
                      : StoreBackup.restore(set, StoreFiles.in(cfn));
                } catch (JournalException e) {
                  throw new CommandFailure(ExitCode.FAILED, e.getMessage(), null, e);
                }
              });
      if (keysOnly) {
        restored =
            new BackupSet(
                restored.dir(),
                restored.takenAt(),
                restored.parts().stream()
                    .filter(p -> p.role().equals(StoreBackup.ROLE_KEYS))
                    .toList());
      }
      print(
          spec.commandLine().getOut(), keysOnly ? "restored the keyring of" : "restored", restored);
      spec.commandLine().getOut().println("into " + cfn.toAbsolutePath().normalize());
      for (String k : kept) {
        spec.commandLine()
            .getOut()
            .println("kept the node's own " + k + " (a restore never replaces it)");
      }
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "drill",
      mixinStandardHelpOptions = true,
      description = {
        "Runs a disaster-recovery drill on a real served node: cfn serve in a JVM of its own, with"
            + " scheduled backup sets, takes acknowledged writes through its API until it is"
            + " killed with SIGKILL; its latest set is restored into a fresh folder, cfn serve"
            + " starts there, and the restored store files are verified.",
        "Reports the RPO achieved (acknowledged writes missing from the restored node, and the"
            + " time between the last acknowledged one and the newest restored one) and the RTO"
            + " (kill to ready, and to the first request served) beside the targets 1 min and"
            + " 5 min; exit 1 when either is missed or a check fails."
      })
  static final class Drill implements Callable<Integer> {
    /** The memory namespace the drill writes its records to, one key {@code rec-N} each. */
    static final String NAMESPACE = "dr-drill";

    /** The pause between two writes: under the API's default rate limit of 50 a second. */
    private static final long WRITE_PAUSE_MILLIS = 30;

    @Spec CommandSpec spec;

    @Option(
        names = "--backup-every",
        paramLabel = "DURATION",
        description = "The backup interval of the served node (default: 5s; at least 1s).")
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

    @Option(
        names = "--rpo-target",
        paramLabel = "DURATION",
        description = "The recovery point to meet (default: the seed's 1m).")
    Duration rpoTarget = RPO_TARGET;

    @Option(
        names = "--rto-target",
        paramLabel = "DURATION",
        description = "The recovery time to meet (default: the seed's 5m).")
    Duration rtoTarget = RTO_TARGET;

    @Override
    public Integer call() throws Exception {
      for (var t :
          List.of(Map.entry("--rpo-target", rpoTarget), Map.entry("--rto-target", rtoTarget))) {
        if (t.getValue().compareTo(Duration.ofMillis(1)) < 0) {
          throw CommandFailure.usage(
              t.getKey() + " must be at least 1ms, was " + ValueConverters.text(t.getValue()),
              "such as " + t.getKey() + " 1m");
        }
      }
      if (every.compareTo(Duration.ofSeconds(1)) < 0) {
        throw CommandFailure.usage(
            "--backup-every must be at least 1s (cfn serve's shortest), was " + every,
            "such as --backup-every 5s");
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
      Files.createDirectories(live.resolve(".cfn"));
      Files.createDirectories(restored);
      String token;
      try (TokenStore tokens = TokenStore.open(live.resolve(TokenStore.DEFAULT_FILE))) {
        token =
            tokens
                .create(
                    Role.OPERATOR,
                    List.of(Scope.parse("memory:" + NAMESPACE)),
                    Duration.ofDays(1),
                    "cfn dr drill",
                    KeysCommand.user())
                .secret();
      }
      err.println(
          "cfn dr drill: serving a node in "
              + live
              + ", backup sets every "
              + ValueConverters.text(every));
      err.flush();
      ChildJvm node =
          serve(
              live,
              work.resolve("node.log"),
              List.of(
                  "--backup-every",
                  every.toMillis() + "ms",
                  "--backup-dir",
                  backupDir.toString(),
                  "--backup-keep",
                  Integer.toString(backups + 2)));
      Writer writer;
      long killedAt;
      try {
        NodeClient api = client(node, live, token);
        writer = new Writer(api);
        Thread load = Thread.ofPlatform().daemon(true).name("cfn-dr-writer").start(writer);
        long deadline = System.nanoTime() + every.multipliedBy(backups).plusMinutes(2).toNanos();
        // A set counts only if it was started after the first acknowledged write: one already
        // under way when that write was acknowledged may finish later and hold none of them.
        Instant firstAck = null;
        while (firstAck == null || setsSince(backupDir, firstAck) < backups) {
          if (firstAck == null && writer.acked > 0) {
            firstAck = Instant.now();
          }
          if (!node.isAlive()) {
            throw new CommandFailure(
                ExitCode.FAILED,
                "the served node stopped early: " + node.cause(),
                "see " + node.log(),
                null);
          }
          if (writer.failure != null) {
            throw new CommandFailure(
                ExitCode.FAILED,
                "the node refused a write: " + writer.failure.getMessage(),
                "see " + node.log(),
                writer.failure);
          }
          if (System.nanoTime() > deadline) {
            throw new CommandFailure(
                ExitCode.FAILED,
                "the node took no " + backups + " backup sets in time",
                "see " + node.log(),
                null);
          }
          Thread.sleep(20);
        }
        // load after the last set, so that the recovery point is not zero by luck
        Thread.sleep(Math.min(every.toMillis() / 2, 2000));
        if (writer.failure != null) {
          throw new CommandFailure(
              ExitCode.FAILED,
              "the node refused a write: " + writer.failure.getMessage(),
              "see " + node.log(),
              writer.failure);
        }
        writer.stopping = true; // a write cut by the kill is not acknowledged: not counted
        killedAt = System.nanoTime();
        node.kill(); // SIGKILL
        load.join(TimeUnit.MINUTES.toMillis(2));
      } finally {
        if (node.isAlive()) {
          node.kill();
        }
      }
      long lastAcked = writer.acked;
      if (lastAcked == 0) {
        throw new CommandFailure(
            ExitCode.FAILED,
            "the node acknowledged no write before the kill",
            "see " + node.log(),
            null);
      }

      long restoreStart = System.nanoTime();
      Path latest = StoreBackup.latest(backupDir).orElseThrow();
      BackupSet set = StoreBackup.restore(latest, StoreFiles.in(restored.resolve(".cfn")));
      Duration restoreTook = Duration.ofNanos(System.nanoTime() - restoreStart);

      ChildJvm second = serve(restored, work.resolve("restored.log"), List.of());
      long readyAt;
      long servedAt;
      long newest;
      try {
        NodeClient api = client(second, restored, token);
        readyAt = awaitReady(api, second);
        // the first request served: the newest acknowledged record, as a client would read it
        api.get(memoryPath(lastAcked));
        servedAt = System.nanoTime();
        newest = newestRestored(api, lastAcked);
        second.stop(60); // SIGTERM: a clean stop, the files closed for the checks below
      } finally {
        if (second.isAlive()) {
          second.kill();
        }
      }
      StoreFiles files = StoreFiles.in(restored.resolve(".cfn"));
      List<String> problems = new ArrayList<>();
      long missingBelow = 0;
      try (SqliteMemoryStore m = SqliteMemoryStore.open(files.memory())) {
        for (long n = 1; n <= newest; n++) {
          if (m.get(MemoryAccessor.operator(), NAMESPACE, "rec-" + n).isEmpty()) {
            missingBelow++;
          }
        }
        if (m.get(MemoryAccessor.operator(), NAMESPACE, "rec-" + (lastAcked + 1)).isPresent()) {
          problems.add("the restored memory holds rec-" + (lastAcked + 1) + ", never acknowledged");
        }
      }
      if (newest == 0) {
        problems.add("the restored node holds none of the acknowledged writes");
      }
      if (missingBelow > 0) {
        problems.add(
            "the restored memory misses "
                + missingBelow
                + " acknowledged writes below its newest, rec-"
                + newest);
      }
      StoreCheck journalCheck = JournalFiles.check(files.journal());
      StoreCheck memoryCheck;
      try (SqliteMemoryStore m = SqliteMemoryStore.open(files.memory())) {
        memoryCheck = m.check();
      }
      StoreCheck callsCheck;
      try (SqliteCallLogStore c = SqliteCallLogStore.open(files.calls())) {
        callsCheck = c.check();
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

      long lost = lastAcked - newest;
      Duration rpo =
          Duration.ofNanos(
              writer.ackedAt(lastAcked)
                  - (newest == 0 ? writer.startedAt : writer.ackedAt(newest)));
      Duration rtoReady = Duration.ofNanos(readyAt - killedAt);
      Duration rto = Duration.ofNanos(servedAt - killedAt);
      boolean rpoMet = rpo.compareTo(rpoTarget) <= 0;
      boolean rtoMet = rto.compareTo(rtoTarget) <= 0;
      boolean met = problems.isEmpty() && rpoMet && rtoMet;

      Map<String, Object> report = new LinkedHashMap<>();
      report.put(
          "machine",
          Runtime.getRuntime().availableProcessors()
              + " cpus, "
              + System.getProperty("os.name")
              + ", JDK "
              + Runtime.version());
      report.put("node", "cfn serve (a JVM of its own), killed with SIGKILL");
      report.put("backupEveryMillis", every.toMillis());
      report.put("acknowledgedWrites", lastAcked);
      report.put("lastAcknowledgedRecord", lastAcked);
      report.put("newestRestoredRecord", newest);
      report.put("acknowledgedMissing", lost);
      report.put("backupSet", set.dir().toString());
      report.put("backupTakenAt", set.takenAt().toString());
      report.put("restoreMillis", restoreTook.toMillis());
      report.put("rpoMillis", rpo.toMillis());
      report.put("rpoTargetMillis", rpoTarget.toMillis());
      report.put("rtoReadyMillis", rtoReady.toMillis());
      report.put("rtoMillis", rto.toMillis());
      report.put("rtoTargetMillis", rtoTarget.toMillis());
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
          "killed the served node after %d acknowledged writes; restored %s (%d ms)%n",
          lastAcked,
          set.dir().getFileName(),
          restoreTook.toMillis());
      out.printf(
          Locale.ROOT,
          "RPO %.3f s, %d acknowledged writes missing (target %.3f s): %s%n",
          rpo.toMillis() / 1000.0,
          lost,
          rpoTarget.toMillis() / 1000.0,
          rpoMet ? "met" : "NOT met");
      out.printf(
          Locale.ROOT,
          "RTO %.3f s to the first request served, %.3f s to ready (target %.3f s): %s%n",
          rto.toMillis() / 1000.0,
          rtoReady.toMillis() / 1000.0,
          rtoTarget.toMillis() / 1000.0,
          rtoMet ? "met" : "NOT met");
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

    /** Writes {@code rec-N} one after the other, pacing under the rate limit, until stopped. */
    private static final class Writer implements Runnable {
      private final NodeClient api;
      final long startedAt = System.nanoTime();
      private final List<Long> ackTimes = new ArrayList<>(); // guarded by itself
      volatile long acked; // the last write the node answered 200 to
      volatile boolean stopping;
      volatile RuntimeException failure;

      Writer(NodeClient api) {
        this.api = api;
      }

      @Override
      public void run() {
        for (long n = 1; !stopping; n++) {
          try {
            api.call("PUT", memoryPath(n), Map.of("value", n + ":" + System.currentTimeMillis()));
          } catch (RuntimeException e) {
            if (!stopping) {
              failure = e;
            }
            return; // killed mid-write: not acknowledged
          }
          long at = System.nanoTime();
          synchronized (ackTimes) {
            ackTimes.add(at);
          }
          acked = n;
          try {
            Thread.sleep(WRITE_PAUSE_MILLIS);
          } catch (InterruptedException e) {
            return;
          }
        }
      }

      /** When the node acknowledged write {@code n} (1 to {@link #acked}), in nanoseconds. */
      long ackedAt(long n) {
        synchronized (ackTimes) {
          return ackTimes.get((int) (n - 1));
        }
      }
    }

    /**
     * The complete sets in {@code dir} whose manifest says they were started at or after {@code
     * since}.
     */
    private static long setsSince(Path dir, Instant since) {
      long n = 0;
      for (Path set : StoreBackup.sets(dir)) {
        try {
          JsonNode m = new ObjectMapper().readTree(set.resolve("manifest.json").toFile());
          if (!Instant.parse(m.path("takenAt").asText()).isBefore(since)) {
            n++;
          }
        } catch (IOException | RuntimeException e) {
          // a set being pruned or unreadable is not counted; StoreBackup.latest verifies the one
          // used
        }
      }
      return n;
    }

    static String memoryPath(long n) {
      return "/v1/memory/" + NAMESPACE + "/rec-" + n;
    }

    /**
     * The newest record the restored node serves: a binary search over {@code 1..lastAcked} by
     * {@code GET} (a backup set is a prefix of the writes; the contiguity is checked after).
     */
    private static long newestRestored(NodeClient api, long lastAcked) throws InterruptedException {
      long lo = 0; // known present (0: none)
      long hi = lastAcked + 1; // known absent
      while (hi - lo > 1) {
        long mid = (lo + hi) >>> 1;
        if (api.get(memoryPath(mid)).isPresent()) {
          lo = mid;
        } else {
          hi = mid;
        }
        Thread.sleep(WRITE_PAUSE_MILLIS);
      }
      return lo;
    }

    /** Waits for {@code /health/ready} to answer 200; when, in nanoseconds. */
    private static long awaitReady(NodeClient api, ChildJvm node) throws InterruptedException {
      long deadline = System.nanoTime() + RTO_TARGET.multipliedBy(2).toNanos();
      while (true) {
        try {
          api.get("/health/ready");
          return System.nanoTime();
        } catch (CommandFailure e) {
          if (!node.isAlive() || System.nanoTime() > deadline) {
            throw new CommandFailure(
                ExitCode.FAILED,
                "the node on the restored files did not become ready: " + e.getMessage(),
                "see " + node.log(),
                e);
          }
        }
        Thread.sleep(50);
      }
    }

    /** {@code cfn serve --home HOME --port 0 EXTRA} in a JVM of its own; its log in {@code log}. */
    private static ChildJvm serve(Path home, Path log, List<String> extra) throws IOException {
      List<String> args =
          new ArrayList<>(List.of("serve", "--home", home.toString(), "--port", "0"));
      args.addAll(extra);
      return ChildJvm.of(Main.class.getName(), args)
          .nodeDefaults()
          .logTo(log)
          .named("served node", "cfn serve: ")
          .jvmOption(Logging.childFlag()) // -v and --debug reach the node's log too
          .start();
    }

    /** A client of the node once it listens, pinned to the certificate in its home. */
    private static NodeClient client(ChildJvm node, Path home, String token)
        throws InterruptedException {
      String line;
      try {
        line = node.await("listening on ", 180);
      } catch (ChildJvm.Failure e) {
        throw new CommandFailure(ExitCode.FAILED, e.problem(), "see " + e.log(), e);
      }
      URI url = URI.create(line.substring("listening on ".length()).strip());
      return NodeClient.pinned(
          url, token, NodeClient.fingerprintOf(home.resolve(".cfn/tls/server.crt")));
    }

    private static String ok(StoreCheck c) {
      return c.ok() ? "ok" : "DAMAGED";
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
