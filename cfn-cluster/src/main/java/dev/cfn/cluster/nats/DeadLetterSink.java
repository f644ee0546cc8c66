package dev.cfn.cluster.nats;

/**
 * Receives a reliable message whose last attempt failed. {@link PartitionConsumer} calls it, then
 * terminates the message in JetStream ({@code term()}): the sink must have stored the dead letter
 * durably before it returns. If it throws, the message is not terminated and comes back after the
 * retry policy's longest delay, to be dead-lettered again.
 */
@FunctionalInterface
public interface DeadLetterSink {

  /**
   * Stores {@code message}, which failed {@code message.attempt()} times, last with {@code cause}.
   */
  void deadLetter(ReliableMessage message, Throwable cause) throws Exception;
}
