/**
 * The call log of AI agents on SQLite, implementing the {@link dev.cfn.core.spi.CallLogStore} SPI
 * ({@code .cfn/calls.db} by default, application id "cfnc"): results of model and tool calls kept
 * under idempotency keys, committed and fsynced before they are used, so a run resumed after a
 * crash replays them instead of calling again; swept after the retention period.
 *
 * <p>Public: {@link dev.cfn.store.calls.SqliteCallLogStore} (with its builder); its error, {@code
 * CallLogException}, is the SPI's. Package-private: {@code CallLogWriter} (the writer thread and
 * its group commit: every record queued during a commit goes into the next one, one fsync per
 * batch, each caller waiting for its own record), {@code CallLogReaders} (the read connections
 * lookups use, so they never wait for the writer) and {@code CallLogSchema}.
 *
 * <p>Depends on {@code dev.cfn.core.spi}, {@code dev.cfn.store} ({@code StoreCheck}), {@code
 * dev.cfn.store.crypto} ({@code AtRest}: results sealed when a keyring is configured), the internal
 * {@code dev.cfn.store.sqlite}, sqlite-jdbc and SLF4J; never on the journal or memory packages.
 */
package dev.cfn.store.calls;
