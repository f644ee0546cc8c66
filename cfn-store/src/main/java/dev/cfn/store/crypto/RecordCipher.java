package dev.cfn.store.crypto;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encrypts and decrypts the records of one store file with AES-256-GCM under the store's data keys
 * (from {@link Keyring#cipher(String)}). Thread-safe.
 *
 * <p>A sealed record is {@code 0x01 | key id (8 bytes) | nonce (12) | ciphertext | tag (16)}: 37
 * bytes more than the plaintext. The version byte and the key id are authenticated with the
 * caller's associated data (AAD), so a record cannot be moved to another key id, and a record
 * sealed with one AAD (say, its table and row id) does not open with another.
 *
 * <p><b>Nonces.</b> Each nonce is 96 random bits from {@link java.security.SecureRandom}. A nonce
 * repeated under one key would break GCM, so the number of records sealed under one data key is
 * bounded by {@value #MAX_USES_PER_KEY} (2<sup>32</sup>, NIST SP 800-38D's bound for random nonces:
 * the chance of any repeat stays below 2<sup>-32</sup>). Uses are counted across processes and
 * restarts by reserving them in blocks of {@value #RESERVE_BLOCK} in the data key file before they
 * are used (a reservation a crash leaves unused is simply never used); when the next block would
 * pass the bound, the store gets a new data key and the old one stays for reading. Random nonces
 * also stay safe when the key files are restored from an older backup, where a counter would
 * repeat.
 */
public final class RecordCipher implements AutoCloseable {
  /** The most records sealed under one data key (2^32). */
  public static final long MAX_USES_PER_KEY = 1L << 32;

  /** How many uses are reserved in the data key file at a time. */
  public static final long RESERVE_BLOCK = 1L << 20;

  static final byte VERSION = 1;
  static final int ID_BYTES = 8;
  static final int HEADER = 1 + ID_BYTES;

  /** Bytes a sealed record adds to its plaintext. */
  public static final int OVERHEAD = HEADER + Gcm.NONCE_BYTES + Gcm.TAG_BYTES;

  private static final HexFormat HEX = HexFormat.of();

  private final Keyring keyring;
  private final String store;
  private final long maxUses;
  private final long block;
  private final Map<String, byte[]> keys = new ConcurrentHashMap<>();

  // guarded by this
  private String activeId;
  private byte[] activeKey;
  private long left; // uses left in the current reservation
  private volatile boolean closed;

  RecordCipher(Keyring keyring, String store, long maxUses, long block) {
    this.keyring = keyring;
    this.store = store;
    this.maxUses = maxUses;
    this.block = block;
    keys.putAll(keyring.dataKeys(store));
  }

  /** The store this cipher serves. */
  public String store() {
    return store;
  }

  /**
   * Seals {@code plaintext}; {@code aad} (may be empty, never null) is authenticated, not stored:
   * give the same to {@link #decrypt}.
   */
  public byte[] encrypt(byte[] plaintext, byte[] aad) {
    String id;
    byte[] key;
    synchronized (this) {
      requireOpen();
      if (left == 0) {
        Keyring.Reservation r = keyring.reserve(store, block, maxUses);
        activeId = r.id();
        activeKey = r.key();
        left = r.count();
        keys.put(activeId, activeKey);
      }
      left--;
      id = activeId;
      key = activeKey;
    }
    byte[] out = new byte[OVERHEAD + plaintext.length];
    out[0] = VERSION;
    System.arraycopy(HEX.parseHex(id), 0, out, 1, ID_BYTES);
    Gcm.seal(key, plaintext, aad(out, aad), out, HEADER);
    return out;
  }

  /**
   * Opens a record {@link #encrypt} sealed, given the same {@code aad}.
   *
   * @throws KeyringException when the record is not one, names a data key this store does not have,
   *     or fails authentication (a changed byte, another AAD)
   */
  public byte[] decrypt(byte[] sealed, byte[] aad) {
    if (sealed.length < OVERHEAD || sealed[0] != VERSION) {
      throw new KeyringException(
          "not an encrypted cfn record of store '"
              + store
              + "' ("
              + sealed.length
              + " bytes, version "
              + (sealed.length == 0 ? "none" : sealed[0])
              + "); nothing was read (fix: the record is damaged; restore it from a backup)");
    }
    String id = HEX.formatHex(sealed, 1, HEADER);
    requireOpen();
    byte[] key = keys.get(id);
    if (key == null) {
      keys.putAll(keyring.dataKeys(store)); // another process may have made it
      key = keys.get(id);
    }
    if (key == null) {
      throw new KeyringException(
          "record sealed under data key "
              + id
              + ", which store '"
              + store
              + "' has no key for in "
              + keyring.directory().resolve(Keyring.DATA_KEYS_FILE)
              + " (fix: restore .cfn/keys from the backup taken with this data)");
    }
    byte[] plain = Gcm.open(key, sealed, HEADER, aad(sealed, aad));
    if (plain == null) {
      throw new KeyringException(
          "record of store '"
              + store
              + "' (data key "
              + id
              + ") fails authentication: it was changed, or it is read with other associated data"
              + " than it was written with; nothing was read (fix: restore it from a backup)");
    }
    return plain;
  }

  /**
   * Whether {@code bytes} has the shape of a record {@link #encrypt} sealed: its version byte
   * ({@code 0x01}, which no JSON text starts with) and at least {@link #OVERHEAD} bytes. Whether it
   * opens is for {@link #decrypt} to say.
   */
  public static boolean isSealed(byte[] bytes) {
    return bytes != null && bytes.length >= OVERHEAD && bytes[0] == VERSION;
  }

  /**
   * The id of a data key of this store, made (and its first uses reserved) when the store has none
   * yet: what a store file is marked with when it starts to be encrypted (see {@link AtRest}).
   */
  String anyKeyId() {
    synchronized (this) {
      requireOpen();
      if (keys.isEmpty() && activeId == null) {
        Keyring.Reservation r = keyring.reserve(store, block, maxUses);
        activeId = r.id();
        activeKey = r.key();
        left = r.count();
        keys.put(activeId, activeKey);
      }
      return activeId != null ? activeId : keys.keySet().iterator().next();
    }
  }

  /** The ids of the data keys this cipher holds (for the file mark check of {@link AtRest}). */
  Iterable<String> keyIds() {
    keys.putAll(keyring.dataKeys(store)); // another process may have made one
    return keys.keySet();
  }

  /** The keyring this cipher's data keys come from. */
  Keyring keyring() {
    return keyring;
  }

  /**
   * Overwrites the data keys this cipher holds with zeros; later calls throw {@link
   * IllegalStateException}. The JDK's own copies (inside its cipher objects) are out of reach.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (byte[] key : keys.values()) {
      Arrays.fill(key, (byte) 0);
    }
    if (activeKey != null) {
      Arrays.fill(activeKey, (byte) 0);
    }
    keys.clear();
    activeKey = null;
    left = 0;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(
          "the record cipher of store '" + store + "' is closed, its keys erased");
    }
  }

  private static byte[] aad(byte[] header, byte[] aad) {
    byte[] all = new byte[HEADER + aad.length];
    System.arraycopy(header, 0, all, 0, HEADER);
    System.arraycopy(aad, 0, all, HEADER, aad.length);
    return all;
  }
}
