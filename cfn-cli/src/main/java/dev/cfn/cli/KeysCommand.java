package dev.cfn.cli;

import dev.cfn.core.spi.JournalException;
import dev.cfn.server.tls.ServerCertificate;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.crypto.KeyInfo;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.crypto.SigningKey;
import dev.cfn.store.seal.SealExisting;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn keys init|rotate|list|seal-existing}: the keyring for encryption at rest in {@code
 * .cfn/keys/} (see {@link Keyring}). {@code init} and {@code rotate} are privileged actions and are
 * recorded in the audit log (so they refuse while another process, such as a server, holds it).
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = {
      "Manages the keyring for encryption at rest (.cfn/keys): a master key that wraps each"
          + " store's data keys.",
      "The master key may instead come from the environment variable "
          + Keyring.MASTER_KEY_ENV
          + " (base64 of 32 bytes: openssl rand -base64 32). Back up .cfn/keys apart from the"
          + " data: without it, encrypted records cannot be read."
    },
    subcommands = {
      KeysCommand.Init.class,
      KeysCommand.Rotate.class,
      KeysCommand.ListKeys.class,
      KeysCommand.SealExistingFiles.class
    })
final class KeysCommand extends CommandGroup {

  static Path keysDir(Path cfn) {
    return cfn.resolve("keys");
  }

  static String user() {
    return "user:" + System.getProperty("user.name", "unknown");
  }

  /** Runs a privileged key action with its audit entry: SUCCESS, or FAILURE and rethrown. */
  static <T> T audited(Path cfn, String action, Supplier<T> run, Map<String, String> detail) {
    AuditLog log;
    try {
      log = AuditLog.open(cfn);
    } catch (AuditException | KeyringException e) {
      throw new CommandFailure(
          ExitCode.USAGE,
          "cannot record " + action + " in the audit log: " + e.getMessage(),
          null,
          e);
    }
    try (log) {
      T result;
      try {
        result = run.get();
      } catch (KeyringException | IllegalArgumentException | JournalException e) {
        log.append(
            AuditEvent.now(
                user(),
                action,
                keysDir(cfn).toString(),
                AuditEvent.Outcome.FAILURE,
                Map.of("reason", clip(e.getMessage()))));
        throw new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
      }
      log.append(
          AuditEvent.now(
              user(), action, keysDir(cfn).toString(), AuditEvent.Outcome.SUCCESS, detail));
      return result;
    }
  }

  private static String clip(String s) {
    return s == null ? "" : s.length() > 1000 ? s.substring(0, 1000) : s;
  }

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description =
          "Creates the keyring: a new master key in .cfn/keys/master.json (0600) and the audit"
              + " signing key; never overwrites.")
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      Path keys = keysDir(cfn);
      if (Keyring.configured(keys, System.getenv())) {
        throw CommandFailure.usage(
            System.getenv(Keyring.MASTER_KEY_ENV) != null
                ? "the master key comes from "
                    + Keyring.MASTER_KEY_ENV
                    + "; there is nothing to create"
                : "a keyring exists already in " + keys,
            "nothing was changed; cfn keys list shows it, cfn keys rotate replaces the master key");
      }
      List<String> before = writtenBefore(cfn);
      Keyring ring = audited(cfn, "keys.init", () -> Keyring.init(keys), Map.of());
      String fp = SigningKey.fingerprint(SigningKey.loadOrCreate(keys).publicKey());
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("keys", keys.toString());
        m.put("masterKeyId", ring.masterKeyId());
        m.put("auditKeyFingerprint", fp);
        m.put("plainStoreFiles", before);
        out.println(AgentCommand.json(m));
      } else {
        out.println("created the keyring in " + keys + ":");
        out.println(
            "  master key "
                + ring.masterKeyId()
                + " in "
                + keys.resolve("master.json")
                + " (0600)");
        out.println("  audit signing key " + fp);
        out.println(
            "back up "
                + keys
                + " apart from the data: without it, encrypted records cannot be read");
        if (!before.isEmpty()) {
          out.println(
              "note: "
                  + String.join(", ", before)
                  + " were written before the keyring: the records already in them stay plain"
                  + " (readable, and in the files' free pages) until they are rewritten or"
                  + " removed; only new records are sealed. To seal them too: cfn keys"
                  + " seal-existing (with the node stopped).");
        }
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "rotate",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a new master key and re-wraps every data key under it; records are not touched,"
            + " so none is lost and old ones stay readable.",
        "With the master key in "
            + Keyring.MASTER_KEY_ENV
            + ", set "
            + Keyring.NEW_MASTER_KEY_ENV
            + " to the new key first, then swap them."
      })
  static final class Rotate implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      Keyring ring = open(keysDir(cfn));
      Keyring.Rotation r =
          audited(cfn, "keys.rotate", ring::rotate, Map.of("oldMasterKeyId", ring.masterKeyId()));
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("oldMasterKeyId", r.oldMasterKeyId());
        m.put("newMasterKeyId", r.newMasterKeyId());
        m.put("dataKeysRewrapped", r.dataKeysRewrapped());
        m.put("fromEnvironment", r.fromEnvironment());
        out.println(AgentCommand.json(m));
      } else {
        out.println(
            "rotated the master key "
                + r.oldMasterKeyId()
                + " -> "
                + r.newMasterKeyId()
                + "; re-wrapped "
                + r.dataKeysRewrapped()
                + " data key(s); every record stays readable");
        if (r.fromEnvironment()) {
          out.println(
              "now set "
                  + Keyring.MASTER_KEY_ENV
                  + " to the value of "
                  + Keyring.NEW_MASTER_KEY_ENV
                  + " and unset "
                  + Keyring.NEW_MASTER_KEY_ENV);
        }
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  /** The store files under {@code cfn} that exist already, so were written without a keyring. */
  static List<String> writtenBefore(Path cfn) {
    List<String> found = new ArrayList<>();
    for (String name : List.of("cfn.db", "memory.db", "calls.db")) {
      if (java.nio.file.Files.exists(cfn.resolve(name))) {
        found.add(cfn.resolve(name).toString());
      }
    }
    return found;
  }

  static Keyring open(Path keys) {
    try {
      return Keyring.open(keys);
    } catch (KeyringException e) {
      throw new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Lists the master key and every store's data keys (ids only, never a key).")
  static final class ListKeys implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--json", description = "Print the keys as a JSON array.")
    boolean json;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      List<KeyInfo> keys;
      try {
        keys = open(keysDir(cfn)).list();
      } catch (KeyringException e) {
        throw new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        List<Map<String, Object>> all = new ArrayList<>();
        for (KeyInfo k : keys) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("kind", k.kind());
          m.put("id", k.id());
          m.put("store", k.store());
          m.put("wrappedBy", k.wrappedBy());
          m.put("created", k.created() == null ? null : k.created().toString());
          m.put("state", k.state());
          m.put("uses", k.uses());
          all.add(m);
        }
        out.println(AgentCommand.json(all));
        out.flush();
        return ExitCode.OK;
      }
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"KIND", "ID", "STORE", "WRAPPED BY", "CREATED", "STATE", "USES"});
      for (KeyInfo k : keys) {
        rows.add(
            new String[] {
              k.kind(),
              k.id(),
              AgentCommand.orDash(k.store()),
              AgentCommand.orDash(k.wrappedBy()),
              AgentCommand.orDash(k.created()),
              k.state(),
              k.kind().equals("data") ? Long.toString(k.uses()) : "-"
            });
      }
      Table.print(out, rows);
      if (keys.stream().anyMatch(k -> k.state().equals("retiring"))) {
        out.println("a rotation was interrupted: run cfn keys rotate again to finish it");
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "seal-existing",
      mixinStandardHelpOptions = true,
      description = {
        "Seals the records written before the keyring existed: rewrites each store file under"
            + " .cfn (journal, memory, call log, single-file journal backups) through a verified,"
            + " compacted copy renamed over it, and seals a plain TLS private key.",
        "Refused while a node runs on the folder (stop it first). A crash at any point leaves"
            + " each file whole (old or new); run it again to finish. Backup sets are listed,"
            + " never rewritten."
      })
  static final class SealExistingFiles implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Option(
        names = "--force",
        description = "Rewrite every store file, even those with nothing plain left.")
    boolean force;

    @Option(names = "--dry-run", description = "Show what would be sealed; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      if (!Files.isDirectory(cfn)) {
        throw CommandFailure.usage(
            "no .cfn folder in " + home.home.toAbsolutePath() + ", so there is nothing to seal",
            "nothing was changed; run it in the project folder, or give it with --home DIR");
      }
      Path keys = keysDir(cfn);
      if (!Keyring.configured(keys, System.getenv())) {
        throw CommandFailure.usage(
            "no keyring: "
                + keys.resolve("master.json")
                + " does not exist and "
                + Keyring.MASTER_KEY_ENV
                + " is not set, so there is no key to seal with",
            "nothing was changed; cfn keys init makes one (or set "
                + Keyring.MASTER_KEY_ENV
                + "), then run cfn keys seal-existing");
      }
      Keyring ring = open(keys);
      try (ring) {
        SealExisting.Plan plan = SealExisting.plan(cfn, ring);
        List<SealExisting.FileState> todo = plan.toSeal(force);
        boolean tlsPlain = tlsKeyPlain(cfn);
        PrintWriter out = spec.commandLine().getOut();
        if (dryRun) {
          printPlan(out, plan, todo, tlsPlain);
          out.flush();
          return ExitCode.OK;
        }
        if (todo.isEmpty() && !tlsPlain) {
          throw CommandFailure.usage(
              "already sealed: none of the "
                  + plan.files().size()
                  + " store file(s) under "
                  + cfn
                  + " holds a plain record, a free page or a write-ahead log"
                  + (Files.exists(cfn.resolve("tls").resolve(ServerCertificate.KEY_FILE))
                      ? ", and the TLS private key is sealed"
                      : ""),
              "nothing was changed; --force rewrites the files anyway, --dry-run shows each");
        }
        SealExisting.Report report =
            audited(
                cfn,
                "keys.seal-existing",
                () -> SealExisting.run(cfn, ring, force, progress()),
                Map.of("files", Integer.toString(todo.size()), "force", Boolean.toString(force)));
        boolean tlsSealed = sealTls(cfn);
        print(out, report, tlsSealed);
        out.flush();
        return ExitCode.OK;
      }
    }

    private SealExisting.Listener progress() {
      PrintWriter err = spec.commandLine().getErr();
      return (stage, file) -> {
        if (!json && stage == SealExisting.Stage.SWAPPED) {
          err.println("sealed " + file);
          err.flush();
        }
      };
    }

    private static boolean tlsKeyPlain(Path cfn) {
      Path key = cfn.resolve("tls").resolve(ServerCertificate.KEY_FILE);
      try {
        return Files.exists(key)
            && !Files.readString(key, java.nio.charset.StandardCharsets.US_ASCII)
                .startsWith("-----BEGIN CFN SEALED");
      } catch (IOException e) {
        throw new CommandFailure(
            ExitCode.USAGE, "cannot read " + key + ": " + e.getMessage(), null, e);
      }
    }

    private static boolean sealTls(Path cfn) {
      try {
        return ServerCertificate.sealKeyIfPlain(cfn.resolve("tls"));
      } catch (IOException e) {
        throw new CommandFailure(
            ExitCode.USAGE,
            "the store files are sealed, but the TLS private key is not: " + e.getMessage(),
            null,
            e);
      }
    }

    private void printPlan(
        PrintWriter out,
        SealExisting.Plan plan,
        List<SealExisting.FileState> todo,
        boolean tlsPlain) {
      if (json) {
        List<Map<String, Object>> files = new ArrayList<>();
        for (SealExisting.FileState f : plan.files()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("file", f.file().toString());
          m.put("store", f.store());
          m.put("marked", f.marked());
          m.put("plainRecords", f.plainRecords());
          m.put("freePages", f.freePages());
          m.put("walBytes", f.walBytes());
          m.put("willSeal", todo.contains(f));
          files.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", files);
        m.put("tlsKeyPlain", tlsPlain);
        m.put("backupSets", plan.backupSets().stream().map(Path::toString).toList());
        out.println(AgentCommand.json(m));
        return;
      }
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"FILE", "STORE", "PLAIN RECORDS", "FREE PAGES", "WAL BYTES", "SEAL"});
      for (SealExisting.FileState f : plan.files()) {
        rows.add(
            new String[] {
              f.file().toString(),
              f.store(),
              Long.toString(f.plainRecords()),
              Long.toString(f.freePages()),
              Long.toString(f.walBytes()),
              todo.contains(f) ? "yes" : "no"
            });
      }
      Table.print(out, rows);
      out.println("TLS private key: " + (tlsPlain ? "plain, would be sealed" : "sealed or none"));
      printSets(out, plan.backupSets());
    }

    private void print(PrintWriter out, SealExisting.Report r, boolean tlsSealed) {
      if (json) {
        List<Map<String, Object>> files = new ArrayList<>();
        for (SealExisting.Sealed s : r.sealed()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("file", s.file().toString());
          m.put("store", s.store());
          m.put("recordsSealed", s.recordsSealed());
          m.put("sealedRecords", s.sealedRecords());
          m.put("bytesBefore", s.bytesBefore());
          m.put("bytesAfter", s.bytesAfter());
          files.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sealed", files);
        m.put("untouched", r.untouched().stream().map(Path::toString).toList());
        m.put("tlsKeySealed", tlsSealed);
        m.put("backupSets", r.backupSets().stream().map(Path::toString).toList());
        m.put("leftoversRemoved", r.leftoversRemoved());
        out.println(AgentCommand.json(m));
        return;
      }
      for (SealExisting.Sealed s : r.sealed()) {
        out.println(
            "sealed "
                + s.file()
                + " ("
                + s.store()
                + "): "
                + s.recordsSealed()
                + " plain record(s) sealed, "
                + s.sealedRecords()
                + " sealed record(s) verified, "
                + s.bytesBefore()
                + " -> "
                + s.bytesAfter()
                + " bytes");
      }
      for (Path p : r.untouched()) {
        out.println("already sealed " + p);
      }
      if (tlsSealed) {
        out.println("sealed the TLS private key");
      }
      if (r.leftoversRemoved() > 0) {
        out.println("removed " + r.leftoversRemoved() + " file(s) an interrupted run left");
      }
      printSets(out, r.backupSets());
    }

    private static void printSets(PrintWriter out, List<Path> sets) {
      if (!sets.isEmpty()) {
        out.println(
            "note: "
                + sets.size()
                + " backup set(s) were not rewritten (their manifests vouch for every byte) and"
                + " may hold records of before the keyring: take a new set (cfn dr backup), then"
                + " delete the older ones: "
                + String.join(", ", sets.stream().map(Path::toString).toList()));
      }
    }
  }
}
