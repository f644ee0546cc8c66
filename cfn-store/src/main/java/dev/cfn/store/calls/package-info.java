/**
 * The call log of AI agents on SQLite, implementing the {@link dev.cfn.core.spi.CallLogStore} SPI
 * ({@code .cfn/calls.db} by default, application id "cfnc"): results of model and tool calls kept
 * under idempotency keys, written through (fsynced) before they are used, so a run resumed after a
 * crash replays them instead of calling again; swept after the retention period.
 *
 * <p>Public: {@link dev.cfn.store.calls.SqliteCallLogStore} (with its builder); its error, {@code
 * CallLogException}, is the SPI's. Package-private: {@code CallLogSchema}.
 *
 * <p>Depends on {@code dev.cfn.core.spi}, {@code dev.cfn.store} ({@code StoreCheck}), the internal
 * {@code dev.cfn.store.sqlite}, sqlite-jdbc and SLF4J; never on the journal or memory packages.
 */
package dev.cfn.store.calls;
