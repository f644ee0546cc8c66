package dev.cfn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.audit.AuditReport;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.crypto.SigningKey;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn audit verify|tail}: checks and reads the audit log in {@code .cfn/audit/} (see {@link
 * AuditLog}). Both only read, without the writer's lock, so they work beside a running server.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {
      "Checks and reads the audit log (.cfn/audit/audit.log): append-only, hash-chained, with"
          + " Ed25519-signed checkpoints.",
      "Both commands only read; they work while a server appends."
    },
    subcommands = {AuditCommand.Verify.class, AuditCommand.Tail.class})
final class AuditCommand extends CommandGroup {

  static CommandFailure failure(RuntimeException e) {
    return new CommandFailure(ExitCode.USAGE, e.getMessage(), null, e);
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Checks every entry's hash, number and link, every checkpoint's signature, and the signed"
            + " head; exits 1 naming the first bad entry.",
        "Detects a changed, deleted, inserted, reordered or truncated entry; entries after the"
            + " last checkpoint are protected against change, not against removal (the output"
            + " says how many)."
      })
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Option(
        names = "--public-key",
        paramLabel = "FILE",
        description =
            "The Ed25519 public key (PEM) the log must be signed with, kept apart from the log"
                + " (default: trust the key its header records).")
    Path publicKey;

    @Override
    public Integer call() {
      Path cfn = home.cfnDir();
      PublicKey expected = null;
      if (publicKey != null) {
        PathChecks.existingFile("--public-key", publicKey, "public key file");
        try {
          expected = SigningKey.readPublicKey(publicKey);
        } catch (KeyringException e) {
          throw failure(e);
        }
      }
      AuditReport r;
      try {
        r = AuditLog.verify(cfn, expected);
      } catch (AuditException e) {
        throw failure(e);
      }
      Path file = cfn.resolve(AuditLog.FOLDER).resolve(AuditLog.FILE);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", file.toString());
        m.put("ok", r.ok());
        m.put("entries", r.entries());
        m.put("events", r.events());
        m.put("checkpoints", r.checkpoints());
        m.put("signedThrough", r.signedThrough());
        m.put("unsigned", r.unsigned());
        m.put("headHash", r.headHash());
        m.put("keyFingerprint", r.keyFingerprint());
        m.put("badEntry", r.ok() ? null : r.badEntry());
        m.put("badOffset", r.ok() || r.badOffset() < 0 ? null : r.badOffset());
        m.put("problem", r.problem());
        out.println(AgentCommand.json(m));
      } else if (r.ok()) {
        out.println("audit log " + file + ": OK");
        out.println(
            "  "
                + r.events()
                + " events, "
                + r.checkpoints()
                + " signed checkpoints; signed through entry "
                + r.signedThrough()
                + ", "
                + r.unsigned()
                + " entries after it");
        if (r.unsigned() > 0) {
          out.println(
              "  the "
                  + r.unsigned()
                  + " entries after the last checkpoint are not signed yet: a change to them is"
                  + " detected, their removal from the end is not");
        }
        out.println("  head hash  " + r.headHash());
        out.println("  key        " + r.keyFingerprint() + " (compare with a copy kept elsewhere)");
      }
      out.flush();
      if (!r.ok()) {
        throw CommandFailure.failed(
            file + ": " + r.problem(),
            r.badEntry() > 1
                ? "entries 1 to " + (r.badEntry() - 1) + " are intact; keep the file as evidence"
                : "keep the file as evidence");
      }
      return ExitCode.OK;
    }
  }

  @Command(
      name = "tail",
      mixinStandardHelpOptions = true,
      description =
          "Prints the last events of the audit log; with --follow, new ones as they come.")
  static final class Tail implements Callable<Integer> {
    private static final ObjectMapper ONE_LINE = new ObjectMapper();

    @Spec CommandSpec spec;
    @Mixin HomeOption home = new HomeOption();

    @Option(
        names = {"-n", "--lines"},
        paramLabel = "N",
        description = "How many of the last events (default: 20).")
    int lines = 20;

    @Option(
        names = "--follow",
        description = "Keep printing events as they are appended (Ctrl-C ends).")
    boolean follow;

    @Option(names = "--json", description = "Print one JSON object per event and line.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
      if (lines < 1 || lines > 1_000_000) {
        throw CommandFailure.usage(
            "-n " + lines + " is out of range", "give a number of events from 1 to 1000000");
      }
      Path cfn = home.cfnDir();
      PrintWriter out = spec.commandLine().getOut();
      AuditLog.Page page;
      try {
        page = AuditLog.read(cfn, null, lines);
      } catch (AuditException e) {
        throw failure(e);
      }
      print(out, page.entries());
      while (follow && page.problem() == null) {
        Thread.sleep(Duration.ofMillis(500));
        page = AuditLog.read(cfn, page.next(), 0);
        print(out, page.entries());
      }
      if (page.problem() != null) {
        throw CommandFailure.failed(
            "the audit log is damaged: " + page.problem(), "cfn audit verify tells more");
      }
      return ExitCode.OK;
    }

    private void print(PrintWriter out, List<AuditEntry> entries) {
      for (AuditEntry e : entries) {
        out.println(json ? AgentCommand.json(ONE_LINE, json(e)) : line(e));
      }
      out.flush();
    }

    static Map<String, Object> json(AuditEntry e) {
      AuditEvent ev = e.event();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("seq", e.seq());
      m.put("time", ev.time().toString());
      m.put("principal", ev.principal());
      m.put("action", ev.action());
      m.put("target", ev.target());
      m.put("outcome", ev.outcome().name());
      m.put("detail", ev.detail());
      m.put("hash", e.hash());
      return m;
    }

    static String line(AuditEntry e) {
      AuditEvent ev = e.event();
      String detail =
          ev.detail().entrySet().stream()
              .map(d -> d.getKey() + "=" + printable(d.getValue()))
              .collect(Collectors.joining(" "));
      return String.join(
              "  ",
              "#" + e.seq(),
              ev.time().toString(),
              ev.outcome().name(),
              ev.principal(),
              ev.action(),
              ev.target().isEmpty() ? "-" : ev.target(),
              detail)
          .strip();
    }

    /** A detail value on one line: control characters escaped, spaces quoted. */
    static String printable(String s) {
      StringBuilder b = new StringBuilder(s.length());
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (Character.isISOControl(c)) {
          b.append(String.format("\\u%04x", (int) c));
        } else {
          b.append(c);
        }
      }
      String t = b.toString();
      return t.contains(" ") || t.isEmpty() ? '"' + t.replace("\"", "\\\"") + '"' : t;
    }
  }
}
