/**
 * Sealing what was written before encryption at rest: {@link dev.cfn.store.seal.SealExisting}
 * ({@code cfn keys seal-existing}) rewrites a {@code .cfn} folder's journal, memory and call-log
 * files (and single-file journal backups) so that no record in them stays plain, each through a
 * verified copy renamed over the file, so a crash at any point leaves the old file or the new one,
 * whole.
 *
 * <p>Public: {@link dev.cfn.store.seal.SealExisting} and its records. Depends on {@code
 * dev.cfn.store.crypto} (the keyring, {@code AtRest}, {@code PlainRecords}), the store packages
 * (each one's {@code PlainRecords}, the journal's lock) and the internal {@code
 * dev.cfn.store.sqlite}; only the CLI depends on it.
 */
package dev.cfn.store.seal;
