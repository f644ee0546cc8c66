package dev.cfn.store.crypto;

import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;

/**
 * A 256-bit master key: wraps the data keys, never encrypts a record itself. Its id is derived from
 * the key (the first 8 bytes of a labelled SHA-256), so a key from the environment has the same id
 * as the same key in a file, and a wrapped data key names the master that opens it.
 */
record MasterKey(String id, byte[] key, Instant created, String source) {
  static final String ID_LABEL = "cfn master key id/1";

  MasterKey {
    key = key.clone();
  }

  static MasterKey of(byte[] key, Instant created, String source) {
    return new MasterKey(Gcm.shortId(ID_LABEL, key), key, created, source);
  }

  /** A master key from base64 text (a file or the environment); null when it is not one. */
  static byte[] parse(String base64) {
    try {
      byte[] b = Base64.getDecoder().decode(base64.strip());
      return b.length == Gcm.KEY_BYTES ? b : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public byte[] key() {
    return key.clone();
  }

  byte[] keyNoCopy() {
    return key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MasterKey m && m.id.equals(id) && Arrays.equals(m.key, key);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "MasterKey[" + id + ", " + source + "]"; // never the key
  }
}
