/**
 * Keys for cfn's data at rest, under {@code .cfn/keys/}: envelope encryption of store records and
 * the audit log's signing key.
 *
 * <p>Public: {@link dev.cfn.store.crypto.Keyring} (the master key, from {@code master.json} or the
 * environment variable {@code CFN_MASTER_KEY}; the data keys of every store, wrapped, in {@code
 * datakeys.json}; init, rotation, listing), {@link dev.cfn.store.crypto.RecordCipher} (AES-256-GCM
 * {@code encrypt(bytes, aad)} / {@code decrypt} of one store's records, each tagged with its data
 * key id; random 96-bit nonces with at most 2<sup>32</sup> records per data key), {@link
 * dev.cfn.store.crypto.SigningKey} (the Ed25519 key pair that signs the audit log's checkpoints),
 * {@link dev.cfn.store.crypto.KeyInfo} and {@link dev.cfn.store.crypto.KeyringException}.
 * Package-private beside them: the one AES-GCM call site ({@code Gcm}), master keys ({@code
 * MasterKey}) and the key files ({@code KeyFiles}: owner-only reads, atomic writes, the keyring
 * lock).
 *
 * <p>Every key file is written atomically with mode {@code 0600} in a {@code 0700} folder, and
 * refused when group or others may read it. Depends on the JDK's providers, Jackson, and the
 * internal {@code dev.cfn.store.sqlite} ({@code PrivateFiles}); never on the store packages.
 */
package dev.cfn.store.crypto;
