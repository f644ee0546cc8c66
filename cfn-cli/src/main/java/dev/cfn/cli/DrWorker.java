package dev.cfn.cli;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.backup.StoreBackup;
import dev.cfn.store.backup.StoreFiles;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The node {@code cfn dr drill} loads, kills and restores: a runtime on the three store files of
 * {@code HOME/.cfn}, with an agent {@code dr-record/0} that handles each RELIABLE record {@code
 * "N:SENT_MILLIS"} by writing it to its journal state ({@code last}), to the memory ({@code
 * dr/last}) and to the call log ({@code dr-N}).
 *
 * <p>{@code --load}: takes backup sets every {@code --backup-every} into {@code --backups} and
 * sends records one after the other forever; after each send returns (the record is durable in the
 * journal: acknowledged to its producer) it appends {@code N SENT_MILLIS} to {@code --progress}.
 * The drill SIGKILLs it.
 *
 * <p>{@code --verify}: opens the (restored) files (recovery redelivers what was pending), answers a
 * RELIABLE request (the node is ready then: {@code readyAtMillis}), waits until the redelivered
 * records are handled ({@code drainedAtMillis}), and writes what the files hold to {@code --result}
 * as JSON: the last record of each file with its send time, whether the call log holds every record
 * up to its last, and the pending counts at open and after the drain.
 */
final class DrWorker {
  static final AgentId RECORDER = AgentId.of("dr-record", "0");
  private static final String NS = "dr";

  private DrWorker() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i], args[i + 1]);
    }
    Path cfn = Path.of(o.get("--home")).resolve(".cfn");
    Files.createDirectories(cfn);
    StoreFiles files = StoreFiles.in(cfn);
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(files.memory());
        SqliteCallLogStore calls = SqliteCallLogStore.open(files.calls())) {
      SqliteJournal journal =
          SqliteJournal.builder(files.journal()).payloadType(String.class).open();
      AgentRuntime rt =
          AgentRuntime.builder()
              .journal(journal)
              .jvmMetrics(false)
              .register(
                  AgentType.builder(
                          RECORDER.type(),
                          id ->
                              (m, ctx) -> {
                                String record = m.payload(String.class);
                                String n = record.substring(0, record.indexOf(':'));
                                if (n.equals("0")) { // the readiness probe: answered, not kept
                                  ctx.reply("ok");
                                  return;
                                }
                                memory.put(MemoryAccessor.operator(), NS, "last", record);
                                calls.record("dr-" + n, "{\"record\":\"" + record + "\"}");
                                ctx.effects().put("last", record);
                                if (m.isRequest()) {
                                  ctx.reply("ok");
                                }
                              })
                      .blocking()
                      .build())
              .build();
      if (o.containsKey("--load")) {
        load(rt, files, o);
      } else {
        verify(rt, journal, memory, calls, Path.of(o.get("--result")));
      }
      rt.close();
      journal.close();
    }
  }

  private static void load(AgentRuntime rt, StoreFiles files, Map<String, String> o)
      throws IOException {
    Duration every = Duration.ofMillis(Long.parseLong(o.get("--backup-every")));
    Path progress = Path.of(o.get("--progress"));
    try (StoreBackup.Schedule ignored =
            StoreBackup.schedule(files, Path.of(o.get("--backups")), every, 5);
        OutputStream out =
            Files.newOutputStream(progress, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      for (long n = 1; ; n++) {
        long sent = System.currentTimeMillis();
        rt.send(Envelope.to(RECORDER).delivery(DeliveryMode.RELIABLE).payload(n + ":" + sent));
        out.write((n + " " + sent + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush(); // into the page cache: it outlives a SIGKILL of this process
      }
    }
  }

  private static void verify(
      AgentRuntime rt,
      SqliteJournal journal,
      SqliteMemoryStore memory,
      SqliteCallLogStore calls,
      Path result)
      throws Exception {
    long pendingAtOpen = rt.pendingCount();
    rt.request(
            Envelope.to(AgentId.of(RECORDER.type(), "ready"))
                .delivery(DeliveryMode.RELIABLE)
                .payload("0:" + System.currentTimeMillis()),
            Duration.ofMinutes(1))
        .join();
    long readyAt = System.currentTimeMillis();
    // ready: recovered and answering; the records pending in the backup are handled meanwhile
    rt.awaitDrained(Duration.ofMinutes(5));
    long drainedAt = System.currentTimeMillis();
    String journalLast = journal.state(RECORDER.toString(), "last").orElse(null);
    String memoryLast =
        memory.get(MemoryAccessor.operator(), NS, "last").map(e -> e.value()).orElse(null);
    long callsLast = 0;
    boolean callsContiguous = true;
    long top =
        journalLast == null
            ? 0
            : Long.parseLong(journalLast.substring(0, journalLast.indexOf(':')));
    for (long n = top + 1000; n >= 1; n--) {
      boolean has = calls.find("dr-" + n).isPresent();
      if (has && callsLast == 0) {
        callsLast = n;
      } else if (!has && callsLast != 0) {
        callsContiguous = false;
        break;
      }
    }
    String callsRecord =
        callsLast == 0
            ? null
            : calls
                .find("dr-" + callsLast)
                .map(j -> j.substring(j.indexOf(':') + 2, j.length() - 2))
                .orElse(null);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("readyAtMillis", readyAt);
    r.put("pendingAtOpen", pendingAtOpen);
    r.put("drainedAtMillis", drainedAt);
    r.put("journalLast", journalLast);
    r.put("memoryLast", memoryLast);
    r.put("callsLast", callsRecord);
    r.put("callsContiguous", callsContiguous);
    r.put("pendingAfterRecovery", rt.pendingCount());
    Files.writeString(result, AgentCommand.json(r));
  }
}
