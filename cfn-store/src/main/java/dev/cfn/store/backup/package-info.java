/**
 * Backups of a node's three store files together: the journal ({@code cfn.db}), the agents' memory
 * ({@code memory.db}) and the AI call log ({@code calls.db}), as one folder with a manifest, taken
 * online, verified, restored, and taken on a schedule; with them the node's token file, TLS pair,
 * alert rules and alert history, and the keyring only when asked (a set holding the master key
 * opens every sealed record in it).
 *
 * <h2>What lives here</h2>
 *
 * <ul>
 *   <li>{@link dev.cfn.store.backup.StoreBackup}: take, verify, find the latest, restore, and
 *       schedule backup sets.
 *   <li>{@link dev.cfn.store.backup.BackupSet}: what a set holds (its manifest).
 *   <li>{@link dev.cfn.store.backup.StoreFiles}: where a node's three files are.
 * </ul>
 *
 * <h2>Dependencies</h2>
 *
 * {@code dev.cfn.store.journal} (the journal's verified backup and restore), {@code
 * dev.cfn.store.sqlite} (the SQLite library, private files), Jackson and SLF4J.
 */
package dev.cfn.store.backup;
