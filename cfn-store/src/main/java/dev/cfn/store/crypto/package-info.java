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
 * {@link dev.cfn.store.crypto.AtRest} (how one store file keeps its sensitive fields: sealed under
 * the keyring beside it, or plain; the file's encryption mark; what the stores call at their
 * serialization boundary), {@link dev.cfn.store.crypto.KeyInfo} and {@link
 * dev.cfn.store.crypto.KeyringException}. Package-private beside them: the one AES-GCM call site
 * ({@code Gcm}), master keys ({@code MasterKey}) and the key files ({@code KeyFiles}: owner-only
 * reads, atomic writes, the keyring lock).
 *
 * <p><b>What is sealed.</b> The journal's message payloads (pending, dead-lettered, sent as
 * effects), memory values, call-log results, and the TLS private key {@code cfn serve} generates.
 * Not sealed: routing columns, headers, memory keys, tags and metadata, call-log keys, agent state
 * written by acknowledgement effects, error texts and the audit log (hash-chained, redacted).
 *
 * <p><b>Nonces, never reused.</b> AES-GCM breaks when one key seals two records under one nonce.
 * Each nonce is 96 bits from {@link java.security.SecureRandom}, and one data key seals at most
 * 2<sup>32</sup> records, the bound NIST SP 800-38D sets for random nonces (the chance that any two
 * collide stays below 2<sup>-32</sup>). The count survives restarts and other processes because
 * uses are reserved in blocks of 2<sup>20</sup> in {@code datakeys.json}, under the keyring lock,
 * before they are used; a block a process does not use up is never used by anyone else. When the
 * next block would pass the bound, the store gets a new data key and the old one stays for reading.
 * Random nonces were chosen over a counter because a counter repeats when the key files are
 * restored from an older backup, or two copies of a home run at once; random ones do not. Pooled
 * {@link javax.crypto.Cipher} objects are initialized with a fresh nonce on every use, so the pool
 * never carries a nonce over.
 *
 * <p><b>Keys in memory.</b> {@code RecordCipher.close()} and {@code Keyring.close()} overwrite the
 * key bytes they hold with zeros (the stores close them when they close); the copies the JDK makes
 * inside its cipher objects are out of reach.
 *
 * <p>Every key file is written atomically with mode {@code 0600} in a {@code 0700} folder, and
 * refused when group or others may read it. Depends on the JDK's providers, Jackson, and the
 * internal {@code dev.cfn.store.sqlite} ({@code PrivateFiles}) and JDBC ({@code AtRest} reads and
 * sets a file's mark); never on the store packages, which depend on it.
 */
package dev.cfn.store.crypto;
