package dev.cfn.core.spi;

import java.util.Optional;

/**
 * A durable log of call results by idempotency key, so that work which must not happen twice (a
 * paid model call, a tool that writes or sends) is done once even when the message that asked for
 * it is handled again after a crash. cfn-ai's {@code CallLog.durable} uses this interface;
 * cfn-store implements it on SQLite ({@code dev.cfn.store.calls.SqliteCallLogStore}).
 *
 * <p>The contract: {@link #record} returns once the record is durable; the first record of a key
 * wins; {@link #find} returns what was recorded (until the implementation's retention drops it).
 * Implementations are thread-safe. They may write the records of concurrent callers together (a
 * group commit, one flush for many records) as long as each {@link #record} returns only once its
 * own record is durable, and a record is found by every {@link #find} that starts after its {@link
 * #record} returned. A failed write fails every caller whose record it carried.
 */
public interface CallLogStore {

  /**
   * The result recorded under {@code key}, if there is one.
   *
   * @throws IllegalArgumentException for a key the implementation cannot store
   * @throws CallLogException when the record is damaged or cannot be read
   */
  Optional<String> find(String key);

  /**
   * Records {@code resultJson} under {@code key} and returns once it is durable. A key that already
   * has a record keeps it.
   *
   * @return true when this call stored the record, false when the key already had one
   * @throws CallLogException when the record cannot be written (nothing was stored then)
   */
  boolean record(String key, String resultJson);
}
