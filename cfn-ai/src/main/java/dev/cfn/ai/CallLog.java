package dev.cfn.ai;

import dev.cfn.core.spi.CallLogStore;
import java.util.Objects;
import java.util.Optional;

/**
 * Results of calls that must not be made twice, by idempotency key: what lets an agent handle a
 * redelivered message without paying for its model calls again or repeating its side effects.
 *
 * <p>The protocol is write-through: before a call, {@link #find} its key; if there is a result, use
 * it instead of calling; otherwise call, then {@link #record} the result <b>before</b> using it. A
 * crash after the call and before the record repeats that one call; a crash after the record
 * repeats nothing. {@link LlmAgent} keys its calls by message, turn and kind of call.
 *
 * <ul>
 *   <li>{@link #inMemory()}: for redeliveries within one process (a handler that failed and is
 *       retried); lost when the process ends.
 *   <li>{@link #durable(CallLogStore)}: cfn-store's SQLite call log ({@code .cfn/calls.db} by
 *       default): a record returns once it is committed and fsynced, so a redelivery after a crash
 *       finds the results too. Records are group-committed: agents recording at the same time share
 *       one fsync, each waiting only for its own record, and lookups never wait for writes.
 * </ul>
 *
 * <p>Implementations are thread-safe. The first record of a key wins: a later record of the same
 * key does not replace it.
 */
public interface CallLog {

  /**
   * Returns the result recorded under {@code key}.
   *
   * @param key the idempotency key
   * @return the recorded result, or empty when the call was not made (or its record has expired)
   */
  Optional<String> find(String key);

  /**
   * Records {@code resultJson} under {@code key} durably (as durable as the implementation is)
   * before returning. A key that already has a record keeps it.
   *
   * @param key the idempotency key
   * @param resultJson the call's result, as JSON
   */
  void record(String key, String resultJson);

  /**
   * A call log in this process's memory holding the 10,000 most recent records.
   *
   * @return a new, empty log
   */
  static CallLog inMemory() {
    return new InMemoryCallLog(InMemoryCallLog.DEFAULT_CAPACITY);
  }

  /**
   * A call log in this process's memory holding the {@code maxEntries} most recent records; older
   * ones are forgotten.
   *
   * @param maxEntries at least 1
   * @return a new, empty log
   */
  static CallLog inMemory(int maxEntries) {
    return new InMemoryCallLog(maxEntries);
  }

  /**
   * The call log kept in {@code store}, a durable store such as cfn-store's SQLite {@code
   * SqliteCallLogStore}. The caller keeps ownership of the store and closes it after the agents
   * that use it stop.
   *
   * @param store an open call-log store
   * @return a call log backed by it
   */
  static CallLog durable(CallLogStore store) {
    Objects.requireNonNull(store, "store");
    return new CallLog() {
      @Override
      public Optional<String> find(String key) {
        return store.find(key);
      }

      @Override
      public void record(String key, String resultJson) {
        store.record(key, resultJson);
      }

      @Override
      public String toString() {
        return "CallLog[" + store + "]";
      }
    };
  }
}
