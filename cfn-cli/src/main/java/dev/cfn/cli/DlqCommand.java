package dev.cfn.cli;

import dev.cfn.core.Envelope;
import dev.cfn.store.DeadLetterRecord;
import dev.cfn.store.RawPayload;
import dev.cfn.store.SqliteJournal;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cfn dlq list|show|replay|purge}: the dead-letter store of a journal. The journal must not
 * be open in a running runtime (one process holds it at a time); replayed messages are delivered
 * when a runtime next opens it.
 */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = "Lists, shows, replays and purges dead-lettered reliable messages.",
    subcommands = {
      DlqCommand.ListDead.class,
      DlqCommand.Show.class,
      DlqCommand.Replay.class,
      DlqCommand.Purge.class
    })
final class DlqCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    picocli.CommandLine.usage(this, System.out);
    return 0;
  }

  static SqliteJournal open(StoreOptions store) {
    if (!Files.exists(store.db)) {
      throw new IllegalArgumentException(
          "no journal at " + store.db.toAbsolutePath() + "; pass the right file with --db FILE");
    }
    return SqliteJournal.builder(store.db).open();
  }

  /** Says there is no such dead letter; the exit status for it. */
  static int noSuchDeadLetter(String command, long id) {
    System.err.println(
        "cfn dlq " + command + ": no dead letter with id " + id + "; see cfn dlq list");
    return 1;
  }

  static String payloadText(Envelope e) {
    Object p = e.payload();
    if (p instanceof RawPayload raw) {
      return raw.json() + "  (" + raw.className() + ")";
    }
    return String.valueOf(p);
  }

  static String oneLine(String s, int max) {
    String flat = s.replace('\n', ' ');
    return flat.length() <= max ? flat : flat.substring(0, max - 1) + "…";
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists dead letters.")
  static final class ListDead implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Override
    public Integer call() {
      try (SqliteJournal j = open(store)) {
        List<DeadLetterRecord> all = j.deadLetters();
        PrintStream out = System.out;
        out.printf(
            "%-20s %-24s %-28s %8s  %s%n", "id", "dead at", "recipient", "attempts", "cause");
        for (DeadLetterRecord r : all) {
          out.printf(
              "%-20d %-24s %-28s %8d  %s%n",
              r.id(), r.deadAt(), r.envelope().recipient(), r.attempts(), oneLine(r.cause(), 80));
        }
        out.println(all.size() + " dead letter(s) in " + store.db);
        return 0;
      }
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one dead letter.")
  static final class Show implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Parameters(paramLabel = "ID", description = "The message id (see dlq list).")
    long id;

    @Override
    public Integer call() {
      try (SqliteJournal j = open(store)) {
        Optional<DeadLetterRecord> found = j.deadLetter(id);
        if (found.isEmpty()) {
          return noSuchDeadLetter("show", id);
        }
        DeadLetterRecord r = found.get();
        Envelope e = r.envelope();
        System.out.println("id:          " + e.id());
        System.out.println("type:        " + e.type());
        System.out.println("from:        " + e.sender());
        System.out.println("to:          " + e.recipient());
        System.out.println("priority:    " + e.priority());
        System.out.println("headers:     " + e.headers());
        System.out.println("created at:  " + e.createdAt());
        System.out.println("dead at:     " + r.deadAt());
        System.out.println("attempts:    " + r.attempts());
        System.out.println("cause:       " + r.cause());
        System.out.println("payload:     " + payloadText(e));
        for (DeadLetterRecord.Attempt a : r.history()) {
          System.out.println("  attempt " + a.attempt() + " at " + a.at() + ": " + a.error());
        }
        return 0;
      }
    }
  }

  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description = "Makes a dead letter pending again (attempts reset).")
  static final class Replay implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Parameters(paramLabel = "ID", description = "The message id (see dlq list).")
    long id;

    @Override
    public Integer call() {
      try (SqliteJournal j = open(store)) {
        Optional<Envelope> replayed = j.replayDeadLetter(id);
        if (replayed.isEmpty()) {
          return noSuchDeadLetter("replay", id);
        }
        System.out.println(
            "message "
                + id
                + " to "
                + replayed.get().recipient()
                + " is pending again; a runtime delivers it when it next opens "
                + store.db);
        return 0;
      }
    }
  }

  @Command(
      name = "purge",
      mixinStandardHelpOptions = true,
      description = "Deletes dead letters: one by id, or all with --all.")
  static final class Purge implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Parameters(arity = "0..1", paramLabel = "ID", description = "The message id to delete.")
    Long id;

    @Option(names = "--all", description = "Delete every dead letter.")
    boolean all;

    @Override
    public Integer call() {
      if ((id == null) == !all) {
        System.err.println("cfn dlq purge: give either one ID or --all");
        return 2;
      }
      try (SqliteJournal j = open(store)) {
        if (all) {
          System.out.println("deleted " + j.purgeDeadLetters() + " dead letter(s)");
          return 0;
        }
        if (!j.removeDeadLetter(id)) {
          return noSuchDeadLetter("purge", id);
        }
        System.out.println("deleted dead letter " + id);
        return 0;
      }
    }
  }
}
