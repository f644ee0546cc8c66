package dev.cfn.store.journal;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.sqlite.RecordChecksum;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The journal's record format for messages, offered to journals kept outside SQLite (cfn-cluster's
 * PostgreSQL journal), so that an envelope is encoded, sealed, checksummed and rebuilt by the one
 * code that {@link SqliteJournal} uses ({@code MessageCodec}, {@code PayloadCodec}, {@link
 * RecordChecksum}) and not by a second format.
 *
 * <p>A record is an {@code Object[]} of the {@link #COLUMNS}, in that order: {@code Long}, {@code
 * String} and {@code byte[]} values (the payload column is the sealed or plain JSON bytes), and
 * {@code null}. Payloads are rebuilt only as an allowed class (the built-in ones and those given to
 * {@link #create}), as in {@link SqliteJournal}.
 */
public final class EnvelopeRecords {
  /** The columns of a message record, in canonical (checksum) order. */
  public static final List<String> COLUMNS = Table.Columns.MESSAGE;

  private final MessageCodec codec;

  private EnvelopeRecords(MessageCodec codec) {
    this.codec = codec;
  }

  /**
   * A codec whose payloads are kept at rest as {@code atRest} says (sealed with a keyring, or
   * plain) and may be of the built-in classes or {@code payloadTypes}.
   *
   * @throws IllegalArgumentException when a payload type cannot be registered (as {@link
   *     SqliteJournal.Builder#payloadType})
   */
  public static EnvelopeRecords create(AtRest atRest, Collection<Class<?>> payloadTypes) {
    Objects.requireNonNull(atRest, "atRest");
    Set<Class<?>> types = new LinkedHashSet<>();
    for (Class<?> type : payloadTypes) {
      PayloadCodec.checkRegistrable(Objects.requireNonNull(type, "payload type"));
      types.add(type);
    }
    var mapper = PayloadCodec.newMapper();
    return new EnvelopeRecords(new MessageCodec(mapper, new PayloadCodec(mapper, types), atRest));
  }

  /** How payloads are kept at rest. */
  public AtRest atRest() {
    return codec.atRest();
  }

  /**
   * The record of {@code envelope}, its payload sealed when a keyring is configured.
   *
   * @throws IllegalArgumentException when the payload's class is not allowed
   */
  public Object[] encode(Envelope envelope) {
    return codec.content(Objects.requireNonNull(envelope, "envelope"));
  }

  /**
   * The envelope of a record read back ({@link #COLUMNS} first; later values are ignored). With
   * {@code rawUnknown}, a payload class that is not allowed comes back as a {@link RawPayload}.
   *
   * @throws JournalException naming the message when it cannot be rebuilt
   */
  public Envelope decode(Object[] record, boolean rawUnknown) {
    return codec.envelope(Table.MESSAGES, record, rawUnknown);
  }

  /**
   * The CRC32C of {@code values} as a row of {@code table} (see {@link RecordChecksum}): {@code
   * Long}/{@code Integer}, {@code String}, {@code byte[]} and null values.
   */
  public static long checksum(String table, Object[] values) {
    return RecordChecksum.of(table, values);
  }

  /**
   * What is wrong with {@code values} stored with {@code storedCrc} as a row of {@code table}, for
   * a message naming the record; empty when the checksum matches.
   */
  public static Optional<String> problem(String table, Object[] values, Object storedCrc) {
    long computed;
    try {
      computed = RecordChecksum.of(table, values);
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    if (!(storedCrc instanceof Number stored)) {
      return Optional.of("checksum is missing or not a number");
    }
    if (stored.longValue() != computed) {
      return Optional.of(
          String.format(
              "checksum mismatch (stored %08x, computed %08x)", stored.longValue(), computed));
    }
    return Optional.empty();
  }

  /** A call result as stored beside an acknowledgement: sealed (bound to its key) or as is. */
  public String sealCallResult(String key, String result) {
    return codec.sealCallResult(key, result);
  }

  /** The plain result of a stored call record; {@code where} names the store for errors. */
  public String openCallResult(String key, String stored, String where) {
    return codec
        .atRest()
        .openText(
            stored, AtRest.aad("call result", key), () -> "call record '" + key + "' in " + where);
  }
}
