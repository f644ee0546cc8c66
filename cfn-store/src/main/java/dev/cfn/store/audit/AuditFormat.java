package dev.cfn.store.audit;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bytes of an audit log file, the canonical encoding its hashes are computed over. Every
 * integer is big-endian, every string a {@code u16} length and UTF-8.
 *
 * <pre>
 * file    = header record*
 * header  = "CFNAUDIT" u16:version(1) logId(16) u16:keyLength publicKey(X.509 Ed25519)
 *           sha256(the header bytes before it)
 * record  = u32:n body(n bytes) sha256(u32:n body)              -- the entry's hash
 * body    = u8:kind u64:seq prev(32) i64:epochSecond i32:nano (event | checkpoint)
 * event   = str:principal str:action str:target u8:outcome u16:count (str:key str:value)*
 *           -- keys strictly ascending
 * checkpoint = keyFingerprint(32) signature(64)
 *           -- Ed25519 over "cfn audit checkpoint/1" logId u64:seq prev(32) i64 i32
 * </pre>
 *
 * <p>{@code seq} counts entries from 1; {@code prev} is the hash of entry {@code seq - 1}, or the
 * header's hash for entry 1. So every byte of a file is covered: a header byte by the header's
 * hash, a length or body byte by its entry's hash, a stored hash by recomputing it, an entry's
 * place by its {@code seq} and {@code prev}, and all of it up to a checkpoint by that checkpoint's
 * signature (which signs {@code prev}, the hash of everything before).
 */
final class AuditFormat {
  static final byte[] MAGIC = "CFNAUDIT".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HASH = 32;
  static final int SIGNATURE = 64;
  static final int LOG_ID = 16;
  static final int MAX_BODY = 1 << 20;
  static final byte EVENT = 1;
  static final byte CHECKPOINT = 2;
  static final int MIN_BODY = 1 + 8 + HASH + 8 + 4;
  private static final byte[] SIGN_LABEL =
      "cfn audit checkpoint/1".getBytes(StandardCharsets.US_ASCII);
  private static final AuditEvent.Outcome[] OUTCOMES = AuditEvent.Outcome.values();

  private AuditFormat() {}

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }

  // ---- header ----

  /** A parsed header: {@code length} bytes at the start of the file. */
  record Header(byte[] logId, byte[] publicKey, byte[] hash, int length) {}

  static byte[] header(byte[] logId, byte[] publicKey) {
    ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + LOG_ID + 2 + publicKey.length + HASH);
    b.put(MAGIC).putShort((short) VERSION).put(logId).putShort((short) publicKey.length);
    b.put(publicKey);
    MessageDigest d = sha256();
    d.update(b.array(), 0, b.position());
    b.put(d.digest());
    return b.array();
  }

  static Header parseHeader(byte[] file) throws Damage {
    try {
      ByteBuffer b = ByteBuffer.wrap(file);
      byte[] magic = new byte[MAGIC.length];
      b.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new Damage(
            0, 0, "the file does not start as a cfn audit log (its header was changed)");
      }
      int version = Short.toUnsignedInt(b.getShort());
      if (version != VERSION) {
        throw new Damage(0, 0, "the header says format version " + version + ", not " + VERSION);
      }
      byte[] logId = new byte[LOG_ID];
      b.get(logId);
      int keyLength = Short.toUnsignedInt(b.getShort());
      if (keyLength > 1024) {
        throw new Damage(0, 0, "the header's key length " + keyLength + " is impossible");
      }
      byte[] key = new byte[keyLength];
      b.get(key);
      int covered = b.position();
      byte[] stored = new byte[HASH];
      b.get(stored);
      MessageDigest d = sha256();
      d.update(file, 0, covered);
      byte[] hash = d.digest();
      if (!MessageDigest.isEqual(hash, stored)) {
        throw new Damage(0, 0, "the header does not match its hash (the header was changed)");
      }
      return new Header(logId, key, hash, b.position());
    } catch (BufferUnderflowException e) {
      throw new Damage(0, 0, "the file ends inside its header (truncated)");
    }
  }

  // ---- records ----

  /** The full record (length, body, hash) of an event at {@code seq} after {@code prev}. */
  static byte[] eventRecord(long seq, byte[] prev, AuditEvent e) {
    ByteArrayOutputStream body = new ByteArrayOutputStream(256);
    bodyStart(body, EVENT, seq, prev, e.time());
    str(body, e.principal());
    str(body, e.action());
    str(body, e.target());
    body.write(e.outcome().ordinal());
    u16(body, e.detail().size());
    for (Map.Entry<String, String> d : e.detail().entrySet()) {
      str(body, d.getKey());
      str(body, d.getValue());
    }
    return frame(body.toByteArray());
  }

  /** The message a checkpoint signs. */
  static byte[] signedMessage(byte[] logId, long seq, byte[] prev, Instant time) {
    return ByteBuffer.allocate(SIGN_LABEL.length + LOG_ID + 8 + HASH + 12)
        .put(SIGN_LABEL)
        .put(logId)
        .putLong(seq)
        .put(prev)
        .putLong(time.getEpochSecond())
        .putInt(time.getNano())
        .array();
  }

  static byte[] checkpointRecord(
      long seq, byte[] prev, Instant time, byte[] keyFingerprint, byte[] signature) {
    ByteArrayOutputStream body = new ByteArrayOutputStream(MIN_BODY + HASH + SIGNATURE);
    bodyStart(body, CHECKPOINT, seq, prev, time);
    body.writeBytes(keyFingerprint);
    body.writeBytes(signature);
    return frame(body.toByteArray());
  }

  private static void bodyStart(
      ByteArrayOutputStream body, byte kind, long seq, byte[] prev, Instant time) {
    body.write(kind);
    body.writeBytes(ByteBuffer.allocate(8).putLong(seq).array());
    body.writeBytes(prev);
    body.writeBytes(
        ByteBuffer.allocate(12).putLong(time.getEpochSecond()).putInt(time.getNano()).array());
  }

  private static byte[] frame(byte[] body) {
    ByteBuffer r = ByteBuffer.allocate(4 + body.length + HASH);
    r.putInt(body.length).put(body);
    MessageDigest d = sha256();
    d.update(r.array(), 0, r.position());
    r.put(d.digest());
    return r.array();
  }

  private static void str(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    u16(out, b.length);
    out.writeBytes(b);
  }

  private static void u16(ByteArrayOutputStream out, int n) {
    out.write(n >>> 8);
    out.write(n);
  }

  /** The hash a record stores: its last 32 bytes. */
  static byte[] hashOf(byte[] record) {
    return Arrays.copyOfRange(record, record.length - HASH, record.length);
  }

  // ---- reading ----

  /** An entry as read, its hash and place checked. {@code event} is null for a checkpoint. */
  record Entry(
      byte kind,
      long seq,
      byte[] prev,
      Instant time,
      byte[] hash,
      long offset,
      int length,
      AuditEvent event,
      byte[] keyFingerprint,
      byte[] signature) {}

  /** What is wrong with a file, at which entry (0: the header) and byte offset. */
  static final class Damage extends Exception {
    private static final long serialVersionUID = 1L;
    final long entry;
    final long offset;
    final boolean torn;

    Damage(long entry, long offset, String message) {
      this(entry, offset, message, false);
    }

    Damage(long entry, long offset, String message, boolean torn) {
      super(message, null, false, false);
      this.entry = entry;
      this.offset = offset;
      this.torn = torn;
    }
  }

  /**
   * Reads the entries of {@code file} from {@code offset}, where entry {@code seq} must start and
   * link to {@code prev}. Each call to {@link #next} checks one entry's framing, hash, number and
   * link, and decodes it.
   */
  static final class Reader {
    private final byte[] file;
    private final int limit;
    private final MessageDigest digest = sha256();
    private final CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private boolean events = true;
    private int offset;
    private long seq;
    private byte[] prev;

    Reader(byte[] file, int limit, int offset, long seq, byte[] prev) {
      this.file = file;
      this.limit = limit;
      this.offset = offset;
      this.seq = seq;
      this.prev = prev;
    }

    int offset() {
      return offset;
    }

    /**
     * Checks events' framing, hash, number, link and structure without decoding their text into
     * {@link AuditEvent}s: what a check of the whole file needs, several times faster.
     */
    Reader checkOnly() {
      events = false;
      return this;
    }

    long nextSeq() {
      return seq;
    }

    byte[] prev() {
      return prev;
    }

    /** The next entry, or null at the clean end of the data. */
    Entry next() throws Damage {
      int left = limit - offset;
      if (left == 0) {
        return null;
      }
      String where = "entry " + seq + " (byte " + offset + ")";
      if (left < 4) {
        throw new Damage(seq, offset, "the log ends inside " + where + " (truncated)", true);
      }
      int n = ByteBuffer.wrap(file, offset, 4).getInt();
      if (n < MIN_BODY || n > MAX_BODY) {
        throw new Damage(
            seq, offset, where + ": its length field (" + n + ") is impossible (it was changed)");
      }
      if ((long) n + 4 + HASH > left) {
        throw new Damage(seq, offset, "the log ends inside " + where + " (truncated)", true);
      }
      digest.update(file, offset, 4 + n);
      byte[] hash = digest.digest();
      if (!Arrays.equals(file, offset + 4 + n, offset + 4 + n + HASH, hash, 0, HASH)) {
        throw new Damage(seq, offset, where + " does not match its hash (the entry was changed)");
      }
      ByteBuffer b = ByteBuffer.wrap(file, offset + 4, n);
      byte kind = b.get();
      long number = b.getLong();
      if (number != seq) {
        throw new Damage(
            seq,
            offset,
            where
                + " is numbered "
                + number
                + ", where "
                + seq
                + " belongs (entries were deleted, inserted or reordered)");
      }
      byte[] linked = new byte[HASH];
      b.get(linked);
      if (!Arrays.equals(linked, prev)) {
        throw new Damage(
            seq,
            offset,
            where
                + " does not link to the entry before it (an entry before it was changed,"
                + " deleted, inserted or reordered)");
      }
      Entry e;
      try {
        Instant time = Instant.ofEpochSecond(b.getLong(), b.getInt());
        e =
            switch (kind) {
              case EVENT -> event(b, time, hash, n);
              case CHECKPOINT -> checkpoint(b, time, hash, n);
              default -> throw new Damage(seq, offset, where + " is of unknown kind " + kind);
            };
        if (b.hasRemaining()) {
          throw new Damage(seq, offset, where + " has " + b.remaining() + " bytes too many");
        }
      } catch (BufferUnderflowException | DateTimeException | IllegalArgumentException x) {
        throw new Damage(seq, offset, where + " is malformed: " + x.getMessage());
      }
      prev = hash;
      seq++;
      offset += 4 + n + HASH;
      return e;
    }

    private Entry event(ByteBuffer b, Instant time, byte[] hash, int n) throws Damage {
      if (!events) {
        // the structure only: every length within the body, a known outcome; the text is
        // covered by the hash, and was written (valid, ordered) by the writer
        skip(b);
        skip(b);
        skip(b);
        if (Byte.toUnsignedInt(b.get()) >= OUTCOMES.length) {
          throw new Damage(seq, offset, "entry " + seq + " has an unknown outcome");
        }
        int count = Short.toUnsignedInt(b.getShort());
        for (int i = 0; i < 2 * count; i++) {
          skip(b);
        }
        return new Entry(EVENT, seq, prev, time, hash, offset, n, null, null, null);
      }
      String principal = str(b);
      String action = str(b);
      String target = str(b);
      int outcome = Byte.toUnsignedInt(b.get());
      if (outcome >= OUTCOMES.length) {
        throw new Damage(seq, offset, "entry " + seq + " has unknown outcome " + outcome);
      }
      int count = Short.toUnsignedInt(b.getShort());
      Map<String, String> detail = new LinkedHashMap<>();
      String last = null;
      for (int i = 0; i < count; i++) {
        String key = str(b);
        if (last != null && key.compareTo(last) <= 0) {
          throw new Damage(seq, offset, "entry " + seq + " has its details out of order");
        }
        detail.put(key, str(b));
        last = key;
      }
      AuditEvent ev = new AuditEvent(time, principal, action, target, OUTCOMES[outcome], detail);
      return new Entry(EVENT, seq, prev, time, hash, offset, n, ev, null, null);
    }

    private static void skip(ByteBuffer b) {
      int len = Short.toUnsignedInt(b.getShort());
      if (len > b.remaining()) {
        throw new BufferUnderflowException();
      }
      b.position(b.position() + len);
    }

    private Entry checkpoint(ByteBuffer b, Instant time, byte[] hash, int n) {
      byte[] fp = new byte[HASH];
      b.get(fp);
      byte[] sig = new byte[SIGNATURE];
      b.get(sig);
      return new Entry(CHECKPOINT, seq, prev, time, hash, offset, n, null, fp, sig);
    }

    private String str(ByteBuffer b) {
      int len = Short.toUnsignedInt(b.getShort());
      if (len > b.remaining()) {
        throw new BufferUnderflowException();
      }
      CharsetDecoder dec = utf8.reset();
      ByteBuffer slice = b.slice(b.position(), len);
      b.position(b.position() + len);
      try {
        CharBuffer chars = dec.decode(slice);
        return chars.toString();
      } catch (CharacterCodingException e) {
        throw new IllegalArgumentException("a text field is not UTF-8", e);
      }
    }
  }
}
