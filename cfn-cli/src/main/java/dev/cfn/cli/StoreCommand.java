package dev.cfn.cli;

import dev.cfn.store.BackupInfo;
import dev.cfn.store.CallLogStore;
import dev.cfn.store.MemoryStore;
import dev.cfn.store.RestoreInfo;
import dev.cfn.store.SqliteJournal;
import dev.cfn.store.StoreCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code cfn store check}, {@code cfn backup}, {@code cfn restore}: the journal file itself. */
final class StoreCommand {
  private StoreCommand() {}

  static void requireExists(Path db) {
    if (!Files.exists(db)) {
      throw new IllegalArgumentException(
          "no journal at " + db.toAbsolutePath() + "; pass the right file with --db FILE");
    }
  }

  /** {@code cfn store check}. */
  @Command(
      name = "store",
      mixinStandardHelpOptions = true,
      description = "Inspects the journal file (and the memory and call-log files).",
      subcommands = {Check.class})
  static final class Store implements Callable<Integer> {
    @Override
    public Integer call() {
      picocli.CommandLine.usage(this, System.out);
      return 0;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Runs PRAGMA integrity_check and verifies every record's CRC32C; lists each bad record.",
        "Works while a runtime has the journal open (read-only). With --memory and --calls it also"
            + " checks the agents' memory and the AI call log. Exits 1 when anything is wrong."
      })
  static final class Check implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Option(
        names = "--memory",
        paramLabel = "FILE",
        description = "Also check this memory file (e.g. .cfn/memory.db).")
    Path memory;

    @Option(
        names = "--calls",
        paramLabel = "FILE",
        description =
            "Also check this call log (e.g. .cfn/calls.db; opening it sweeps records past their"
                + " retention).")
    Path calls;

    @Override
    public Integer call() {
      requireExists(store.db);
      for (Path other : new Path[] {memory, calls}) {
        if (other != null && !Files.isRegularFile(other)) {
          throw new IllegalArgumentException(
              "no file at " + other.toAbsolutePath() + "; pass the right file");
        }
      }
      boolean ok = report(store.db, SqliteJournal.check(store.db));
      if (memory != null) {
        try (MemoryStore m = MemoryStore.open(memory)) {
          ok &= report(memory, m.check());
        }
      }
      if (calls != null) {
        try (CallLogStore c = CallLogStore.open(calls)) {
          ok &= report(calls, c.check());
        }
      }
      return ok ? 0 : 1;
    }

    private static boolean report(Path file, StoreCheck result) {
      if (result.ok()) {
        System.out.println("ok: " + file + " passed the integrity check and every checksum");
        return true;
      }
      System.out.println(result.problems().size() + " problem(s) in " + file + ":");
      result.problems().forEach(p -> System.out.println("  " + p));
      return false;
    }
  }

  /** {@code cfn backup --to FILE}. */
  @Command(
      name = "backup",
      mixinStandardHelpOptions = true,
      description = {
        "Writes a verified, consistent online snapshot of the journal to FILE.",
        "Safe while a runtime is running and traffic flows."
      })
  static final class Backup implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Option(names = "--to", required = true, paramLabel = "FILE", description = "The backup file.")
    Path to;

    @Override
    public Integer call() {
      requireExists(store.db);
      BackupInfo info = SqliteJournal.backup(store.db, to);
      System.out.println("backed up " + store.db + " to " + info);
      return 0;
    }
  }

  /** {@code cfn restore --from FILE}. */
  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description = {
        "Verifies a backup and puts it in place of the journal.",
        "The current file is moved aside, never deleted. Refused while a runtime has the journal",
        "open."
      })
  static final class Restore implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Option(
        names = "--from",
        required = true,
        paramLabel = "FILE",
        description = "The backup file.")
    Path from;

    @Override
    public Integer call() {
      if (!Files.exists(from)) {
        throw new IllegalArgumentException("no backup at " + from.toAbsolutePath());
      }
      RestoreInfo info = SqliteJournal.restore(from, store.db);
      System.out.println("restored " + info);
      return 0;
    }
  }
}
