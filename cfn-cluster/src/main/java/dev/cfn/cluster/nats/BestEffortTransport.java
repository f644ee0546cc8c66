package dev.cfn.cluster.nats;

import dev.cfn.core.AgentId;
import dev.cfn.core.TopicId;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Best-effort messages between cfn nodes on core NATS: at most once, no journal, no ack. A message
 * to an agent goes to {@code cfn.ns.be.P.TYPE.KEY} and reaches the node that serves partition
 * {@code P} (if any is listening at that instant); a publication goes to {@code
 * cfn.ns.topic.SOURCE.SEGMENTS} and reaches every node subscribed to a matching pattern; a request
 * carries the reply subject {@code cfn.ns.inbox.NODE.ID}, and the reply comes back on this node's
 * one inbox subscription, matched to its request by {@code ID}.
 *
 * <p>Receivers run on the NATS dispatcher's thread, in arrival order per subscription: they must
 * hand long work off. A request to a subject nobody serves fails at once with {@link
 * NoResponderException} (the server's no-responders status), one that gets no answer fails with
 * {@link TimeoutException} after its timeout.
 */
public final class BestEffortTransport implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BestEffortTransport.class);

  /** Receives best-effort messages for agents of a served partition. */
  @FunctionalInterface
  public interface AgentReceiver {
    /**
     * Handles {@code body} sent to {@code target}; for a request, the returned bytes are the reply
     * (null sends none, and the requester times out). For a plain message the result is ignored.
     */
    byte[] receive(AgentId target, byte[] body);
  }

  /** Receives publications on topics matching a subscription's pattern. */
  @FunctionalInterface
  public interface TopicReceiver {
    /** Handles a publication on {@code topic}. */
    void receive(TopicId topic, byte[] body);
  }

  /** A request was sent to an agent whose partition no node serves. */
  public static final class NoResponderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NoResponderException(String message) {
      super(message);
    }
  }

  private final Connection connection;
  private final Subjects subjects;
  private final Partitioner partitioner;
  private final String node;
  private final Dispatcher dispatcher;
  private final Map<String, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
  private final AtomicLong requestIds = new AtomicLong();

  /**
   * A transport for node {@code node} on {@code connection}; subscribes the node's reply inbox.
   *
   * @param node this node's id, unique in the cluster (any string; encoded as one token)
   */
  public BestEffortTransport(
      Connection connection, Subjects subjects, Partitioner partitioner, String node) {
    this.connection = Objects.requireNonNull(connection, "connection");
    this.subjects = Objects.requireNonNull(subjects, "subjects");
    this.partitioner = Objects.requireNonNull(partitioner, "partitioner");
    this.node = Objects.requireNonNull(node, "node");
    this.dispatcher = connection.createDispatcher();
    dispatcher.subscribe(subjects.inboxFilter(node), this::onReply);
  }

  /** Sends {@code body} to {@code target}, at most once. */
  public void send(AgentId target, byte[] body) {
    connection.publish(subject(target), body);
  }

  /** Publishes {@code body} on {@code topic}, at most once to each subscribed node. */
  public void publish(TopicId topic, byte[] body) {
    connection.publish(subjects.topic(topic), body);
  }

  /**
   * Sends a request to {@code target}; the future completes with the reply, or fails with {@link
   * NoResponderException} or {@link TimeoutException}.
   */
  public CompletableFuture<byte[]> request(AgentId target, byte[] body, Duration timeout) {
    String id = Long.toString(requestIds.incrementAndGet(), 36);
    CompletableFuture<byte[]> reply = new CompletableFuture<>();
    pending.put(id, reply);
    reply
        .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .whenComplete((r, e) -> pending.remove(id));
    connection.publish(subject(target), subjects.inbox(node, id), body);
    return reply;
  }

  /**
   * Serves best-effort messages and requests for the agents of {@code partition} (what the
   * partition's owner does while it holds the lease). Close the result to stop.
   */
  public AutoCloseable serve(int partition, AgentReceiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    String filter = subjects.bestEffortPartitionFilter(partition);
    dispatcher.subscribe(filter, message -> onAgentMessage(message, receiver));
    return () -> dispatcher.unsubscribe(filter);
  }

  /**
   * Serves {@code partition} as {@link #serve(int, AgentReceiver)} does, but runs {@code receiver}
   * on {@code executor} rather than on the dispatcher's thread, and publishes its reply from there:
   * for receivers that take time or make requests of their own (one waiting on the dispatcher's
   * thread would hold up every reply to this node, its own included).
   */
  public AutoCloseable serve(int partition, AgentReceiver receiver, Executor executor) {
    Objects.requireNonNull(receiver, "receiver");
    Objects.requireNonNull(executor, "executor");
    String filter = subjects.bestEffortPartitionFilter(partition);
    dispatcher.subscribe(
        filter,
        message -> {
          try {
            executor.execute(() -> onAgentMessage(message, receiver));
          } catch (RejectedExecutionException e) {
            LOG.debug("dropping a message to partition {}: its executor is shut down", partition);
          }
        });
    return () -> dispatcher.unsubscribe(filter);
  }

  /** True when topic type {@code type} matches the cfn pattern {@code pattern}. */
  public static boolean topicMatches(String pattern, String type) {
    return matches(pattern.split("\\.", -1), 0, type.split("\\.", -1), 0);
  }

  /**
   * Subscribes to publications whose topic type matches the cfn pattern {@code pattern} ({@code *}
   * one segment, {@code #} zero or more). Close the result to stop.
   */
  public AutoCloseable subscribe(String pattern, TopicReceiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    String[] segments = pattern.split("\\.", -1);
    List<String> filters = subjects.topicFilters(pattern);
    List<io.nats.client.Subscription> subscriptions = new ArrayList<>(filters.size());
    for (String filter : filters) {
      subscriptions.add(
          dispatcher.subscribe(
              filter,
              message -> {
                TopicId topic;
                try {
                  topic = subjects.parseTopic(message.getSubject());
                } catch (RuntimeException e) {
                  LOG.debug("dropping unreadable topic subject {}", message.getSubject());
                  return;
                }
                if (matches(segments, 0, topic.type().split("\\.", -1), 0)) {
                  receiver.receive(topic, message.getData());
                }
              }));
    }
    return () -> subscriptions.forEach(dispatcher::unsubscribe);
  }

  private String subject(AgentId target) {
    return subjects.bestEffort(partitioner.partition(target), target);
  }

  private void onAgentMessage(Message message, AgentReceiver receiver) {
    AgentId target;
    try {
      target = subjects.parseAgent(message.getSubject()).agent();
    } catch (RuntimeException e) {
      LOG.debug("dropping unreadable agent subject {}", message.getSubject());
      return;
    }
    byte[] reply = receiver.receive(target, message.getData());
    if (message.getReplyTo() != null && reply != null) {
      connection.publish(message.getReplyTo(), reply);
    }
  }

  private void onReply(Message message) {
    String subject = message.getSubject();
    String id = Subjects.decodeToken(subject.substring(subject.lastIndexOf('.') + 1));
    CompletableFuture<byte[]> reply = pending.remove(id);
    if (reply == null) {
      return; // late reply to a request that timed out
    }
    if (message.isStatusMessage() && message.getStatus().getCode() == 503) {
      reply.completeExceptionally(
          new NoResponderException(
              "no node serves the request's agent (its partition has no owner listening)"));
    } else {
      reply.complete(message.getData());
    }
  }

  /** cfn's topic match: {@code *} one segment, {@code #} zero or more. */
  static boolean matches(String[] pattern, int p, String[] type, int t) {
    if (p == pattern.length) {
      return t == type.length;
    }
    if (pattern[p].equals("#")) {
      for (int skip = t; skip <= type.length; skip++) {
        if (matches(pattern, p + 1, type, skip)) {
          return true;
        }
      }
      return false;
    }
    return t < type.length
        && (pattern[p].equals("*") || pattern[p].equals(type[t]))
        && matches(pattern, p + 1, type, t + 1);
  }

  /** Unsubscribes everything and fails the requests still waiting. */
  @Override
  public void close() {
    connection.closeDispatcher(dispatcher);
    pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("closed")));
    pending.clear();
  }
}
