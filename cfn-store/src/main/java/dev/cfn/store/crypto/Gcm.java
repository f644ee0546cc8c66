package dev.cfn.store.crypto;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM with a random 96-bit nonce and a 128-bit tag: {@code nonce || ciphertext || tag}. The
 * one place cfn calls the JDK's cipher. Callers bound how many times one key is used (see {@link
 * RecordCipher}); nonces are drawn from one shared {@link SecureRandom}.
 *
 * <p>{@link Cipher} objects are pooled: {@code Cipher.getInstance} (a provider lookup) cost several
 * times the sealing of a small record, and a cipher re-initialized with the key it had keeps its
 * expanded key. A cipher is used by one thread at a time (taken from the pool, initialized with a
 * fresh nonce, returned), so no nonce is ever reused through the pool.
 */
final class Gcm {
  static final int KEY_BYTES = 32;
  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;
  static final int TAG_BYTES = TAG_BITS / 8;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int POOL_MAX = 64;
  private static final ConcurrentLinkedQueue<Cipher> POOL = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger POOLED = new AtomicInteger();

  private static Cipher take() throws GeneralSecurityException {
    Cipher c = POOL.poll();
    if (c != null) {
      POOLED.decrementAndGet();
      return c;
    }
    return Cipher.getInstance("AES/GCM/NoPadding");
  }

  private static void give(Cipher c) {
    if (POOLED.incrementAndGet() <= POOL_MAX) {
      POOL.offer(c);
    } else {
      POOLED.decrementAndGet();
    }
  }

  private Gcm() {}

  /** A fresh random 256-bit key. */
  static byte[] newKey() {
    return random(KEY_BYTES);
  }

  static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /**
   * Writes {@code nonce || AES-GCM(key, nonce, plain, aad)} into {@code out} at {@code offset},
   * which must have {@code NONCE_BYTES + plain.length + TAG_BYTES} bytes free.
   */
  static void seal(byte[] key, byte[] plain, byte[] aad, byte[] out, int offset) {
    byte[] nonce = random(NONCE_BYTES);
    System.arraycopy(nonce, 0, out, offset, NONCE_BYTES);
    try {
      Cipher c = take();
      c.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(key, "AES"),
          new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(aad);
      c.doFinal(plain, 0, plain.length, out, offset + NONCE_BYTES);
      give(c); // after a failure it is dropped, not reused
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is not available in this JVM: " + e, e);
    }
  }

  /** {@code nonce || ciphertext || tag} for {@code plain}. */
  static byte[] seal(byte[] key, byte[] plain, byte[] aad) {
    byte[] out = new byte[NONCE_BYTES + plain.length + TAG_BYTES];
    seal(key, plain, aad, out, 0);
    return out;
  }

  /**
   * Opens {@code sealed[offset..]} (nonce, ciphertext, tag); null when authentication fails (a
   * changed byte, another AAD, another key).
   */
  static byte[] open(byte[] key, byte[] sealed, int offset, byte[] aad) {
    int len = sealed.length - offset;
    if (len < NONCE_BYTES + TAG_BYTES) {
      return null;
    }
    try {
      Cipher c = take();
      c.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(key, "AES"),
          new GCMParameterSpec(TAG_BITS, sealed, offset, NONCE_BYTES));
      c.updateAAD(aad);
      byte[] plain = c.doFinal(sealed, offset + NONCE_BYTES, len - NONCE_BYTES);
      give(c);
      return plain;
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is not available in this JVM: " + e, e);
    }
  }

  /** The first 8 bytes of SHA-256 over a label and {@code bytes}, as 16 hex digits. */
  static String shortId(String label, byte[] bytes) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      d.update(bytes);
      return HexFormat.of().formatHex(d.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }
}
