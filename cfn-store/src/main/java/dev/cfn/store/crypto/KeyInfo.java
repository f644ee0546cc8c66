package dev.cfn.store.crypto;

import java.time.Instant;

/**
 * One key of a keyring as {@code cfn keys list} shows it: never the key itself.
 *
 * @param kind {@code master} or {@code data}
 * @param id the key id (16 hex digits) a wrapped key or a sealed record carries
 * @param store for a data key, the store file it encrypts ({@code journal}, {@code memory}, ...);
 *     null for a master key
 * @param wrappedBy for a data key, the id of the master key that wraps it; null for a master key
 * @param created when the key was made (null for a master key from the environment)
 * @param state {@code current} (new records, new wraps), {@code readable} (an older data key, kept
 *     so old records stay readable), {@code retiring} (a master key an interrupted rotation left;
 *     run {@code cfn keys rotate} again) or {@code environment} (a master key from {@code
 *     CFN_MASTER_KEY})
 * @param uses for a data key, how many encryptions have been reserved under it so far (bounded by
 *     {@link RecordCipher#MAX_USES_PER_KEY}); 0 for a master key
 */
public record KeyInfo(
    String kind,
    String id,
    String store,
    String wrappedBy,
    Instant created,
    String state,
    long uses) {}
