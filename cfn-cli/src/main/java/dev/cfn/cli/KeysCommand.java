package dev.cfn.cli;

import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.crypto.KeyInfo;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.crypto.SigningKey;
import java.io.PrintWriter;
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
 * {@code cfn keys init|rotate|list}: the keyring for encryption at rest in {@code .cfn/keys/} (see
 * {@link Keyring}). {@code init} and {@code rotate} are privileged actions and are recorded in the
 * audit log (so they refuse while another process, such as a server, holds it).
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
    subcommands = {KeysCommand.Init.class, KeysCommand.Rotate.class, KeysCommand.ListKeys.class})
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
      } catch (KeyringException | IllegalArgumentException e) {
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
      Keyring ring = audited(cfn, "keys.init", () -> Keyring.init(keys), Map.of());
      String fp = SigningKey.fingerprint(SigningKey.loadOrCreate(keys).publicKey());
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("keys", keys.toString());
        m.put("masterKeyId", ring.masterKeyId());
        m.put("auditKeyFingerprint", fp);
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
}
