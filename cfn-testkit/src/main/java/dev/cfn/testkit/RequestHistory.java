package dev.cfn.testkit;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The most recent requests a {@link ModelServer} received, at most {@code capacity} of them, and
 * the count of all of them. Adding is O(1): the oldest request leaves when a new one arrives at a
 * full history. A capacity of 0 keeps nothing and takes no lock, so a server under load pays one
 * atomic increment per request.
 */
final class RequestHistory {
  private final int capacity;
  private final ArrayDeque<RecordedRequest> recent; // guarded by itself
  private final AtomicLong received = new AtomicLong();

  RequestHistory(int capacity) {
    this.capacity = capacity;
    this.recent = new ArrayDeque<>(Math.min(capacity, 1024));
  }

  void add(RecordedRequest request) {
    received.incrementAndGet();
    if (capacity == 0) {
      return;
    }
    synchronized (recent) {
      if (recent.size() == capacity) {
        recent.pollFirst();
      }
      recent.addLast(request);
    }
  }

  List<RecordedRequest> snapshot() {
    if (capacity == 0) {
      return List.of();
    }
    synchronized (recent) {
      return List.copyOf(recent);
    }
  }

  long received() {
    return received.get();
  }

  int capacity() {
    return capacity;
  }
}
