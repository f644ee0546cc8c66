package dev.cfn.core;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs each turn of a blocking agent on its own virtual thread, so a handler that waits on a model,
 * a subprocess or a database never holds a carrier. The cell's schedule flag still guarantees one
 * turn at a time per agent.
 */
final class VirtualDispatcher implements Dispatcher {
  private final ExecutorService executor;
  private final LatencySampler sampler;
  final LongAdder delivered = new LongAdder();
  final LongAdder running = new LongAdder();

  VirtualDispatcher(LatencySampler sampler, String namePrefix) {
    this.sampler = sampler;
    this.executor =
        Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(namePrefix, 0).factory());
  }

  @Override
  public void execute(AgentCell cell) {
    running.increment();
    executor.execute(
        () -> {
          try {
            cell.runTurn();
          } finally {
            running.decrement();
          }
        });
  }

  @Override
  public void delivered(long createdNanos) {
    delivered.increment();
    sampler.sampleShared(createdNanos);
  }

  @Override
  public void started(long createdNanos) {
    sampler.sampleStartShared(createdNanos);
  }

  boolean isIdle() {
    return running.sum() == 0;
  }

  void shutdown() {
    executor.shutdownNow();
  }
}
