package dev.cfn.ai;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link CallLog#inMemory()}: the most recent records in insertion order, the oldest forgotten
 * beyond the capacity. A lock guards the map; calls are rare next to a model round trip.
 */
final class InMemoryCallLog implements CallLog {
  static final int DEFAULT_CAPACITY = 10_000;

  private final Map<String, String> records;

  InMemoryCallLog(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("an in-memory call log holds 1 or more records");
    }
    this.records =
        new LinkedHashMap<>() {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > capacity;
          }
        };
  }

  @Override
  public synchronized Optional<String> find(String key) {
    return Optional.ofNullable(records.get(Objects.requireNonNull(key, "key")));
  }

  @Override
  public synchronized void record(String key, String resultJson) {
    records.putIfAbsent(Objects.requireNonNull(key, "key"), Objects.requireNonNull(resultJson));
  }

  @Override
  public String toString() {
    return "CallLog[in memory]";
  }
}
