package dev.cfn.cli;

import dev.cfn.server.auth.ApiToken;
import dev.cfn.server.auth.ClientCertificate;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.tls.ClientIdentity;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn cert issue|trust|list|revoke}: client certificates for mutual TLS ({@code cfn serve
 * --client-certs}), each mapped to a principal with a role, scopes, an expiry and a revocation, as
 * a token is, in the node's token file ({@code .cfn/tokens.db}, which keeps the certificate's
 * SHA-256 fingerprint, never a key). Works while {@code cfn serve} runs; a revocation takes effect
 * on the server's next request, open connections included.
 */
@Command(
    name = "cert",
    mixinStandardHelpOptions = true,
    description = {
      "Issues, trusts, lists and revokes client certificates for cfn serve --client-certs"
          + " (mutual TLS).",
      "A client presenting a trusted certificate is authenticated without a bearer token, as a"
          + " principal with a role and scopes like a token's; it is matched by its SHA-256"
          + " fingerprint, not by who signed it."
    },
    subcommands = {
      CertCommand.Issue.class,
      CertCommand.Trust.class,
      CertCommand.ListCerts.class,
      CertCommand.Revoke.class
    })
final class CertCommand extends CommandGroup {
  private static final Pattern ID = Pattern.compile("crt_[0-9a-f]{12}");

  /**
   * The role, scopes, lifetime and note of a new principal: a certificate ({@code cfn cert issue},
   * {@code trust}) or a token ({@code cfn token create}).
   */
  static final class Grant {
    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "viewer, agent, operator or admin.")
    String role;

    @Option(
        names = "--scope",
        paramLabel = "SCOPE",
        description =
            "What it may act for, repeatable: *, agent:TYPE, swarm:NAME, topic:TYPE, memory:NS"
                + " (default: *).")
    List<String> scopes;

    @Option(
        names = "--expires",
        paramLabel = "DURATION",
        description =
            "How long it is valid, such as 30d or 12h (default: 30d; at most 3650d; a"
                + " certificate is never trusted past its own end).")
    Duration expires = Duration.ofDays(30);

    @Option(
        names = "--note",
        paramLabel = "TEXT",
        description = "A label for ${PARENT-COMMAND-FULL-NAME} list.")
    String note = "";

    Role role() {
      return parseRole(role);
    }

    List<Scope> scopes() {
      return parseScopes(scopes);
    }

    /** {@code --role}'s value as a role; a usage error naming the roles otherwise. */
    static Role parseRole(String role) {
      try {
        return Role.parse(role);
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage(
            "--role: no role named '" + role + "'", "use viewer, agent, operator or admin");
      }
    }

    /** {@code --scope}'s values (all scopes, {@code *}, when none); a usage error otherwise. */
    static List<Scope> parseScopes(List<String> scopes) {
      List<Scope> parsed = new ArrayList<>();
      for (String s : scopes == null ? List.of("*") : scopes) {
        try {
          parsed.add(Scope.parse(s));
        } catch (IllegalArgumentException e) {
          throw CommandFailure.usage(
              "--scope '" + s + "' is not a scope",
              "write *, agent:TYPE, swarm:NAME, topic:TYPE or memory:NS");
        }
      }
      return parsed;
    }

    void check() {
      role();
      scopes();
      ValueConverters.positive("--expires", expires);
      if (expires.compareTo(TokenStore.MAX_LIFETIME) > 0) {
        throw CommandFailure.usage(
            "--expires " + expires.toDays() + "d is longer than 3650 days",
            "such as --expires 365d");
      }
      if (note.length() > TokenStore.MAX_NOTE_CHARS
          || note.chars().anyMatch(Character::isISOControl)) {
        throw CommandFailure.usage(
            "--note must be one line of at most " + TokenStore.MAX_NOTE_CHARS + " characters",
            "shorten it");
      }
    }

    /** Trusts {@code cert}, its audit event ({@code action}) queued with it in the token file. */
    ClientCertificate trust(Path tokens, X509Certificate cert, String action) {
      try (TokenStore store = TokenStore.open(tokens)) {
        return store.trustCertificate(
            cert, role(), scopes(), expires, note, KeysCommand.user(), action);
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage(e.getMessage(), null);
      }
    }
  }

  @Command(
      name = "issue",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a new client key and certificate, trusts it with the given role and scopes, and"
            + " writes both to --out FILE (PEM, 0600; for curl --cert FILE or cfn ... --server URL"
            + " --client-cert FILE).",
        "The key exists only in that file: hand it to the client and delete your copy."
      })
  static final class Issue implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenCommand.HomeOption home = new TokenCommand.HomeOption();
    @Mixin Grant grant = new Grant();

    @Option(
        names = "--out",
        required = true,
        paramLabel = "FILE",
        description = "Where the certificate and its private key go (must not exist).")
    Path out;

    @Option(
        names = "--name",
        paramLabel = "NAME",
        description = "The certificate's common name (default: cfn client).")
    String name = "cfn client";

    @Override
    public Integer call() {
      grant.check();
      if (name.isBlank() || name.length() > 64 || name.chars().anyMatch(Character::isISOControl)) {
        throw CommandFailure.usage(
            "--name must be 1 to 64 characters on one line", "such as --name build-server");
      }
      PathChecks.outputFile("--out", out);
      if (Files.exists(out)) {
        throw CommandFailure.usage(
            "--out " + out + " exists already; nothing was written", "choose a new file name");
      }
      Path tokens = home.file(true);
      Instant now = Instant.now();
      Instant end = now.plus(grant.expires);
      ClientIdentity id = ClientIdentity.generate(name, now.minus(Duration.ofMinutes(5)), end);
      try {
        id.writePem(out);
      } catch (IOException e) {
        throw CommandFailure.usage("cannot write --out " + out + ": " + e.getMessage(), null);
      }
      ClientCertificate trusted;
      try {
        trusted = grant.trust(tokens, id.certificate(), "cert.issue");
      } catch (RuntimeException e) {
        try {
          Files.deleteIfExists(out); // not trusted: the key is of no use, leave nothing behind
        } catch (IOException ignored) {
          // the failure below is what matters
        }
        throw e;
      }
      AuditedAction.drainQueued(spec, "cfn cert issue", tokens, "cert.issue");
      PrintWriter o = spec.commandLine().getOut();
      describe(o, "issued", trusted);
      o.println("wrote the certificate and its private key to " + out + " (0600)");
      o.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "trust",
      mixinStandardHelpOptions = true,
      description =
          "Trusts an existing client certificate (a PEM file; from your own CA, or self-signed)"
              + " with the given role and scopes.")
  static final class Trust implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenCommand.HomeOption home = new TokenCommand.HomeOption();
    @Mixin Grant grant = new Grant();

    @Parameters(paramLabel = "FILE", description = "The certificate, PEM (BEGIN CERTIFICATE).")
    Path file;

    @Override
    public Integer call() {
      grant.check();
      PathChecks.existingFile("FILE", file, "certificate file");
      X509Certificate cert;
      try {
        cert = ClientIdentity.readCertificate(file);
      } catch (IOException e) {
        throw CommandFailure.usage(e.getMessage(), null);
      }
      Path tokens = home.file(true);
      ClientCertificate trusted = grant.trust(tokens, cert, "cert.trust");
      AuditedAction.drainQueued(spec, "cfn cert trust", tokens, "cert.trust");
      PrintWriter o = spec.commandLine().getOut();
      describe(o, "trusted", trusted);
      o.flush();
      return ExitCode.OK;
    }
  }

  static void describe(PrintWriter out, String verb, ClientCertificate c) {
    out.println(
        verb
            + " client certificate "
            + c.principal().id()
            + ", role "
            + c.principal().role().label()
            + ", scopes "
            + TokenCommand.scopes(c.principal())
            + ", expires "
            + c.principal().expiresAt());
    out.println("SHA-256 " + c.fingerprint());
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "Lists the trusted client certificates (fingerprints, never keys).",
        "A record that fails its checksum is marked DAMAGED (the server refuses that certificate);"
            + " cfn token check says why."
      })
  static final class ListCerts implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenCommand.HomeOption home = new TokenCommand.HomeOption();

    @Option(
        names = "--json",
        description =
            "Print a JSON array: {id, role, scopes, state, fingerprint, subject, createdAt,"
                + " expiresAt, revokedAt, note, damaged, damage}.")
    boolean json;

    @Override
    public Integer call() {
      List<TokenStore.ListedCertificate> all;
      try (TokenStore store = TokenStore.open(home.file(false))) {
        all = store.certificates();
      }
      Instant now = Instant.now();
      PrintWriter out = spec.commandLine().getOut();
      long damaged = all.stream().filter(TokenStore.ListedCertificate::damaged).count();
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (TokenStore.ListedCertificate listed : all) {
          ClientCertificate c = listed.certificate();
          ApiToken p = c == null ? null : c.principal();
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("id", listed.id());
          m.put("role", p == null ? null : p.role().label());
          m.put("scopes", p == null ? null : p.scopes().stream().map(Scope::toString).toList());
          m.put("state", p == null ? null : p.state(now));
          m.put("fingerprint", c == null ? null : c.fingerprint());
          m.put("subject", c == null ? null : c.subject());
          m.put("createdAt", p == null ? null : p.createdAt().toString());
          m.put("expiresAt", p == null ? null : p.expiresAt().toString());
          m.put("revokedAt", p == null || p.revokedAt() == null ? null : p.revokedAt().toString());
          m.put("note", p == null ? null : p.note());
          m.put("damaged", listed.damaged());
          m.put("damage", listed.damage());
          rows.add(m);
        }
        out.println(AgentCommand.json(rows));
      } else {
        List<String[]> rows = new ArrayList<>();
        rows.add(
            new String[] {
              "ID", "ROLE", "STATE", "EXPIRES", "SCOPES", "RECORD", "SUBJECT", "SHA-256"
            });
        for (TokenStore.ListedCertificate listed : all) {
          ClientCertificate c = listed.certificate();
          String record = listed.damaged() ? "DAMAGED" : "ok";
          rows.add(
              c == null
                  ? new String[] {listed.id(), "?", "?", "?", "?", record, "?", "?"}
                  : new String[] {
                    listed.id(),
                    c.principal().role().label(),
                    c.principal().state(now),
                    c.principal().expiresAt().toString(),
                    TokenCommand.scopes(c.principal()),
                    record,
                    c.subject(),
                    c.fingerprint()
                  });
        }
        Table.print(out, rows);
        out.println(
            all.size()
                + " client certificate(s)"
                + (damaged == 0
                    ? ""
                    : ", "
                        + damaged
                        + " DAMAGED: the server refuses them; cfn token check says why;"
                        + " revoke each (cfn cert revoke ID) and issue or trust a new one"));
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = "Revokes a client certificate: refused from the next request on.")
  static final class Revoke implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenCommand.HomeOption home = new TokenCommand.HomeOption();

    @Parameters(paramLabel = "ID", description = "Its id (crt_..., see cfn cert list).")
    String id;

    @Override
    public Integer call() {
      if (!ID.matcher(id).matches()) {
        throw CommandFailure.usage(
            "'" + id + "' is not a client certificate id",
            "give the crt_... id that cfn cert list shows");
      }
      Path file = home.file(false);
      try (TokenStore store = TokenStore.open(file)) {
        if (!store.revoke(id, KeysCommand.user())) {
          throw CommandFailure.failed(
              "no client certificate with id " + id, "cfn cert list shows the ids");
        }
      }
      AuditedAction.drainQueued(spec, "cfn cert revoke", file, "cert.revoke");
      PrintWriter out = spec.commandLine().getOut();
      out.println("revoked " + id);
      out.flush();
      return ExitCode.OK;
    }
  }
}
