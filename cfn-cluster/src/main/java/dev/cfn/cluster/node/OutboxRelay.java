package dev.cfn.cluster.node;

import dev.cfn.cluster.nats.ReliablePublisher;
import dev.cfn.cluster.nats.ReliableStream;
import dev.cfn.cluster.pg.PgOutbox;
import dev.cfn.cluster.pg.PgOutbox.OutboxMessage;
import dev.cfn.core.Envelope;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.MessageInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the PostgreSQL outbox to JetStream, and puts back what JetStream lost.
 *
 * <p><b>Relay.</b> {@link #relay} publishes unpublished pending messages (oldest first) to their
 * recipients' partitions with {@code Nats-Msg-Id} = the message id in decimal, waits for every
 * PubAck, then {@linkplain PgOutbox#markPublished marks} each with its stream sequence. A relay
 * that dies between the PubAck and the mark publishes again later under the same id: inside the
 * stream's duplicate window the server stores it once, beyond it the recipient's dedup row ({@code
 * cfn_acked}) makes the copy a no-op. The message body is the id alone: the recipient reads the
 * message from PostgreSQL, so JetStream never holds the only copy of anything.
 *
 * <p><b>Reconciler.</b> {@link #reconcile} looks at messages published more than {@code after} ago
 * and still pending (not acknowledged by their recipient), and asks the stream for the sequence
 * each was stored at. When the stream still has it there (the message at that sequence names its
 * id), the message is waiting (a backlog, a retry) and its mark is refreshed. When the stream no
 * longer has it, or holds another message at that sequence, JetStream lost it (a power loss before
 * its fsync, a purge, a deleted message, a replica that lost its tail and then led, reusing the
 * sequence), since a work-queue stream deletes a message only on the ack that follows the
 * recipient's commit (which deletes the pending row): it is republished under {@code Nats-Msg-Id} =
 * {@code <id>-r<lost sequence>} (a new id, or the duplicate window would swallow it; deterministic,
 * so two reconcilers that see the same loss store it once), and the recipient's dedup makes it take
 * effect once whatever happens. It also publishes messages left unpublished for more than {@code
 * after} (their relay's node died before publishing them).
 *
 * <p><b>Publications.</b> A RELIABLE topic publication (a pending row with a topic and no
 * recipient) is handed to the {@link Fanout}: it acknowledges the publication's row with one
 * RELIABLE message per subscriber as its effects, in one PostgreSQL transaction, and the relay
 * publishes those copies like any message (each its own id, its {@code Nats-Msg-Id}). The
 * acknowledgement's dedup row makes the fan-out happen once, whichever relay (or the publishing
 * handler's node) gets there first; a copy lost by JetStream is republished by the reconciler like
 * any message. A relay without a fan-out leaves publications pending, logged.
 */
public final class OutboxRelay {
  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
  private static final int BATCH = 512;
  private static final long PUBACK_SECONDS = 30;

  private final PgOutbox outbox;
  private final ReliablePublisher publisher;
  private final JetStreamManagement jsm;
  private final String streamName;
  private final Fanout fanout;

  /** Turns a RELIABLE topic publication into the messages to its subscribers. */
  @FunctionalInterface
  public interface Fanout {
    /**
     * Commits, in one transaction, the acknowledgement of {@code publication}'s row and one pending
     * message per subscriber, and returns those messages for the relay to publish; returns none
     * when the publication was fanned out already (another relay got there first), when nobody
     * subscribes, or when this node no longer holds the publication's partition.
     */
    List<Envelope> fanOut(OutboxMessage publication);
  }

  /**
   * A relay from {@code outbox} into {@code stream} through {@code publisher}, leaving RELIABLE
   * topic publications pending.
   */
  public OutboxRelay(
      PgOutbox outbox, ReliablePublisher publisher, Connection connection, ReliableStream stream)
      throws IOException {
    this(outbox, publisher, connection, stream, null);
  }

  /**
   * A relay from {@code outbox} into {@code stream} through {@code publisher}, which fans RELIABLE
   * topic publications out through {@code fanout} (null: leaves them pending).
   */
  public OutboxRelay(
      PgOutbox outbox,
      ReliablePublisher publisher,
      Connection connection,
      ReliableStream stream,
      Fanout fanout)
      throws IOException {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.jsm = connection.jetStreamManagement();
    this.streamName = stream.name();
    this.fanout = fanout;
  }

  /** The {@code Nats-Msg-Id} of message {@code id}'s first publication. */
  public static String messageId(long id) {
    return Long.toString(id);
  }

  /** The message id a delivery's body names. */
  public static long idOf(byte[] body) {
    return Long.parseLong(new String(body, StandardCharsets.US_ASCII));
  }

  /**
   * Publishes up to {@value #BATCH} unpublished messages of {@code partitions} (and of no partition
   * when {@code unpartitioned}) and marks them; returns how many were published.
   */
  public int relay(Collection<Integer> partitions, boolean unpartitioned)
      throws IOException, InterruptedException {
    return publish(outbox.unpublished(partitions, unpartitioned, BATCH), false);
  }

  /** Publishes {@code messages} now (the outbox of a commit that just happened) and marks them. */
  public int publishNow(List<Envelope> messages) throws IOException, InterruptedException {
    return publishNow(messages, -1);
  }

  /**
   * Publishes {@code messages} now, the outbox of a commit that just happened under the lease of
   * {@code partition} (-1: none), and marks them; publications are fanned out under that lease.
   */
  public int publishNow(List<Envelope> messages, int partition)
      throws IOException, InterruptedException {
    List<OutboxMessage> out = new ArrayList<>(messages.size());
    for (Envelope m : messages) {
      out.add(new OutboxMessage(m, partition, 0));
    }
    return publish(out, false);
  }

  /**
   * Republishes what JetStream lost among the messages published more than {@code after} ago and
   * still pending, and publishes what was left unpublished for as long; returns how many it
   * (re)published.
   */
  public int reconcile(Duration after) throws IOException, InterruptedException {
    IOException failure = null;
    int n = 0;
    try {
      n = publish(outbox.unpublishedOlderThan(after, BATCH), false);
    } catch (IOException e) {
      failure = e; // what got no PubAck stays unpublished; the published ones are still checked
    }
    List<OutboxMessage> lost = new ArrayList<>();
    for (OutboxMessage m : outbox.publishedOlderThan(after, BATCH)) {
      if (holds(m)) {
        outbox.markPublished(m.envelope().id(), m.streamSequence()); // waiting: look again later
      } else {
        lost.add(m);
      }
    }
    if (!lost.isEmpty()) {
      log.warn(
          "{} published messages are pending but gone from stream {} (lost by JetStream, or"
              + " deleted); republishing them",
          lost.size(),
          streamName);
    }
    n += publish(lost, true);
    if (failure != null) {
      throw failure;
    }
    return n;
  }

  /**
   * Whether the stream still holds {@code m} at the sequence it was marked with: a message is there
   * and it is {@code m} (its body names {@code m}'s id). A sequence that holds another message
   * means the stream lost {@code m} and gave its sequence to a later one (a replica that lost its
   * tail, then led); a sequence of 0 or below names nothing.
   *
   * @throws IOException when the stream cannot be asked (no leader, a timeout): look again later
   */
  private boolean holds(OutboxMessage m) throws IOException {
    long sequence = m.streamSequence();
    if (sequence <= 0) {
      return false;
    }
    MessageInfo stored;
    try {
      stored = jsm.getMessage(streamName, sequence);
    } catch (JetStreamApiException e) {
      if (e.getErrorCode() == 404) {
        return false;
      }
      throw new IOException("cannot read sequence " + sequence + " of " + streamName, e);
    }
    byte[] body = stored.getData();
    try {
      return body != null && idOf(body) == m.envelope().id();
    } catch (NumberFormatException e) {
      return false; // not a message cfn published: not this one
    }
  }

  private int publish(List<OutboxMessage> messages, boolean republish)
      throws IOException, InterruptedException {
    List<CompletableFuture<ReliablePublisher.Sent>> acks = new ArrayList<>(messages.size());
    List<Envelope> sent = new ArrayList<>(messages.size());
    List<OutboxMessage> all = messages;
    if (messages.stream().anyMatch(m -> m.envelope().recipient() == null)) {
      all = new ArrayList<>(messages.size());
      for (OutboxMessage m : messages) {
        if (m.envelope().recipient() != null) {
          all.add(m);
        } else if (fanout == null) {
          log.warn(
              "message {} is a RELIABLE publication on topic {}; this relay has no fan-out, so it"
                  + " stays pending",
              m.envelope().id(),
              m.envelope().topic());
        } else {
          for (Envelope copy : fanout.fanOut(m)) {
            all.add(new OutboxMessage(copy, m.partition(), 0));
          }
        }
      }
    }
    for (OutboxMessage m : all) {
      Envelope e = m.envelope();
      String msgId = republish ? messageId(e.id()) + "-r" + m.streamSequence() : messageId(e.id());
      acks.add(
          publisher.publishAsync(
              e.recipient(), msgId, Long.toString(e.id()).getBytes(StandardCharsets.US_ASCII)));
      sent.add(e);
    }
    int published = 0;
    IOException failure = null;
    for (int i = 0; i < acks.size(); i++) {
      ReliablePublisher.Sent s;
      Exception problem = null;
      try {
        s = acks.get(i).get(PUBACK_SECONDS, TimeUnit.SECONDS);
        if (s.streamSequence() <= 0) {
          // a duplicate of a copy the server has not stored yet: nothing to check it by later
          problem = new IOException("PubAck without a stream sequence: " + s);
        }
      } catch (ExecutionException | TimeoutException e) {
        s = null;
        problem = e;
      }
      if (problem == null) {
        outbox.markPublished(sent.get(i).id(), s.streamSequence());
        published++;
      } else if (failure == null) {
        // unmarked: published again by a later relay or reconcile, under the same id
        failure =
            new IOException(
                "message " + sent.get(i).id() + " got no PubAck from " + streamName, problem);
      }
    }
    if (failure != null) {
      throw failure;
    }
    return published;
  }
}
