package dev.cfn.cluster.nats;

import dev.cfn.core.AgentId;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes reliable messages to a {@link ReliableStream}: the subject carries the target's
 * partition and id, the header {@code Nats-Msg-Id} carries the caller's deterministic message id,
 * and a message counts as sent only when JetStream's PubAck arrived (the stream stored it on a
 * majority of its replicas). A publish that failed or timed out may or may not have been stored:
 * publish it again with the same id; inside the stream's duplicate window the server stores it once
 * ({@link Sent#duplicate()} then says so), and beyond it the store's own dedup on the id catches
 * the second copy.
 *
 * <p>Thread-safe; it holds no state beyond its collaborators.
 */
public final class ReliablePublisher {

  /** The outcome of one publish. */
  public record Sent(long streamSequence, boolean duplicate) {}

  private final JetStream jetStream;
  private final ReliableStream stream;
  private final Partitioner partitioner;

  /**
   * A publisher on {@code connection} into {@code stream}, partitioning with {@code partitioner}.
   */
  public ReliablePublisher(Connection connection, ReliableStream stream, Partitioner partitioner)
      throws IOException {
    this.jetStream = connection.jetStream();
    this.stream = Objects.requireNonNull(stream, "stream");
    this.partitioner = Objects.requireNonNull(partitioner, "partitioner");
  }

  /**
   * Publishes and waits for the PubAck.
   *
   * @throws IOException when no PubAck came (the message may or may not be stored: retry with the
   *     same id)
   * @throws JetStreamApiException when the stream refused it (for instance full, discard-new)
   */
  public Sent publish(AgentId target, String messageId, byte[] body)
      throws IOException, JetStreamApiException {
    PublishAck ack = jetStream.publish(subject(target), body, options(messageId));
    return new Sent(ack.getSeqno(), ack.isDuplicate());
  }

  /** Publishes without waiting; the future completes with the PubAck or the failure. */
  public CompletableFuture<Sent> publishAsync(AgentId target, String messageId, byte[] body) {
    return jetStream
        .publishAsync(subject(target), body, options(messageId))
        .thenApply(ack -> new Sent(ack.getSeqno(), ack.isDuplicate()));
  }

  private String subject(AgentId target) {
    return stream.subjects().reliable(partitioner.partition(target), target);
  }

  private PublishOptions options(String messageId) {
    if (messageId == null || messageId.isEmpty() || messageId.length() > 255) {
      throw new IllegalArgumentException(
          "message id must be 1 to 255 characters (fix: use the envelope's id)");
    }
    return PublishOptions.builder().messageId(messageId).expectedStream(stream.name()).build();
  }
}
