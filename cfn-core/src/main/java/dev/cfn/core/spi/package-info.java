/**
 * The service-provider interfaces of the kernel: what the edges (cfn-store on SQLite, later a
 * cluster store) implement and what the other modules (cfn-ai) program against, so that no module
 * depends on another's storage classes.
 *
 * <ul>
 *   <li><b>Journal</b>, behind {@link dev.cfn.core.DeliveryMode#RELIABLE} messages: {@link
 *       dev.cfn.core.spi.Journal} (and its {@code JournalEntry}), the {@link
 *       dev.cfn.core.spi.Effect}s a handler commits with its acknowledgement, {@link
 *       dev.cfn.core.spi.BufferedEffects} (the {@code Effects} of one handler invocation, which
 *       collects those {@code Effect}s: the kernel's and the cluster nodes' one implementation),
 *       and {@link dev.cfn.core.spi.JournalException}. Implemented by cfn-store's {@code
 *       SqliteJournal} and, in memory, by {@link dev.cfn.core.InMemoryJournal}. Handlers never see
 *       these types: they use {@link dev.cfn.core.Effects} (in {@code dev.cfn.core}, beside {@code
 *       AgentContext}), which the kernel turns into {@code Effect}s. A journal that deduplicates
 *       producers' idempotency keys overrides {@code Journal.appendOnce} and {@code
 *       idempotencyKeyId}.
 *   <li><b>Memory store</b>, shared memory of agents with access levels: {@link
 *       dev.cfn.core.spi.MemoryStore} and its values ({@link dev.cfn.core.spi.MemoryAccessor},
 *       {@link dev.cfn.core.spi.MemoryAccessLevel}, {@link dev.cfn.core.spi.MemoryEntry}, {@link
 *       dev.cfn.core.spi.MemoryWrite}, {@link dev.cfn.core.spi.MemoryMatch}) and errors ({@link
 *       dev.cfn.core.spi.MemoryException}, {@link dev.cfn.core.spi.MemoryAccessException}).
 *       Implemented by cfn-store's {@code SqliteMemoryStore}; used by cfn-ai's memory tools.
 *   <li><b>Call log</b>, call results by idempotency key: {@link dev.cfn.core.spi.CallLogStore} and
 *       {@link dev.cfn.core.spi.CallLogException}. Implemented by cfn-store's {@code
 *       SqliteCallLogStore}; used by cfn-ai's {@code CallLog.durable}.
 * </ul>
 *
 * <p>Everything here is public and documented: it is a contract between modules. It depends only on
 * the value types of {@code dev.cfn.core} ({@link dev.cfn.core.Envelope}, {@link
 * dev.cfn.core.AgentId}, {@link dev.cfn.core.DeliveryMode}, {@link dev.cfn.core.Priority}), the
 * {@link dev.cfn.core.Effects} interface that {@code BufferedEffects} implements, and the JDK;
 * never on the kernel's machinery, and never on another cfn module. The kernel's RELIABLE stages
 * depend on it.
 */
package dev.cfn.core.spi;
