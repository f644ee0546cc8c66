package dev.cfn.store.crypto;

import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * An Ed25519 key pair (the JDK's own) that signs the audit log's checkpoints. Made on first use in
 * {@code .cfn/keys/}: {@value #PRIVATE_FILE} (PKCS#8, {@code 0600}) and {@value #PUBLIC_FILE}
 * (X.509), both PEM. The public key is also recorded in the audit log's header; compare its
 * fingerprint ({@link #fingerprint}) with one kept elsewhere to trust a log's signatures.
 */
public final class SigningKey {
  /** The private key's file name in the keys folder. */
  public static final String PRIVATE_FILE = "audit-ed25519.key";

  /** The public key's file name in the keys folder. */
  public static final String PUBLIC_FILE = "audit-ed25519.pub";

  private final PrivateKey privateKey;
  private final PublicKey publicKey;

  private SigningKey(PrivateKey privateKey, PublicKey publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** The key pair in {@code keysDir}, made there ({@code 0600}) when it is not there yet. */
  public static SigningKey loadOrCreate(Path keysDir) {
    return KeyFiles.locked(
        keysDir,
        () -> {
          Path priv = keysDir.resolve(PRIVATE_FILE);
          Path pub = keysDir.resolve(PUBLIC_FILE);
          byte[] pem = KeyFiles.readPrivate(priv);
          if (pem == null) {
            KeyPair kp;
            try {
              kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException("Ed25519 is not available in this JVM", e);
            }
            PrivateFiles.writeAtomically(pub, pem("PUBLIC KEY", kp.getPublic().getEncoded()));
            PrivateFiles.writeAtomically(priv, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            return new SigningKey(kp.getPrivate(), kp.getPublic());
          }
          PrivateKey privateKey;
          try {
            privateKey =
                KeyFactory.getInstance("Ed25519")
                    .generatePrivate(new PKCS8EncodedKeySpec(unpem(priv, pem, "PRIVATE KEY")));
          } catch (GeneralSecurityException e) {
            throw KeyFiles.damaged(priv, "audit signing key", "not an Ed25519 private key", e);
          }
          PublicKey publicKey = readPublicKey(pub);
          SigningKey key = new SigningKey(privateKey, publicKey);
          byte[] probe = "cfn signing key probe".getBytes(StandardCharsets.US_ASCII);
          if (!verify(publicKey, probe, key.sign(probe))) {
            throw new KeyringException(
                pub
                    + " is not the public half of "
                    + priv
                    + " (fix: restore both from your backup of .cfn/keys)");
          }
          return key;
        });
  }

  /** An Ed25519 public key from a PEM file. */
  public static PublicKey readPublicKey(Path file) {
    byte[] pem;
    try {
      pem = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new KeyringException(
          "no public key at " + file + " (fix: give the audit log's public key file)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return publicKey(file, unpem(file, pem, "PUBLIC KEY"));
  }

  /** An Ed25519 public key from its X.509 encoding; {@code where} names it in errors. */
  public static PublicKey publicKey(Object where, byte[] x509) {
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509));
    } catch (GeneralSecurityException e) {
      throw new KeyringException(
          where + " does not hold an Ed25519 public key (fix: give the audit log's public key)", e);
    }
  }

  /** The Ed25519 signature of {@code message}. */
  public byte[] sign(byte[] message) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(privateKey);
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed: " + e, e);
    }
  }

  /** The public half. */
  public PublicKey publicKey() {
    return publicKey;
  }

  /** Whether {@code signature} is {@code key}'s Ed25519 signature of {@code message}. */
  public static boolean verify(PublicKey key, byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(message);
      return s.verify(signature);
    } catch (SignatureException | InvalidKeyException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is not available in this JVM", e);
    }
  }

  /** SHA-256 of the key's X.509 encoding, 64 hex digits. */
  public static String fingerprint(PublicKey key) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }

  private static byte[] pem(String type, byte[] der) {
    return ("-----BEGIN "
            + type
            + "-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
            + "\n-----END "
            + type
            + "-----\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] unpem(Path file, byte[] pem, String type) {
    String text = new String(pem, StandardCharsets.US_ASCII).strip();
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    if (!text.startsWith(begin) || !text.endsWith(end)) {
      throw KeyFiles.damaged(file, "audit signing key", "not a PEM " + type, null);
    }
    try {
      return Base64.getMimeDecoder()
          .decode(text.substring(begin.length(), text.length() - end.length()));
    } catch (IllegalArgumentException e) {
      throw KeyFiles.damaged(file, "audit signing key", "not base64 inside the PEM", e);
    }
  }
}
