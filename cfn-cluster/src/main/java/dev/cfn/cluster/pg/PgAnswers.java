package dev.cfn.cluster.pg;

import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.EnvelopeRecords;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Objects;
import java.util.Optional;

/**
 * The answers to RELIABLE requests sent from outside the cluster (an API call, say), kept in
 * PostgreSQL for whoever asked, on any node, for the journal's retention.
 *
 * <p>A request from outside names as its sender the agent {@code (}{@value #CALLER_TYPE}{@code ,
 * NODE)}, NODE being the node that took it. No agent of that type exists: a reply to such a sender
 * (a message whose {@link Envelope#isReply()} is true, sent with a handler's acknowledgement) is
 * not put in the outbox but stored in {@code cfn_answers}, in the same transaction, under the
 * request's id (its correlation id). So the answer is durable exactly when the request's
 * acknowledgement is, whichever node handled it; the first answer to a request is kept, later ones
 * are dropped. {@link #find} reads it back.
 */
public final class PgAnswers {
  /**
   * The agent type of the sender of a request from outside the cluster, whose key is the node that
   * took it; reserved: no agent of this type may be registered.
   */
  public static final String CALLER_TYPE = "cfn-caller";

  private static final String SELECT =
      "SELECT " + PgWrites.CONTENT_COLUMNS + ", crc FROM cfn_answers WHERE correlation_id = ?";

  private final PgJournal journal;

  PgAnswers(PgJournal journal) {
    this.journal = journal;
  }

  /** The sender of a request from outside the cluster taken by node {@code node}. */
  public static AgentId caller(String node) {
    return AgentId.of(CALLER_TYPE, node);
  }

  /** True when {@code message} is an answer to a request from outside, kept instead of sent. */
  public static boolean isAnswer(Envelope message) {
    return message.isReply()
        && message.recipient() != null
        && CALLER_TYPE.equals(message.recipient().type());
  }

  /**
   * The answer to request {@code requestId}, verified against its checksum; empty while there is
   * none (the request is pending, was handled without an answer, or its answer is older than the
   * retention).
   *
   * @throws JournalException when its record fails its checksum, or the database cannot be read
   */
  public Optional<Envelope> find(long requestId) {
    return journal.read(
        "the answer to request " + requestId,
        c -> {
          try (PreparedStatement s = c.prepareStatement(SELECT)) {
            s.setLong(1, requestId);
            try (ResultSet rows = s.executeQuery()) {
              if (!rows.next()) {
                return Optional.<Envelope>empty();
              }
              Object[] row = PgJournal.content(rows);
              Optional<String> problem =
                  EnvelopeRecords.problem(
                      PgSchema.MESSAGE_CHECKSUM, row, rows.getObject(PgWrites.CONTENT + 1));
              if (problem.isPresent()) {
                throw new JournalException(
                    "the answer to request "
                        + requestId
                        + " in "
                        + journal.where()
                        + ": "
                        + problem.get()
                        + ": the record was changed outside cfn or damaged, so it is not used"
                        + " (fix: restore it from a backup, or send the request again)");
              }
              return Optional.of(Objects.requireNonNull(journal.decode(row)));
            }
          }
        });
  }
}
