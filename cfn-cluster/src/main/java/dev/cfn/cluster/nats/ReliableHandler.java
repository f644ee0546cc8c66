package dev.cfn.cluster.nats;

/**
 * Where a reliable message is handled and committed: the seam between the NATS transport and the
 * authoritative store.
 *
 * <p>The contract is "committed, then acked": {@link #handleAndCommit} runs the agent's handler and
 * commits what it did (the dedup row for {@link ReliableMessage#messageId()}, its effects and
 * outbox rows, in one store transaction that also checks {@link ReliableMessage#epoch()}), and
 * returns only once that transaction committed. Only then does {@link PartitionConsumer} ack the
 * message to JetStream. If it throws, nothing was committed and the message is retried (or
 * dead-lettered after the last attempt). Because the ack follows the commit, a crash between the
 * two redelivers a message whose commit is already in the store: the store's dedup on the message
 * id (insert ... on conflict do nothing) must make that second delivery a no-op that returns
 * normally.
 */
@FunctionalInterface
public interface ReliableHandler {

  /**
   * Handles {@code message} and commits the result; returns only after the commit.
   *
   * @throws Exception when the attempt failed and nothing was committed
   */
  void handleAndCommit(ReliableMessage message) throws Exception;
}
