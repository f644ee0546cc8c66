package dev.cfn.store.journal;

import static dev.cfn.store.journal.Table.Columns.CORRELATION_ID;
import static dev.cfn.store.journal.Table.Columns.CREATED_AT;
import static dev.cfn.store.journal.Table.Columns.CREATED_NANOS;
import static dev.cfn.store.journal.Table.Columns.DELIVERY;
import static dev.cfn.store.journal.Table.Columns.HEADERS;
import static dev.cfn.store.journal.Table.Columns.ID;
import static dev.cfn.store.journal.Table.Columns.PAYLOAD;
import static dev.cfn.store.journal.Table.Columns.PAYLOAD_CLASS;
import static dev.cfn.store.journal.Table.Columns.PRIORITY;
import static dev.cfn.store.journal.Table.Columns.RECIPIENT;
import static dev.cfn.store.journal.Table.Columns.SENDER;
import static dev.cfn.store.journal.Table.Columns.TOPIC_SOURCE;
import static dev.cfn.store.journal.Table.Columns.TOPIC_TYPE;
import static dev.cfn.store.journal.Table.Columns.TYPE;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.core.AgentId;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.TopicId;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.KeyringException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Maps an {@link Envelope} to the message columns of {@link Table#MESSAGES} and {@link
 * Table#DEAD_LETTERS} and back.
 *
 * <p>Headers are stored as a JSON object with sorted keys, the payload through {@link
 * PayloadCodec}. {@code createdNanos} is a {@link System#nanoTime()} reading, which means nothing
 * after the machine reboots, so the creation instant is stored beside it ({@code created_at}). On
 * decoding, the stored reading is kept when it still maps to the stored instant within a second
 * (same machine, same boot: equal envelopes round-trip exactly); otherwise it is rebuilt from the
 * instant, so that latency measured from it stays meaningful. The mapping uses the system clock,
 * not the journal's injectable one, because {@link Envelope#createdAt()} does.
 *
 * <p>With a keyring ({@link AtRest}), the payload's JSON is sealed here, on the caller's thread,
 * before the row reaches the writer, bound to the message id and payload class; the other columns
 * (routing, headers, times) stay plain. Decoding opens it, or takes it as stored when it is plain
 * JSON from before the keyring.
 */
final class MessageCodec {
  private static final long ANCHOR_NANOS = System.nanoTime();
  private static final long ANCHOR_MILLIS = System.currentTimeMillis();
  private static final long SAME_BOOT_TOLERANCE_MILLIS = 1_000;
  private static final TypeReference<Map<String, String>> HEADERS_TYPE = new TypeReference<>() {};

  private final ObjectMapper mapper;
  private final PayloadCodec payloads;
  private final AtRest atRest;

  MessageCodec(ObjectMapper mapper, PayloadCodec payloads, AtRest atRest) {
    this.mapper = mapper;
    this.payloads = payloads;
    this.atRest = atRest;
  }

  /** How payloads are kept at rest. */
  AtRest atRest() {
    return atRest;
  }

  /**
   * A call result as the journal stores it beside an acknowledgement: sealed as text (bound to its
   * key) with a keyring, as is without. For a {@code calls} table written by acknowledgements.
   */
  String sealCallResult(String key, String result) {
    return atRest.sealText(result, AtRest.aad("call result", key));
  }

  /** The plain result of a stored call record {@link #sealCallResult} wrote. */
  String openCallResult(String key, String stored, java.nio.file.Path file) {
    return atRest.openText(
        stored, AtRest.aad("call result", key), () -> "call record '" + key + "' in " + file);
  }

  static byte[] payloadAad(Object id, String className) {
    return AtRest.aad("journal payload", String.valueOf(id), className);
  }

  /**
   * The message columns of {@code envelope}, in {@link Table.Columns#MESSAGE} order. Throws {@link
   * IllegalArgumentException} when the payload's class is not allowed.
   */
  Object[] content(Envelope envelope) {
    PayloadCodec.Encoded payload = payloads.encode(envelope.payload());
    Object[] values = new Object[Table.Columns.MESSAGE.size()];
    values[ID] = envelope.id();
    values[TYPE] = envelope.type();
    values[SENDER] = envelope.sender().toString();
    values[RECIPIENT] = envelope.recipient() == null ? null : envelope.recipient().toString();
    values[TOPIC_TYPE] = envelope.topic() == null ? null : envelope.topic().type();
    values[TOPIC_SOURCE] = envelope.topic() == null ? null : envelope.topic().source();
    values[CORRELATION_ID] = envelope.correlationId();
    values[PRIORITY] = envelope.priority().name();
    values[DELIVERY] = envelope.delivery().name();
    values[HEADERS] = headers(envelope.headers());
    values[PAYLOAD_CLASS] = payload.className();
    values[PAYLOAD] = atRest.seal(payload.json(), payloadAad(envelope.id(), payload.className()));
    values[CREATED_AT] = envelope.createdAt().toEpochMilli();
    values[CREATED_NANOS] = envelope.createdNanos();
    return values;
  }

  /** A {@link Table#MESSAGES} row: the content, then attempts and last error. */
  static Object[] pending(Object[] row, int attempts, String lastError) {
    Object[] values = Arrays.copyOf(row, Table.MESSAGES.columnCount());
    values[Table.Columns.ATTEMPTS] = (long) attempts;
    values[Table.Columns.LAST_ERROR] = lastError;
    return values;
  }

  /** A {@link Table#DEAD_LETTERS} row: the content, then attempts, cause and time. */
  static Object[] deadLetter(Object[] row, int attempts, String cause, long deadAtMillis) {
    Object[] values = Arrays.copyOf(row, Table.DEAD_LETTERS.columnCount());
    values[Table.Columns.ATTEMPTS] = (long) attempts;
    values[Table.Columns.CAUSE] = cause;
    values[Table.Columns.DEAD_AT] = deadAtMillis;
    return values;
  }

  /**
   * The envelope of a verified row of {@code table}. With {@code rawUnknown}, a payload class that
   * is not allowed comes back as a {@link RawPayload}; without it, decoding fails. Failures throw
   * {@link JournalException} naming the table and id.
   */
  Envelope envelope(Table table, Object[] row, boolean rawUnknown) {
    try {
      String className = (String) row[PAYLOAD_CLASS];
      byte[] json =
          atRest.open(
              (byte[]) row[PAYLOAD],
              payloadAad(number(row[ID]), className),
              () -> "the payload of " + table.describe(row));
      Object payload =
          rawUnknown ? payloads.decodeOrRaw(className, json) : payloads.decode(className, json);
      String recipient = (String) row[RECIPIENT];
      String topicType = (String) row[TOPIC_TYPE];
      return new Envelope(
          number(row[ID]),
          (String) row[TYPE],
          AgentId.parse((String) row[SENDER]),
          recipient == null ? null : AgentId.parse(recipient),
          topicType == null ? null : new TopicId(topicType, (String) row[TOPIC_SOURCE]),
          number(row[CORRELATION_ID]),
          Priority.valueOf((String) row[PRIORITY]),
          DeliveryMode.valueOf((String) row[DELIVERY]),
          mapper.readValue((String) row[HEADERS], HEADERS_TYPE),
          payload,
          createdNanos(number(row[CREATED_NANOS]), number(row[CREATED_AT])));
    } catch (KeyringException e) {
      throw e; // names the record and the fix
    } catch (IllegalArgumentException e) {
      throw new JournalException(table.describe(row) + ": " + e.getMessage(), e);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new JournalException(
          table.describe(row)
              + ": cannot rebuild the message ("
              + e.getMessage()
              + "); it may have been written by another cfn version",
          e);
    }
  }

  static long number(Object value) {
    return ((Number) value).longValue();
  }

  private String headers(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return "{}"; // most messages: what the mapper writes for an empty map, without the mapper
    }
    try {
      return mapper.writeValueAsString(new TreeMap<>(headers));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write headers as JSON: " + e.getMessage(), e);
    }
  }

  static long createdNanos(long storedNanos, long createdAtMillis) {
    long impliedMillis = ANCHOR_MILLIS + Math.floorDiv(storedNanos - ANCHOR_NANOS, 1_000_000L);
    if (Math.abs(impliedMillis - createdAtMillis) <= SAME_BOOT_TOLERANCE_MILLIS) {
      return storedNanos;
    }
    return ANCHOR_NANOS + (createdAtMillis - ANCHOR_MILLIS) * 1_000_000L;
  }
}
