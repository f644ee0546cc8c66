/**
 * Distributed mode: several cfn nodes running one set of agents, with PostgreSQL as the
 * authoritative store (effects, dedup, outbox, leases, dead letters) and NATS as the transport
 * (core NATS for best-effort messages and request-reply, JetStream for reliable ones).
 *
 * <p>The embedded default (one process, SQLite) stays the default; this module is used only when a
 * node joins a cluster ({@code cfn serve --cluster FILE}). Sub-packages: {@code pg} (the PostgreSQL
 * journal, behind the same {@link dev.cfn.core.spi.Journal} SPI as the embedded one) and {@code
 * nats} (subjects, the JetStream transport, server checks), and {@code node} (placement, the outbox
 * relay and reconciler, the node and its cluster file), which uses both. See {@code
 * docs/cluster.md}.
 */
package dev.cfn.cluster;
