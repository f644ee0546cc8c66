package dev.cfn.cluster.pg;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.EnvelopeRecords;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The journal's pending messages as an outbox for the cluster's transport: which ones still have to
 * be published to JetStream, which were, and under which stream sequence.
 *
 * <p>Every pending message ({@code cfn_messages}: appended, or sent by a handler's effects in its
 * acknowledging transaction, and neither acknowledged nor dead-lettered) is an outbox row. A relay
 * publishes the unpublished ones and {@linkplain #markPublished marks} them with the stream
 * sequence the PubAck gave; the acknowledgement of a message by its recipient deletes its row in
 * the recipient's transaction. So a row that is marked published and still pending long after was
 * either not handled yet or lost by JetStream, and the reconciler tells the two apart by asking the
 * stream for that sequence. Times are the journal's clock, in epoch milliseconds.
 */
public final class PgOutbox {
  private static final String SELECT =
      "SELECT " + PgWrites.CONTENT_COLUMNS + ", crc, part, stream_seq FROM cfn_messages";

  /**
   * A pending message as the outbox sees it.
   *
   * @param envelope the message, verified against its checksum
   * @param partition the partition it was written under (its sender's), or -1 for none
   * @param streamSequence the stream sequence it was last published at, or 0 when not yet
   */
  public record OutboxMessage(Envelope envelope, int partition, long streamSequence) {
    /** Validates the parts. */
    public OutboxMessage {
      Objects.requireNonNull(envelope, "envelope");
    }
  }

  private final PgJournal journal;

  PgOutbox(PgJournal journal) {
    this.journal = journal;
  }

  /**
   * The pending message {@code id}, verified against its checksum; empty when it is not pending
   * (never stored, acknowledged, or dead-lettered).
   *
   * @throws JournalException when its record fails its checksum
   */
  public Optional<Envelope> pending(long id) {
    List<OutboxMessage> found = select("message " + id, " WHERE id = ?", id);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst().envelope());
  }

  /**
   * At most {@code limit} unpublished messages, oldest first, of the partitions {@code partitions}
   * and, when {@code unpartitioned}, of no partition.
   */
  public List<OutboxMessage> unpublished(
      Collection<Integer> partitions, boolean unpartitioned, int limit) {
    Objects.requireNonNull(partitions, "partitions");
    checkLimit(limit);
    return select(
        "the unpublished messages",
        " WHERE published_at IS NULL AND (part = ANY(?) OR (? AND part IS NULL)) ORDER BY id"
            + " LIMIT ?",
        partitions.toArray(Integer[]::new),
        unpartitioned,
        limit);
  }

  /**
   * At most {@code limit} unpublished messages of any partition created more than {@code age} ago:
   * what the relay of their partition should have published by now (its node died, say).
   */
  public List<OutboxMessage> unpublishedOlderThan(Duration age, int limit) {
    checkLimit(limit);
    return select(
        "the old unpublished messages",
        " WHERE published_at IS NULL AND created_at < ? ORDER BY id LIMIT ?",
        journal.clockMillis() - age.toMillis(),
        limit);
  }

  /**
   * At most {@code limit} messages published more than {@code age} ago and still pending, oldest
   * first: not handled yet, or lost by the stream.
   */
  public List<OutboxMessage> publishedOlderThan(Duration age, int limit) {
    checkLimit(limit);
    return select(
        "the published pending messages",
        " WHERE published_at IS NOT NULL AND published_at < ? ORDER BY id LIMIT ?",
        journal.clockMillis() - age.toMillis(),
        limit);
  }

  /**
   * Marks pending message {@code id} published now at {@code streamSequence}; false when it is no
   * longer pending (its recipient already acknowledged it).
   */
  public boolean markPublished(long id, long streamSequence) {
    return journal.read(
        "the publication of message " + id,
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "UPDATE cfn_messages SET published_at = ?, stream_seq = ? WHERE id = ?")) {
            s.setLong(1, journal.clockMillis());
            s.setLong(2, streamSequence);
            s.setLong(3, id);
            return s.executeUpdate() == 1;
          }
        });
  }

  private static void checkLimit(int limit) {
    if (limit < 1 || limit > 10_000) {
      throw new IllegalArgumentException("limit must be 1 to 10000, was " + limit);
    }
  }

  private List<OutboxMessage> select(String what, String where, Object... args) {
    return journal.read(
        what,
        c -> {
          List<OutboxMessage> out = new ArrayList<>();
          try (PreparedStatement s = c.prepareStatement(SELECT + where)) {
            for (int i = 0; i < args.length; i++) {
              bind(c, s, i + 1, args[i]);
            }
            try (ResultSet rows = s.executeQuery()) {
              while (rows.next()) {
                Object[] row = new Object[PgWrites.CONTENT];
                for (int i = 0; i < row.length; i++) {
                  row[i] = rows.getObject(i + 1);
                }
                Optional<String> problem =
                    EnvelopeRecords.problem(
                        PgSchema.MESSAGE_CHECKSUM, row, rows.getObject(PgWrites.CONTENT + 1));
                if (problem.isPresent()) {
                  throw new JournalException(
                      "pending message "
                          + row[0]
                          + " in "
                          + journal.where()
                          + ": "
                          + problem.get()
                          + ": the record was changed outside cfn or damaged, so it is not"
                          + " published (fix: restore it from a backup, or delete it)");
                }
                Object part = rows.getObject(PgWrites.CONTENT + 2);
                long seq = rows.getLong(PgWrites.CONTENT + 3);
                out.add(
                    new OutboxMessage(
                        journal.decode(row), part == null ? -1 : ((Number) part).intValue(), seq));
              }
            }
          }
          return out;
        });
  }

  private static void bind(Connection c, PreparedStatement s, int index, Object value)
      throws SQLException {
    if (value instanceof Integer[] ints) {
      s.setArray(index, c.createArrayOf("integer", ints));
    } else if (value instanceof Boolean b) {
      s.setBoolean(index, b);
    } else {
      PgWrites.bind(s, index, value);
    }
  }
}
