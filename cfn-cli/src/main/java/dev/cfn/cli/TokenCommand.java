package dev.cfn.cli;

import dev.cfn.server.auth.ApiToken;
import dev.cfn.server.auth.IssuedToken;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn token create|list|revoke|check}: the API tokens of the node under {@code --home}
 * ({@code .cfn/tokens.db}, which keeps only each token's SHA-256). Works while {@code cfn serve}
 * runs; a revocation takes effect on the server's next request.
 */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description = {
      "Creates, lists, revokes and checks API tokens for cfn serve.",
      "Roles: viewer (reads), agent (messages, memory), operator (spawn, stop, dead-letter"
          + " replay), admin (also purges). Scopes: *, agent:TYPE, swarm:NAME,"
          + " topic:TYPE[*], memory:NS."
    },
    subcommands = {
      TokenCommand.Create.class,
      TokenCommand.ListTokens.class,
      TokenCommand.Revoke.class,
      TokenCommand.CheckFile.class
    })
final class TokenCommand extends CommandGroup {
  private static final Pattern ID = Pattern.compile("tok_[0-9a-f]{12}");

  /** The {@code --home} option every subcommand takes. */
  static final class HomeOption {
    @Option(
        names = "--home",
        paramLabel = "DIR",
        description = "The folder whose .cfn holds the tokens (default: the current folder).")
    Path home = Path.of(".");

    Path file(boolean create) {
      if (!Files.isDirectory(home)) {
        throw CommandFailure.usage(
            "--home " + home + " is not a folder", "give an existing folder");
      }
      Path file = home.resolve(TokenStore.DEFAULT_FILE);
      if (!create && !Files.exists(file)) {
        throw CommandFailure.usage(
            "no token file at " + file.toAbsolutePath(), "cfn token create makes the first token");
      }
      return file;
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Creates a token and prints it once, alone on the last line of stdout.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin HomeOption home = new HomeOption();

    @picocli.CommandLine.Mixin CertCommand.Grant grant = new CertCommand.Grant();

    @Override
    public Integer call() {
      grant.check();
      Path file = home.file(true);
      IssuedToken issued;
      try (TokenStore store = TokenStore.open(file)) {
        // its audit event (id, role, scopes, expiry: never the secret) is queued with it
        issued =
            store.create(
                grant.role(), grant.scopes(), grant.expires, grant.note, KeysCommand.user());
      }
      ApiToken t = issued.token();
      AuditedAction.drainQueued(spec, "cfn token create", file, "token.create");
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "token "
              + t.id()
              + ", role "
              + t.role().label()
              + ", scopes "
              + scopes(t)
              + ", expires "
              + t.expiresAt()
              + "; it is shown only now: store it in a secret store");
      out.println(issued.secret());
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "Lists the tokens (never their secrets).",
        "A record that fails its checksum is marked DAMAGED (the server refuses that token);"
            + " cfn token check says why."
      })
  static final class ListTokens implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin HomeOption home = new HomeOption();

    @Option(
        names = "--json",
        description =
            "Print a JSON array: {id, role, scopes, state, createdAt, expiresAt, revokedAt, note,"
                + " damaged, damage}.")
    boolean json;

    @Override
    public Integer call() {
      List<TokenStore.Listed> all;
      try (TokenStore store = TokenStore.open(home.file(false))) {
        all = store.list();
      }
      Instant now = Instant.now();
      PrintWriter out = spec.commandLine().getOut();
      long damaged = all.stream().filter(TokenStore.Listed::damaged).count();
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (TokenStore.Listed listed : all) {
          ApiToken t = listed.token();
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("id", listed.id());
          m.put("role", t == null ? null : t.role().label());
          m.put("scopes", t == null ? null : t.scopes().stream().map(Scope::toString).toList());
          m.put("state", t == null ? null : t.state(now));
          m.put("createdAt", t == null ? null : t.createdAt().toString());
          m.put("expiresAt", t == null ? null : t.expiresAt().toString());
          m.put("revokedAt", t == null || t.revokedAt() == null ? null : t.revokedAt().toString());
          m.put("note", t == null ? null : t.note());
          m.put("damaged", listed.damaged());
          m.put("damage", listed.damage());
          rows.add(m);
        }
        out.println(AgentCommand.json(rows));
      } else {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "ROLE", "STATE", "EXPIRES", "SCOPES", "RECORD", "NOTE"});
        for (TokenStore.Listed listed : all) {
          ApiToken t = listed.token();
          String record = listed.damaged() ? "DAMAGED" : "ok";
          rows.add(
              t == null
                  ? new String[] {listed.id(), "?", "?", "?", "?", record, ""}
                  : new String[] {
                    listed.id(),
                    t.role().label(),
                    t.state(now),
                    t.expiresAt().toString(),
                    scopes(t),
                    record,
                    t.note()
                  });
        }
        Table.print(out, rows);
        out.println(
            all.size()
                + " token(s)"
                + (damaged == 0
                    ? ""
                    : ", "
                        + damaged
                        + " DAMAGED: the server refuses them; cfn token check says why; revoke"
                        + " each (cfn token revoke ID) and create a new one"));
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = "Revokes a token: refused from the next request on.")
  static final class Revoke implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin HomeOption home = new HomeOption();

    @Parameters(paramLabel = "ID", description = "The token's id (tok_..., see cfn token list).")
    String id;

    @Override
    public Integer call() {
      if (!ID.matcher(id).matches()) {
        throw CommandFailure.usage(
            "'" + id + "' is not a token id", "give the tok_... id that cfn token list shows");
      }
      Path file = home.file(false);
      try (TokenStore store = TokenStore.open(file)) {
        if (!store.revoke(id, KeysCommand.user())) {
          throw CommandFailure.failed("no token with id " + id, "cfn token list shows the ids");
        }
      }
      AuditedAction.drainQueued(spec, "cfn token revoke", file, "token.revoke");
      PrintWriter out = spec.commandLine().getOut();
      out.println("revoked " + id);
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Verifies the token file: PRAGMA integrity_check and every token and client certificate"
            + " record's CRC32C; lists each damaged record by id.",
        "A damaged record is refused by the server. Exits 1 when anything is wrong."
      })
  static final class CheckFile implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin HomeOption home = new HomeOption();

    @Override
    public Integer call() {
      Path file = home.file(false);
      dev.cfn.store.StoreCheck result;
      try (TokenStore store = TokenStore.open(file)) {
        result = store.check();
      }
      PrintWriter out = spec.commandLine().getOut();
      if (result.ok()) {
        out.println("ok: " + file + " passed the integrity check and every checksum");
        out.flush();
        return ExitCode.OK;
      }
      out.println(result.problems().size() + " problem(s) in " + file + ":");
      result.problems().forEach(p -> out.println("  " + p));
      out.flush();
      throw CommandFailure.failed(
          "found problems (listed above)",
          "revoke each damaged token (cfn token revoke ID) and create a new one, or move the file"
              + " aside and create new tokens");
    }
  }

  static String scopes(ApiToken t) {
    return String.join(" ", t.scopes().stream().map(Scope::toString).toList());
  }
}
