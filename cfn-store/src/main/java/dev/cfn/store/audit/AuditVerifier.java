package dev.cfn.store.audit;

import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.crypto.SigningKey;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Checks an audit log's bytes and its head: the header, every entry's hash, number and link (in one
 * pass, stopping at the first bad entry), then every checkpoint's Ed25519 signature, then that the
 * log still holds the checkpoint the head file names. Works on bytes in memory so that it reads
 * exactly what it checks, and so that tests can check many altered copies.
 */
final class AuditVerifier {
  private static final HexFormat HEX = HexFormat.of();

  private AuditVerifier() {}

  /**
   * @param log the log file's bytes
   * @param head the head file's bytes, or null when there is none
   * @param expected the public key the log must be signed with, or null to use the one its header
   *     records
   */
  static AuditReport verify(byte[] log, byte[] head, PublicKey expected) {
    AuditFormat.Header header;
    PublicKey key;
    try {
      header = AuditFormat.parseHeader(log);
      try {
        key = SigningKey.publicKey("the log's header", header.publicKey());
      } catch (KeyringException e) {
        throw new AuditFormat.Damage(0, 0, "the header's public key is not an Ed25519 key");
      }
    } catch (AuditFormat.Damage d) {
      return bad(0, 0, 0, 0, HEX.formatHex(new byte[32]), null, d);
    }
    String fingerprint = SigningKey.fingerprint(key);
    byte[] fpBytes = HEX.parseHex(fingerprint);
    if (expected != null && !expected.equals(key)) {
      return bad(
          0,
          0,
          0,
          0,
          HEX.formatHex(header.hash()),
          fingerprint,
          new AuditFormat.Damage(
              0,
              0,
              "the log is signed with key "
                  + fingerprint
                  + ", not with the expected key "
                  + SigningKey.fingerprint(expected)));
    }

    AuditFormat.Reader reader =
        new AuditFormat.Reader(log, log.length, header.length(), 1, header.hash()).checkOnly();
    List<AuditFormat.Entry> checkpoints = new ArrayList<>();
    long events = 0;
    try {
      for (AuditFormat.Entry e = reader.next(); e != null; e = reader.next()) {
        if (e.kind() == AuditFormat.CHECKPOINT) {
          checkpoints.add(e);
        } else {
          events++;
        }
      }
    } catch (AuditFormat.Damage d) {
      return bad(
          reader.nextSeq() - 1,
          events,
          checkpoints.size(),
          0,
          HEX.formatHex(reader.prev()),
          fingerprint,
          d);
    }
    long entries = reader.nextSeq() - 1;
    String headHash = HEX.formatHex(reader.prev());
    long signedThrough = 0;
    for (AuditFormat.Entry c : checkpoints) {
      if (!Arrays.equals(c.keyFingerprint(), fpBytes)
          || !SigningKey.verify(
              key,
              AuditFormat.signedMessage(header.logId(), c.seq(), c.prev(), c.time()),
              c.signature())) {
        return bad(
            entries,
            events,
            checkpoints.size(),
            signedThrough,
            headHash,
            fingerprint,
            new AuditFormat.Damage(
                c.seq(),
                c.offset(),
                "entry "
                    + c.seq()
                    + " (byte "
                    + c.offset()
                    + ") is a checkpoint whose signature does not verify with the log's key"));
      }
      signedThrough = c.seq();
    }

    AuditFormat.Damage headProblem = checkHead(log, head, header, key, entries, checkpoints);
    if (headProblem != null) {
      return bad(
          entries, events, checkpoints.size(), signedThrough, headHash, fingerprint, headProblem);
    }
    return new AuditReport(
        true,
        entries,
        events,
        checkpoints.size(),
        signedThrough,
        entries - signedThrough,
        headHash,
        fingerprint,
        -1,
        -1,
        null);
  }

  /**
   * True when {@code head} is a head file of the log with {@code header}: its id, and a checkpoint
   * signed by the key the header records. Reads nothing of the log itself.
   */
  static boolean isSignedHead(byte[] head, AuditFormat.Header header) {
    try {
      PublicKey key = SigningKey.publicKey("the log's header", header.publicKey());
      signedHead(head, header, key); // throws when it is not
      return true;
    } catch (KeyringException | AuditFormat.Damage | BufferUnderflowException e) {
      return false;
    }
  }

  private static AuditFormat.Entry signedHead(byte[] head, AuditFormat.Header header, PublicKey key)
      throws AuditFormat.Damage {
    if (head.length < AuditFormat.LOG_ID + 4 + AuditFormat.MIN_BODY
        || !Arrays.equals(head, 0, AuditFormat.LOG_ID, header.logId(), 0, AuditFormat.LOG_ID)) {
      throw new AuditFormat.Damage(0, -1, "the head file belongs to another log, or is damaged");
    }
    ByteBuffer b = ByteBuffer.wrap(head, AuditFormat.LOG_ID + 5, 8 + AuditFormat.HASH);
    long seq = b.getLong();
    byte[] prev = new byte[AuditFormat.HASH];
    b.get(prev);
    AuditFormat.Reader r = new AuditFormat.Reader(head, head.length, AuditFormat.LOG_ID, seq, prev);
    AuditFormat.Entry signed = r.next();
    if (signed == null
        || signed.kind() != AuditFormat.CHECKPOINT
        || r.offset() != head.length
        || !SigningKey.verify(
            key,
            AuditFormat.signedMessage(header.logId(), seq, prev, signed.time()),
            signed.signature())) {
      throw new AuditFormat.Damage(
          0, -1, "the head file is not a checkpoint signed by the log's key");
    }
    return signed;
  }

  private static AuditFormat.Damage checkHead(
      byte[] log,
      byte[] head,
      AuditFormat.Header header,
      PublicKey key,
      long entries,
      List<AuditFormat.Entry> checkpoints) {
    if (head == null) {
      return checkpoints.isEmpty()
          ? null
          : new AuditFormat.Damage(
              0,
              -1,
              "the signed head file is missing, but the log has checkpoints (it was deleted; the"
                  + " end of the log cannot be vouched for)");
    }
    AuditFormat.Entry signed;
    try {
      signed = signedHead(head, header, key);
    } catch (AuditFormat.Damage | BufferUnderflowException e) {
      return new AuditFormat.Damage(
          0, -1, "the signed head file is damaged: " + e.getMessage() + " (it was changed)");
    }
    if (signed.seq() > entries) {
      return new AuditFormat.Damage(
          entries + 1,
          log.length,
          "the log ends after entry "
              + entries
              + ", but its signed head vouches for "
              + signed.seq()
              + " entries: entries "
              + (entries + 1)
              + " to "
              + signed.seq()
              + " were removed from its end (truncated)");
    }
    for (AuditFormat.Entry c : checkpoints) {
      if (c.seq() == signed.seq()) {
        int len = 4 + c.length() + AuditFormat.HASH;
        if (Arrays.equals(
            log, (int) c.offset(), (int) c.offset() + len, head, AuditFormat.LOG_ID, head.length)) {
          return null;
        }
        break;
      }
    }
    return new AuditFormat.Damage(
        signed.seq(),
        -1,
        "entry "
            + signed.seq()
            + " is not the checkpoint the signed head holds (the log was rewritten from there)");
  }

  private static AuditReport bad(
      long entries,
      long events,
      long checkpoints,
      long signedThrough,
      String headHash,
      String fingerprint,
      AuditFormat.Damage d) {
    return new AuditReport(
        false,
        Math.max(0, entries),
        events,
        checkpoints,
        signedThrough,
        Math.max(0, entries - signedThrough),
        headHash,
        fingerprint,
        d.entry,
        d.offset,
        d.getMessage());
  }
}
