package dev.cfn.server;

import dev.cfn.store.StoreCheck;
import dev.cfn.store.journal.BackupInfo;
import dev.cfn.store.journal.JournalFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's files, for the operator commands run against a running node ({@code cfn store check
 * --server URL}, {@code cfn backup --server URL}): an integrity check of the journal, the memory
 * file and the token file as they are in use, and an online snapshot of the journal streamed to the
 * caller. Both read the files beside the running runtime (a read-only connection, the journal's
 * lock never taken), so they need no stop and fight over no lock.
 */
final class StoreRoutes {
  /** The media type of a journal snapshot (a SQLite database file). */
  static final String SNAPSHOT_TYPE = "application/vnd.sqlite3";

  /** The header that carries what the snapshot holds, as one JSON object. */
  static final String INFO_HEADER = "Cfn-Backup-Info";

  private final Node node;

  StoreRoutes(Node node) {
    this.node = node;
  }

  /**
   * {@code GET /v1/store/check}: {@code PRAGMA integrity_check} and every record's checksum, for
   * the journal, the memory file and the token file (kinds {@code journal}, {@code memory}, {@code
   * tokens}; a damaged token record is listed by its id, never a secret); {@code {ok, files:
   * [{file, kind, ok, problems}]}}, the shape of {@code cfn store check --json}.
   */
  Object check(Call call) {
    List<Map<String, Object>> files = new ArrayList<>();
    boolean ok = add(files, journalFile(), "journal", JournalFiles.check(journalFile()));
    ok &= add(files, node.home.resolve(".cfn").resolve("memory.db"), "memory", node.memory.check());
    ok &= add(files, node.tokens.file(), "tokens", node.tokens.check());
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("ok", ok);
    all.put("files", files);
    return all;
  }

  /**
   * {@code GET /v1/backup}: a verified, consistent snapshot of the journal, taken into a private
   * temporary file under {@code .cfn} and streamed as the body ({@value #SNAPSHOT_TYPE}, with its
   * {@code Content-Length}); what it holds is in the {@value #INFO_HEADER} header. The temporary
   * file is removed once sent.
   */
  Object backup(Call call) throws IOException {
    call.target("journal");
    Path folder = node.home.resolve(".cfn");
    Path tmp = Files.createTempFile(folder, "backup-", ".db");
    try {
      Files.delete(tmp); // the snapshot refuses an existing target
      BackupInfo info = JournalFiles.backup(journalFile(), tmp);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("bytes", info.bytes());
      m.put("highestAcknowledgedId", info.highestAcknowledgedId());
      m.put("pendingMessages", info.pendingMessages());
      m.put("acknowledgedIds", info.acknowledgedIds());
      m.put("deadLetters", info.deadLetters());
      m.put("stateRows", info.stateRows());
      m.put("takenAt", info.takenAt().toString());
      call.ctx.status(200);
      call.ctx.contentType(SNAPSHOT_TYPE);
      call.ctx.header(INFO_HEADER, Gate.JSON.writeValueAsString(m));
      call.ctx.header("Content-Length", Long.toString(Files.size(tmp)));
      try (OutputStream out = call.ctx.outputStream()) {
        Files.copy(tmp, out);
      }
      return Gate.STREAMED;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private Path journalFile() {
    return node.home.resolve(".cfn").resolve("cfn.db");
  }

  private static boolean add(
      List<Map<String, Object>> files, Path file, String kind, StoreCheck result) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("file", file.toString());
    m.put("kind", kind);
    m.put("ok", result.ok());
    m.put("problems", result.problems());
    files.add(m);
    return result.ok();
  }
}
