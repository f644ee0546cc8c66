package dev.cfn.store.journal;

import static dev.cfn.store.journal.MessageCodec.number;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The administration of a {@link SqliteJournal}'s dead letters, for operators and tools such as
 * {@code cfn dlq}: list them with their attempt history, find one, delete one or all, and replay
 * one (move it back to the pending messages). Obtained from {@link
 * SqliteJournal#deadLetterQueue()}; a view on that journal, usable while it is open. Reads run in
 * one read transaction each; deletions and replays go through the journal's writer and return once
 * committed. Every method throws {@link JournalException} when the journal is closed or the file
 * cannot be read or written.
 */
public final class DeadLetterQueue {
  private final SqliteJournal journal;

  DeadLetterQueue(SqliteJournal journal) {
    this.journal = journal;
  }

  /** Every dead letter, oldest id first, with its attempt history. */
  public List<DeadLetterRecord> list() {
    return journal.readInTransaction("the dead letters", c -> read(c, journal.codec(), null));
  }

  /** The dead letter with {@code id}, if there is one. */
  public Optional<DeadLetterRecord> find(long id) {
    return journal
        .readInTransaction("dead letter " + id, c -> read(c, journal.codec(), id))
        .stream()
        .findFirst();
  }

  /** Deletes every dead letter and its history; returns how many there were. */
  public int purge() {
    return SqliteJournal.await(journal.submit(new Writes.RemoveDeadLetters(null)));
  }

  /** Deletes dead letter {@code id} and its history; false when there was none. */
  public boolean remove(long id) {
    return SqliteJournal.await(journal.submit(new Writes.RemoveDeadLetters(id))) > 0;
  }

  /**
   * Moves dead letter {@code id} back to the pending messages with its attempts and history reset,
   * and returns it; empty when there was none. The owner of the journal delivers it after its next
   * recovery (the same as {@link SqliteJournal#replayDeadLetter}).
   */
  public Optional<Envelope> replay(long id) {
    return journal.replayDeadLetter(id);
  }

  /** The dead letters on {@code c} (all, or the one with {@code id}), with their history. */
  static List<DeadLetterRecord> read(Connection c, MessageCodec codec, Long id)
      throws SQLException {
    String where = id == null ? "" : "WHERE id = ?";
    List<Object> args = id == null ? List.of() : List.of(id);
    Map<Long, List<DeadLetterRecord.Attempt>> history = new HashMap<>();
    for (Object[] row :
        SqliteJournal.select(
            c,
            Table.ATTEMPTS,
            "WHERE message_id IN (SELECT id FROM dead_letters "
                + where
                + ")"
                + " ORDER BY message_id, attempt",
            args)) {
      history
          .computeIfAbsent(number(row[0]), k -> new ArrayList<>())
          .add(
              new DeadLetterRecord.Attempt(
                  (int) number(row[1]), Instant.ofEpochMilli(number(row[2])), (String) row[3]));
    }
    List<DeadLetterRecord> records = new ArrayList<>();
    for (Object[] row : SqliteJournal.select(c, Table.DEAD_LETTERS, where + " ORDER BY id", args)) {
      Envelope envelope = codec.envelope(Table.DEAD_LETTERS, row, true);
      records.add(
          new DeadLetterRecord(
              envelope,
              (int) number(row[Table.Columns.ATTEMPTS]),
              (String) row[Table.Columns.CAUSE],
              Instant.ofEpochMilli(number(row[Table.Columns.DEAD_AT])),
              history.getOrDefault(envelope.id(), List.of())));
    }
    return records;
  }
}
