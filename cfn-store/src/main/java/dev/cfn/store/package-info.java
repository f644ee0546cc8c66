/**
 * cfn-store: the embedded SQLite implementations of the kernel's SPIs ({@link dev.cfn.core.spi}),
 * one package per store over a shared internal one.
 *
 * <pre>
 *   dev.cfn.store.journal ──┐
 *   dev.cfn.store.memory  ──┼──► dev.cfn.store.sqlite (internal) ──► dev.cfn.store (StoreCheck)
 *   dev.cfn.store.calls   ──┘                                    └──► cfn-core (dev.cfn.core.spi)
 * </pre>
 *
 * <ul>
 *   <li>{@link dev.cfn.store.journal}: the journal behind RELIABLE messages ({@code
 *       SqliteJournal}), its file operations (check, backup, restore) and its dead-letter
 *       administration.
 *   <li>{@link dev.cfn.store.memory}: agents' memory ({@code SqliteMemoryStore}, the {@code
 *       MemoryStore} SPI).
 *   <li>{@link dev.cfn.store.calls}: the AI call log ({@code SqliteCallLogStore}, the {@code
 *       CallLogStore} SPI).
 *   <li>{@link dev.cfn.store.audit}: the append-only, hash-chained audit log with Ed25519-signed
 *       checkpoints ({@code AuditLog}); a plain file, not SQLite. Depends on {@code crypto}.
 *   <li>{@link dev.cfn.store.crypto}: the keyring under {@code .cfn/keys} (master key, wrapped
 *       per-store data keys, AES-256-GCM {@code RecordCipher}) and the audit signing key.
 *   <li>{@link dev.cfn.store.sqlite}: internal, shared by the three: the native library and
 *       connections, migrations and file kinds, record checksums, owner-only files, SQLite errors.
 *       Public only so that the store packages can use it; not part of the API.
 * </ul>
 *
 * <p>Encryption at rest: each store seals its sensitive field (journal payloads, memory values,
 * call-log results) through {@link dev.cfn.store.crypto.AtRest} at its serialization boundary, with
 * the keyring beside the file by default; see {@link dev.cfn.store.crypto}.
 *
 * <p>This package holds what all three stores return: {@link dev.cfn.store.StoreCheck}, the result
 * of checking a file. It depends on nothing else in cfn-store. The store packages never depend on
 * one another (they use {@code crypto}'s {@code AtRest}); all of cfn-store depends on cfn-core,
 * sqlite-jdbc, Jackson databind and SLF4J, and cfn-core never depends on it.
 */
package dev.cfn.store;
