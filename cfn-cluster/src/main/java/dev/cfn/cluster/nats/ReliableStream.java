package dev.cfn.cluster.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;

/**
 * The JetStream stream that carries one namespace's reliable messages: a work queue (a message is
 * removed when its consumer acks it), file storage, {@code replicas} copies (3 in production: a
 * write is acknowledged once a majority holds it), discard-new when full (a publisher gets an error
 * instead of the stream silently dropping old unconsumed messages), and a duplicate window within
 * which a republished {@code Nats-Msg-Id} is stored once.
 *
 * <p>The stream is named {@code CFN_<NAMESPACE>} ({@code -} becomes {@code _}) and captures {@code
 * cfn.<ns>.rel.>}. {@link #ensure} creates it, or updates the settings an update may change.
 *
 * @param name the stream's name
 * @param subjects the namespace's subjects
 * @param replicas how many servers hold each message
 */
public record ReliableStream(String name, Subjects subjects, int replicas) {

  /** JetStream's default duplicate window, kept: dedup for the whole retention is in PostgreSQL. */
  public static final Duration DEFAULT_DUPLICATE_WINDOW = Duration.ofMinutes(2);

  /**
   * Creates the stream of {@code subjects}'s namespace, or updates its duplicate window and size
   * limit when it exists.
   *
   * @param replicas 1 to 5 (3 for production; 1 only for a single test server)
   * @param duplicateWindow how long a {@code Nats-Msg-Id} is remembered by the server
   * @param maxBytes the stream's size limit (publishers get an error beyond it), or -1 for none
   */
  public static ReliableStream ensure(
      Connection connection,
      Subjects subjects,
      int replicas,
      Duration duplicateWindow,
      long maxBytes)
      throws IOException, JetStreamApiException {
    if (replicas < 1 || replicas > 5) {
      throw new IllegalArgumentException(
          "stream replicas is " + replicas + " (fix: use 3 in production, 1 to 5 in all)");
    }
    String name = "CFN_" + subjects.namespace().toUpperCase(Locale.ROOT).replace('-', '_');
    StreamConfiguration config =
        StreamConfiguration.builder()
            .name(name)
            .subjects(subjects.reliableStreamFilter())
            .retentionPolicy(RetentionPolicy.WorkQueue)
            .storageType(StorageType.File)
            .replicas(replicas)
            .discardPolicy(DiscardPolicy.New)
            .duplicateWindow(duplicateWindow)
            .maxBytes(maxBytes)
            .build();
    JetStreamManagement jsm = connection.jetStreamManagement();
    StreamInfo existing = null;
    try {
      existing = jsm.getStreamInfo(name);
    } catch (JetStreamApiException e) {
      if (e.getErrorCode() != 404) {
        throw e;
      }
    }
    if (existing == null) {
      jsm.addStream(config);
    } else {
      int have = existing.getConfiguration().getReplicas();
      if (have != replicas) {
        throw new IllegalStateException(
            "stream "
                + name
                + " exists with "
                + have
                + " replicas, not "
                + replicas
                + " (fix: change it with 'nats stream edit "
                + name
                + " --replicas "
                + replicas
                + "' or use the existing count)");
      }
      jsm.updateStream(config);
    }
    return new ReliableStream(name, subjects, replicas);
  }
}
