/**
 * PostgreSQL as the authoritative store of distributed mode: a {@link dev.cfn.core.spi.Journal}
 * ({@link dev.cfn.cluster.pg.PgJournal}) with the semantics of cfn-store's embedded {@code
 * SqliteJournal} (durable append, acknowledgement with effects in one transaction, dedup for the
 * retention, dead letters, checksummed records, call records), and leases with epochs on partitions
 * ({@link dev.cfn.cluster.pg.PgLeases}, {@link dev.cfn.cluster.pg.Lease}) that fence a node's
 * writes ({@link dev.cfn.cluster.pg.PgJournal#under}, {@link
 * dev.cfn.cluster.pg.LeaseLostException}).
 *
 * <p>Public: those five, and for the cluster layer {@link dev.cfn.cluster.pg.PgNodes} (node
 * heartbeats) and {@link dev.cfn.cluster.pg.PgOutbox} (the pending messages as the relay's outbox)
 * and {@link dev.cfn.cluster.pg.PgAnswers} (the answers to requests from outside the cluster).
 * Package-private beside them: the group-commit writer ({@code PgWriter}, {@code PgOp}, {@code
 * PgWrites}), the fence a write carries ({@code Fence}) and the journal seen under a lease ({@code
 * FencedJournal}), the versioned schema ({@code PgSchema}), the in-memory committed state
 * (cfn-store's {@code StateCache}, shared with the SQLite journal) and error text ({@code
 * PgErrors}).
 *
 * <p>Depends on {@code dev.cfn.core} (Envelope, the Journal SPI), cfn-store's record format ({@code
 * dev.cfn.store.journal.EnvelopeRecords}) and at-rest sealing ({@code
 * dev.cfn.store.crypto.AtRest}), the PostgreSQL JDBC driver, HikariCP, Micrometer and SLF4J; never
 * on {@code dev.cfn.cluster.nats} (the NATS side calls this package, per partition). See {@code
 * docs/cluster.md}.
 */
package dev.cfn.cluster.pg;
