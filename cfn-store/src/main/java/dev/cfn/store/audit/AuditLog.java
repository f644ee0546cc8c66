package dev.cfn.store.audit;

import dev.cfn.store.crypto.SigningKey;
import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cfn's audit log: an append-only, hash-chained file of {@link AuditEvent}s with checkpoints signed
 * by an Ed25519 key, in {@code .cfn/audit/}.
 *
 * <ul>
 *   <li>{@link #append} returns once the event is on disk ({@code fsync}); appenders that arrive
 *       while one forces the file are committed together by the next force (group commit).
 *   <li>Every {@code checkpointEvery} entries, every {@code checkpointInterval} while entries wait,
 *       and on {@link #close}, a checkpoint entry signs the hash of everything before it, and the
 *       same checkpoint is written (atomically) to {@code audit.head}.
 *   <li>{@link #verify(Path, PublicKey)} checks a log and {@link #tail(Path, int)} reads its last
 *       events; both work while a writer appends, without its lock.
 * </ul>
 *
 * <p>One process appends at a time (a file lock; a second gets a clear error). A log whose last
 * entry a crash cut short is cut back to its last whole entry (that entry's {@code append} had not
 * returned) and the repair is itself logged as {@code audit.repair}.
 *
 * <p><b>Opening costs what was written since the last checkpoint, not the whole log.</b> With each
 * signed head, the log writes a hint ({@value #TAIL_HINT}: the log's id, the checkpoint's number
 * and its byte offset). Opening reads the header, checks the head's signature, finds the head's
 * checkpoint at the hinted offset byte for byte, and reads and checks the chain only from there on
 * (at most {@code checkpointEvery} entries, or {@code checkpointInterval} of them). Tampering in
 * that part, or with the head, the hint or the checkpoint they point at, is found before anything
 * is appended; a missing, stale or wrong hint only costs a full read. What lies before the
 * checkpoint is covered by its signature over the chain, and is checked in full by a background
 * reader right after opening ({@link #checked()}): when that finds damage, the log refuses every
 * later append with an error naming the damage, and {@code cfn audit verify} names it too. Without
 * a usable hint (a new log, one from an older cfn, a deleted hint), opening checks the whole chain
 * first, as before, and any damage refuses to open, so a log known to be damaged is never appended
 * to.
 */
public final class AuditLog implements AutoCloseable {
  /** The folder, under {@code .cfn}, that holds the log. */
  public static final String FOLDER = "audit";

  /** The log file's name. */
  public static final String FILE = "audit.log";

  /** The signed head's file name. */
  public static final String HEAD = "audit.head";

  /**
   * Where in the log the checkpoint of the signed head starts: a hint that lets {@link #open} start
   * at the last checkpoint instead of reading the whole log (see the class comment). Not trusted:
   * it only says where to look, and the bytes found there must be the signed head's.
   */
  public static final String TAIL_HINT = "audit.tail";

  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
  private static final HexFormat HEX = HexFormat.of();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path cfnDir;
  private final Path file;
  private final Path headFile;
  private final Path hintFile;
  private final FileChannel channel;
  private final FileLock lock;
  private final SigningKey key;
  private final byte[] fingerprint;
  private final byte[] logId;
  private final int checkpointEvery;
  private final ScheduledExecutorService timer;

  private final ReentrantLock writeLock = new ReentrantLock();
  // guarded by writeLock
  private long nextSeq;
  private byte[] prev;
  private long position;
  private int unsigned;
  private boolean failed;
  private boolean closed;

  private final Object syncLock = new Object();
  private volatile long written; // the last seq written to the channel
  private long synced; // guarded by syncLock

  private final Object headLock = new Object();
  private long headSeq; // guarded by headLock
  // checkpoints written but not yet in the head file, by position
  private final ConcurrentSkipListMap<Long, byte[]> checkpointRecords =
      new ConcurrentSkipListMap<>();
  // where each of them starts in the log, for the tail hint
  private final ConcurrentSkipListMap<Long, Long> checkpointOffsets = new ConcurrentSkipListMap<>();

  // the check of the whole log: done at open, or in the background after a fast open
  private final java.util.concurrent.CompletableFuture<AuditReport> checked =
      new java.util.concurrent.CompletableFuture<>();
  private volatile String damage; // set when the background check found the log damaged

  /** The settings of an audit log. */
  public static final class Builder {
    private final Path cfnDir;
    private int checkpointEvery = 256;
    private Duration checkpointInterval = Duration.ofSeconds(5);

    private Builder(Path cfnDir) {
      this.cfnDir = cfnDir;
    }

    /** Sign a checkpoint after this many entries (default 256). */
    public Builder checkpointEvery(int entries) {
      if (entries < 1) {
        throw new IllegalArgumentException(
            "checkpointEvery is " + entries + " (fix: 1 or more entries)");
      }
      this.checkpointEvery = entries;
      return this;
    }

    /**
     * Sign a checkpoint this long after an unsigned entry at the latest (default 5s); zero turns
     * the timer off (checkpoints then come by count and on close only).
     */
    public Builder checkpointInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException(
            "checkpointInterval is negative (fix: a duration such as 5s, or 0 for none)");
      }
      this.checkpointInterval = interval;
      return this;
    }

    /** Opens (or creates) the log, with its signing key in {@code .cfn/keys}. */
    public AuditLog open() {
      try {
        return new AuditLog(this);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot open the audit log in " + cfnDir.resolve(FOLDER) + ": " + e.getMessage(), e);
      }
    }
  }

  /** The settings for the log under {@code cfnDir} (a project's {@code .cfn} folder). */
  public static Builder builder(Path cfnDir) {
    return new Builder(cfnDir);
  }

  /** Opens (or creates) the log under {@code cfnDir} with the default settings. */
  public static AuditLog open(Path cfnDir) {
    return builder(cfnDir).open();
  }

  private AuditLog(Builder b) throws IOException {
    this.cfnDir = b.cfnDir;
    Path folder = b.cfnDir.resolve(FOLDER);
    this.file = folder.resolve(FILE);
    this.headFile = folder.resolve(HEAD);
    this.hintFile = folder.resolve(TAIL_HINT);
    this.checkpointEvery = b.checkpointEvery;
    this.key = SigningKey.loadOrCreate(b.cfnDir.resolve("keys"));
    this.fingerprint = HEX.parseHex(SigningKey.fingerprint(key.publicKey()));
    PrivateFiles.createDirectories(folder);
    boolean created = !Files.exists(file);
    this.channel =
        FileChannel.open(
            file,
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
            PrivateFiles.fileAttributes());
    FileLock l;
    try {
      l = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      channel.close();
      throw new AuditException(
          "the audit log "
              + file
              + " is open in another process or another AuditLog (fix: stop it, e.g. cfn serve,"
              + " or append through it)");
    }
    this.lock = l;
    try {
      if (created || channel.size() == 0) {
        checked.complete(null); // nothing to check
        byte[] id = new byte[AuditFormat.LOG_ID];
        RANDOM.nextBytes(id);
        byte[] header = AuditFormat.header(id, key.publicKey().getEncoded());
        writeFully(header, 0);
        channel.force(true);
        PrivateFiles.forceFolder(folder);
        this.logId = id;
        this.prev = AuditFormat.parseHeader(header).hash();
        this.nextSeq = 1;
        this.position = header.length;
      } else {
        byte[] first = readRange(0, (int) Math.min(channel.size(), 4096));
        AuditFormat.Header header = AuditFormat.parseHeader(first);
        if (!SigningKey.publicKey(file, header.publicKey()).equals(key.publicKey())) {
          throw new AuditException(
              "the audit log "
                  + file
                  + " was signed with another key than "
                  + b.cfnDir.resolve("keys").resolve(SigningKey.PUBLIC_FILE)
                  + " (fix: restore the key pair that goes with the log, or move the log aside to"
                  + " start a new one)");
        }
        this.logId = header.logId();
        byte[] head = readOrNull(headFile);
        long repaired = head == null ? Long.MIN_VALUE : openFromHint(header, head);
        if (repaired == Long.MIN_VALUE) {
          repaired = openFully(folder);
        }
        this.written = nextSeq - 1;
        this.synced = nextSeq - 1;
        if (repaired >= 0) {
          append(
              AuditEvent.now(
                  "cfn",
                  "audit.repair",
                  file.toString(),
                  AuditEvent.Outcome.SUCCESS,
                  Map.of("discardedBytes", Long.toString(repaired))));
        }
      }
    } catch (AuditFormat.Damage d) {
      closeQuietly();
      throw damaged(d);
    } catch (IOException | RuntimeException e) {
      closeQuietly();
      throw e;
    }
    this.written = nextSeq - 1;
    this.synced = nextSeq - 1;
    long every = b.checkpointInterval.toMillis();
    if (every > 0) {
      timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "cfn-audit-checkpoint");
                t.setDaemon(true);
                return t;
              });
      timer.scheduleWithFixedDelay(this::timedCheckpoint, every, every, TimeUnit.MILLISECONDS);
    } else {
      timer = null;
    }
  }

  /**
   * The slow open: reads and checks the whole log and its head (cutting off a torn last entry), and
   * writes the tail hint so that the next open is fast.
   *
   * @return the bytes cut off, or -1
   */
  private long openFully(Path folder) throws IOException, AuditFormat.Damage {
    byte[] bytes = Files.readAllBytes(file);
    AuditFormat.Header header = AuditFormat.parseHeader(bytes);
    AuditFormat.Reader r =
        new AuditFormat.Reader(bytes, bytes.length, header.length(), 1, header.hash()).checkOnly();
    long sinceCheckpoint = 0;
    long repaired = -1;
    Map<Long, Long> offsets = new java.util.HashMap<>();
    try {
      for (AuditFormat.Entry e = r.next(); e != null; e = r.next()) {
        if (e.kind() == AuditFormat.CHECKPOINT) {
          sinceCheckpoint = 0;
          offsets.put(e.seq(), e.offset());
        } else {
          sinceCheckpoint++;
        }
      }
    } catch (AuditFormat.Damage d) {
      if (!d.torn) {
        throw damaged(d);
      }
      repaired = bytes.length - r.offset();
      LOG.warn(
          "audit log {}: the last entry was cut short ({} bytes, a crash during an append"
              + " that had not returned); cutting it off and logging the repair",
          file,
          repaired);
      channel.truncate(r.offset());
      channel.force(true);
    }
    this.prev = r.prev();
    this.nextSeq = r.nextSeq();
    this.position = r.offset();
    this.unsigned = (int) sinceCheckpoint;
    byte[] head = readOrNull(headFile);
    AuditReport check = AuditVerifier.verify(Files.readAllBytes(file), head, null);
    if (!check.ok()) {
      throw new AuditException(
          "the audit log "
              + file
              + " fails its check: "
              + check.problem()
              + "; nothing was appended (fix: cfn audit verify shows it; keep the file as"
              + " evidence and move "
              + folder
              + " aside to start a new log)");
    }
    this.headSeq = check.signedThrough();
    checked.complete(check);
    if (head != null) {
      long seq = headSeqOf(head);
      Long offset = offsets.get(seq);
      if (offset != null) {
        writeHint(seq, offset);
      }
    }
    return repaired;
  }

  /**
   * The fast open: the head's signed checkpoint, found byte for byte at the offset the hint names,
   * then the chain from there on. Starts the background check of the whole log.
   *
   * @return the bytes cut off a torn last entry, or -1; {@link Long#MIN_VALUE} when the hint cannot
   *     be used or anything after it is wrong (then the whole log is read, which names the damage)
   */
  private long openFromHint(AuditFormat.Header header, byte[] head) throws IOException {
    byte[] hint = readOrNull(hintFile);
    if (hint == null
        || hint.length != AuditFormat.LOG_ID + 16
        || !Arrays.equals(hint, 0, AuditFormat.LOG_ID, logId, 0, AuditFormat.LOG_ID)
        || !AuditVerifier.isSignedHead(head, header)) {
      return Long.MIN_VALUE;
    }
    ByteBuffer h = ByteBuffer.wrap(hint, AuditFormat.LOG_ID, 16);
    long seq = h.getLong();
    long offset = h.getLong();
    byte[] record = Arrays.copyOfRange(head, AuditFormat.LOG_ID, head.length);
    long size = channel.size();
    if (seq != headSeqOf(head)
        || offset < header.length()
        || offset + record.length > size
        || size - offset > Integer.MAX_VALUE) {
      return Long.MIN_VALUE;
    }
    byte[] rest = readRange(offset, (int) (size - offset));
    if (!Arrays.equals(rest, 0, record.length, record, 0, record.length)) {
      return Long.MIN_VALUE; // not the signed checkpoint: the full read names what is wrong
    }
    AuditFormat.Reader r =
        new AuditFormat.Reader(
                rest, rest.length, record.length, seq + 1, AuditFormat.hashOf(record))
            .checkOnly();
    long sinceCheckpoint = 0;
    long repaired = -1;
    try {
      for (AuditFormat.Entry e = r.next(); e != null; e = r.next()) {
        sinceCheckpoint = e.kind() == AuditFormat.CHECKPOINT ? 0 : sinceCheckpoint + 1;
      }
    } catch (AuditFormat.Damage d) {
      if (!d.torn) {
        return Long.MIN_VALUE;
      }
      repaired = rest.length - r.offset();
      LOG.warn(
          "audit log {}: the last entry was cut short ({} bytes, a crash during an append"
              + " that had not returned); cutting it off and logging the repair",
          file,
          repaired);
      channel.truncate(offset + r.offset());
      channel.force(true);
    }
    this.prev = r.prev();
    this.nextSeq = r.nextSeq();
    this.position = offset + r.offset();
    this.unsigned = (int) sinceCheckpoint;
    this.headSeq = seq;
    long checkedThrough = position;
    Thread.ofPlatform()
        .daemon()
        .name("cfn-audit-check")
        .start(() -> checkInBackground(checkedThrough, head));
    return repaired;
  }

  /** Checks the log's first {@code length} bytes (and the head read at open) in full. */
  private void checkInBackground(long length, byte[] head) {
    try {
      byte[] bytes;
      try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer buf = ByteBuffer.allocate((int) length);
        int n = 0;
        while (buf.hasRemaining() && n >= 0) {
          n = in.read(buf, buf.position()); // up to what was checked at open
        }
        bytes = buf.array();
      }
      AuditReport report = AuditVerifier.verify(bytes, head, key.publicKey());
      if (!report.ok()) {
        damage = report.problem();
        LOG.error(
            "audit log {}: the check of the whole log found damage: {}; no more entries are"
                + " appended (fix: cfn audit verify shows it; keep the file as evidence and move"
                + " the audit folder aside to start a new log)",
            file,
            report.problem());
      }
      checked.complete(report);
    } catch (IOException | RuntimeException e) {
      LOG.warn("audit log {}: the background check could not read it: {}", file, e.toString());
      checked.completeExceptionally(e);
    }
  }

  /**
   * The check of the whole log since it was opened: done at open when the log had no usable tail
   * hint, else by a background reader (see the class comment). Completes with null for a new log.
   */
  public java.util.concurrent.CompletableFuture<AuditReport> checked() {
    return checked;
  }

  private static long headSeqOf(byte[] head) {
    return ByteBuffer.wrap(head, AuditFormat.LOG_ID + 5, 8).getLong();
  }

  private void writeHint(long seq, long offset) {
    ByteBuffer b = ByteBuffer.allocate(AuditFormat.LOG_ID + 16);
    b.put(logId).putLong(seq).putLong(offset);
    try {
      PrivateFiles.writeAtomically(hintFile, b.array());
    } catch (IOException e) {
      // only a hint: the next open reads the whole log
      LOG.warn("audit log {}: cannot write the tail hint {}: {}", file, hintFile, e.toString());
    }
  }

  private byte[] readRange(long from, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining()) {
      if (channel.read(buf, from + buf.position()) < 0) {
        break;
      }
    }
    return buf.position() == length ? buf.array() : Arrays.copyOf(buf.array(), buf.position());
  }

  private AuditException damaged(AuditFormat.Damage d) {
    return new AuditException(
        "the audit log "
            + file
            + " is damaged: "
            + d.getMessage()
            + "; nothing was appended (fix: cfn audit verify shows it; keep the file as evidence"
            + " and move it aside to start a new log)");
  }

  /**
   * Appends {@code event}; when this returns, the event is on disk. Thread-safe.
   *
   * @throws AuditException when the log is closed or the disk failed (then the event may not have
   *     been recorded, and the log takes no more appends until reopened)
   */
  public AuditEntry append(AuditEvent event) {
    byte[] record;
    long seq;
    long checkpoint = 0;
    writeLock.lock();
    try {
      ensureWritable();
      seq = nextSeq;
      record = AuditFormat.eventRecord(seq, prev, event);
      writeRecord(record);
      if (++unsigned >= checkpointEvery) {
        checkpoint = writeCheckpointLocked();
      }
    } finally {
      writeLock.unlock();
    }
    syncThrough(checkpoint > 0 ? checkpoint : seq);
    if (checkpoint > 0) {
      publishHead(checkpoint);
    }
    return new AuditEntry(seq, event, HEX.formatHex(AuditFormat.hashOf(record)));
  }

  /** Signs a checkpoint now if any entry is unsigned (also done on a timer and on close). */
  public void checkpoint() {
    long seq;
    writeLock.lock();
    try {
      ensureWritable();
      if (unsigned == 0) {
        return;
      }
      seq = writeCheckpointLocked();
    } finally {
      writeLock.unlock();
    }
    syncThrough(seq);
    publishHead(seq);
  }

  private void timedCheckpoint() {
    try {
      checkpoint();
    } catch (RuntimeException e) {
      LOG.warn("audit log {}: timed checkpoint failed: {}", file, e.getMessage());
    }
  }

  private void ensureWritable() {
    if (closed) {
      throw new AuditException("the audit log " + file + " is closed (fix: open it again)");
    }
    if (damage != null) {
      throw new AuditException(
          "the audit log "
              + file
              + " is damaged ("
              + damage
              + "); nothing more is appended (fix: cfn audit verify shows it; keep the file as"
              + " evidence and move the audit folder aside to start a new log)");
    }
    if (failed) {
      throw new AuditException(
          "the audit log "
              + file
              + " failed to write earlier and takes no more entries (fix: check the disk, then"
              + " reopen it)");
    }
  }

  // called with writeLock held
  private long writeCheckpointLocked() {
    long seq = nextSeq;
    Instant now = Instant.now();
    byte[] sig = key.sign(AuditFormat.signedMessage(logId, seq, prev, now));
    byte[] record = AuditFormat.checkpointRecord(seq, prev, now, fingerprint, sig);
    checkpointRecords.put(seq, record);
    checkpointOffsets.put(seq, position);
    writeRecord(record);
    unsigned = 0;
    return seq;
  }

  // called with writeLock held
  private void writeRecord(byte[] record) {
    try {
      writeFully(record, position);
    } catch (IOException e) {
      failed = true;
      throw new AuditException(
          "cannot write the audit log " + file + ": " + e.getMessage() + " (fix: check the disk)",
          e);
    }
    position += record.length;
    prev = AuditFormat.hashOf(record);
    written = nextSeq; // volatile write after the bytes are in the channel
    nextSeq++;
  }

  private void writeFully(byte[] bytes, long at) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    long p = at;
    while (buf.hasRemaining()) {
      p += channel.write(buf, p);
    }
  }

  /**
   * Group commit: one thread forces the file while the others wait here; whoever comes next finds
   * its entry already forced when a force that began after its write covered it ({@code target} is
   * read before the force, so {@code synced} never claims an entry written after the force began).
   */
  private void syncThrough(long seq) {
    synchronized (syncLock) {
      if (synced >= seq) {
        return;
      }
      long target = written;
      try {
        channel.force(false);
      } catch (IOException e) {
        writeLock.lock();
        try {
          failed = true;
        } finally {
          writeLock.unlock();
        }
        throw new AuditException(
            "cannot force the audit log "
                + file
                + " to disk: "
                + e.getMessage()
                + " (fix: check the disk)",
            e);
      }
      synced = target;
    }
  }

  private void publishHead(long checkpointSeq) {
    synchronized (headLock) {
      if (checkpointSeq <= headSeq) {
        return;
      }
      byte[] record = checkpointRecords.get(checkpointSeq);
      byte[] head = new byte[AuditFormat.LOG_ID + record.length];
      System.arraycopy(logId, 0, head, 0, AuditFormat.LOG_ID);
      System.arraycopy(record, 0, head, AuditFormat.LOG_ID, record.length);
      try {
        PrivateFiles.writeAtomically(headFile, head);
      } catch (IOException e) {
        throw new AuditException(
            "cannot write the audit head "
                + headFile
                + ": "
                + e.getMessage()
                + " (fix: check the disk)",
            e);
      }
      headSeq = checkpointSeq;
      checkpointRecords.headMap(checkpointSeq, true).clear();
      Long offset = checkpointOffsets.get(checkpointSeq);
      checkpointOffsets.headMap(checkpointSeq, true).clear();
      if (offset != null) {
        writeHint(checkpointSeq, offset);
      }
    }
  }

  /** The last {@code n} events of this log, oldest first. */
  public List<AuditEntry> tail(int n) {
    return tail(cfnDir, n);
  }

  /**
   * This log's id (32 hex digits): random, written in its header when the log was made, so a log
   * moved aside and a new one started in its place have different ids (their entry numbers both
   * start at 1).
   */
  public String id() {
    return HEX.formatHex(logId);
  }

  /**
   * The events of this log numbered {@code seq} or later, oldest first: the whole file is read and
   * its chain checked, as {@link #read} does, but only these events are kept.
   *
   * @return the events, and where reading stopped; {@link Page#problem()} says why when a damaged
   *     entry stopped it early (then later events may be missing)
   */
  public Page since(long seq) {
    return read(cfnDir, null, 0, seq);
  }

  /** Checks this log (and its head) with its own key. */
  public AuditReport verify() {
    return verify(cfnDir, key.publicKey());
  }

  /** Signs a last checkpoint if any entry is unsigned, and closes the file. */
  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
    writeLock.lock();
    try {
      if (closed) {
        return;
      }
    } finally {
      writeLock.unlock();
    }
    try {
      if (!failed && damage == null) {
        checkpoint(); // a damaged log gets nothing more, not even a checkpoint
      }
    } finally {
      writeLock.lock();
      try {
        closed = true;
      } finally {
        writeLock.unlock();
      }
      closeQuietly();
    }
  }

  private void closeQuietly() {
    try {
      if (lock != null && lock.isValid()) {
        lock.release();
      }
    } catch (IOException ignored) {
      // closing the channel releases it anyway
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("audit log {}: close failed: {}", file, e.getMessage());
    }
  }

  // ---- reading, without the writer's lock ----

  /**
   * Checks the log under {@code cfnDir}: every entry, every signature, and the head.
   *
   * @param expected the public key it must be signed with; null to trust the key its header records
   *     (then compare {@link AuditReport#keyFingerprint()} with one kept elsewhere)
   */
  public static AuditReport verify(Path cfnDir, PublicKey expected) {
    Path folder = cfnDir.resolve(FOLDER);
    byte[] log = readOrNull(folder.resolve(FILE));
    if (log == null) {
      throw new AuditException(
          "no audit log at "
              + folder.resolve(FILE)
              + " (fix: give the project folder with --home DIR; the log is made when cfn serve"
              + " first records an event)");
    }
    return AuditVerifier.verify(log, readOrNull(folder.resolve(HEAD)), expected);
  }

  /** The last {@code n} events of the log under {@code cfnDir}, oldest first. */
  public static List<AuditEntry> tail(Path cfnDir, int n) {
    return read(cfnDir, null, n).entries();
  }

  /**
   * Events read from a log, and where to read on from.
   *
   * @param entries the events read, oldest first
   * @param next where reading stopped: pass it to {@link #read} to follow the log
   * @param problem why reading stopped early (a damaged entry), or null
   */
  public record Page(List<AuditEntry> entries, Cursor next, String problem) {}

  /** Where a reader of the log stands (opaque; from {@link Page#next()}). */
  public static final class Cursor {
    final int offset;
    final long seq;
    final byte[] prev;

    Cursor(int offset, long seq, byte[] prev) {
      this.offset = offset;
      this.seq = seq;
      this.prev = prev;
    }
  }

  /**
   * The events after {@code from} (null: from the start), at most the last {@code last} of them (0:
   * all). An entry a writer has only half written yet is left for the next read.
   */
  public static Page read(Path cfnDir, Cursor from, int last) {
    return read(cfnDir, from, last, 1);
  }

  /** {@link #read}, keeping only the events numbered {@code minSeq} or later. */
  private static Page read(Path cfnDir, Cursor from, int last, long minSeq) {
    Path path = cfnDir.resolve(FOLDER).resolve(FILE);
    byte[] bytes = readOrNull(path);
    if (bytes == null) {
      throw new AuditException(
          "no audit log at "
              + path
              + " (fix: give the project folder with --home DIR; the log is made when cfn serve"
              + " first records an event)");
    }
    Deque<AuditEntry> out = new ArrayDeque<>();
    AuditFormat.Reader r;
    try {
      if (from == null) {
        AuditFormat.Header h = AuditFormat.parseHeader(bytes);
        r = new AuditFormat.Reader(bytes, bytes.length, h.length(), 1, h.hash());
      } else {
        r = new AuditFormat.Reader(bytes, bytes.length, from.offset, from.seq, from.prev);
      }
    } catch (AuditFormat.Damage d) {
      return new Page(List.of(), null, d.getMessage()); // only the header is read here
    }
    String problem = null;
    try {
      for (AuditFormat.Entry e = r.next(); e != null; e = r.next()) {
        if (e.event() != null && e.seq() >= minSeq) {
          out.addLast(new AuditEntry(e.seq(), e.event(), HEX.formatHex(e.hash())));
          if (last > 0 && out.size() > last) {
            out.removeFirst();
          }
        }
      }
    } catch (AuditFormat.Damage d) {
      if (!d.torn) {
        problem = d.getMessage();
      }
    }
    return new Page(new ArrayList<>(out), new Cursor(r.offset(), r.nextSeq(), r.prev()), problem);
  }

  private static byte[] readOrNull(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }
}
