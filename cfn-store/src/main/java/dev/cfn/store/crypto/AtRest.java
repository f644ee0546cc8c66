package dev.cfn.store.crypto;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How one store file keeps its sensitive fields at rest: sealed with AES-256-GCM under the data
 * keys of a {@link Keyring} (a {@link RecordCipher}), or plain. The stores call it at their
 * serialization boundary only (the bytes of a journal payload, a memory value, a call-log result on
 * their way in and out), so their transactions do not know about it.
 *
 * <p><b>Which.</b> {@link #beside(Path, String)} is what the stores use by default: the keyring in
 * the folder {@code keys} beside the file ({@code .cfn/keys} for {@code .cfn/cfn.db}, where {@code
 * cfn keys init} makes it; a file deeper in {@code .cfn}, such as a backup in {@code
 * .cfn/backups/}, finds it too, see {@link #keysFolderOf}), with the master key from {@value
 * Keyring#MASTER_KEY_ENV} when it is set. When neither a master key file nor the variable exists,
 * records are kept plain.
 *
 * <p><b>The file's mark.</b> A file starts to be encrypted when a store opens it with a keyring:
 * before any record is sealed, its SQLite header's {@code user_version} is set to a fingerprint of
 * one of the store's data key ids (31 bits, never 0). From then on, opening it without a keyring is
 * refused ("is encrypted ... no keyring"), and opening it with a keyring that has no data key of
 * that fingerprint is refused ("another keyring"), before anything is read or changed, so neither a
 * JSON parse error nor a half-encrypted file can result. Backups ({@code VACUUM INTO}) and restores
 * copy the header, so they carry the mark. Plain records written before the keyring existed stay
 * readable (they are told apart by their form: a sealed payload starts with the version byte {@code
 * 0x01}, which no JSON does; a sealed memory value is a BLOB where plain ones are TEXT; a sealed
 * call-log result starts with {@value #TEXT_MARK}), and are not rewritten; new records are sealed.
 *
 * <p><b>Associated data.</b> Each sealed field is bound to where it belongs (its message id and
 * payload class, its memory namespace and key, its call-log key), so a sealed value copied into
 * another record does not open.
 */
public final class AtRest implements AutoCloseable {
  /** The prefix of a sealed text field: a control character, which no JSON text starts with. */
  public static final String TEXT_MARK = "\u0001cfn-sealed:";

  private final String store;
  private final RecordCipher cipher; // null: plain
  private final Path keysDir; // where a keyring was looked for; null when given
  private final boolean ownsKeyring;

  private AtRest(String store, RecordCipher cipher, Path keysDir, boolean ownsKeyring) {
    this.store = store;
    this.cipher = cipher;
    this.keysDir = keysDir;
    this.ownsKeyring = ownsKeyring;
  }

  /** Records kept plain; a file already marked encrypted is refused at open. */
  public static AtRest plain(String store) {
    return new AtRest(Objects.requireNonNull(store, "store"), null, null, false);
  }

  /** Records sealed with {@code cipher} (which the caller keeps and closes). */
  public static AtRest sealedWith(RecordCipher cipher) {
    return new AtRest(cipher.store(), cipher, cipher.keyring().directory(), false);
  }

  /**
   * The keyring beside {@code storeFile} (its folder's {@code keys}), the master key from the
   * process environment when set; plain when there is no keyring. See the class comment.
   *
   * @throws KeyringException when a keyring is configured but cannot be used (a wrong master key, a
   *     damaged or world-readable key file)
   */
  public static AtRest beside(Path storeFile, String store) {
    return discover(keysFolderOf(storeFile), store, System.getenv());
  }

  /**
   * The keyring folder of {@code storeFile}: the first {@code keys} folder holding key files in the
   * file's folder or above it, up to the nearest folder named {@code .cfn} (so that a backup in
   * {@code .cfn/backups/} finds {@code .cfn/keys}); when there is none, the file folder's {@code
   * keys}.
   */
  public static Path keysFolderOf(Path storeFile) {
    Path parent = storeFile.toAbsolutePath().normalize().getParent();
    Path cfn = null; // the nearest .cfn folder holding the file, if any
    for (Path d = parent; d != null && cfn == null; d = d.getParent()) {
      if (d.getFileName() != null && d.getFileName().toString().equals(".cfn")) {
        cfn = d;
      }
    }
    if (cfn != null) {
      for (Path d = parent; d != null && d.startsWith(cfn); d = d.getParent()) {
        Path keys = d.resolve("keys");
        if (Files.exists(keys.resolve(Keyring.MASTER_FILE))
            || Files.exists(keys.resolve(Keyring.DATA_KEYS_FILE))) {
          return keys;
        }
      }
      return cfn.resolve("keys");
    }
    return parent.resolve("keys");
  }

  /** Like {@link #beside}, with the keyring folder and the environment given. */
  public static AtRest discover(Path keysDir, String store, Map<String, String> env) {
    if (!Keyring.configured(keysDir, env)) {
      return new AtRest(store, null, keysDir, false);
    }
    Keyring keyring = Keyring.open(keysDir, env);
    try {
      return new AtRest(store, keyring.cipher(store), keysDir, true);
    } catch (RuntimeException e) {
      keyring.close();
      throw e;
    }
  }

  /** The store whose data keys seal its records ({@code journal}, {@code memory}, ...). */
  public String store() {
    return store;
  }

  /** Whether new records are sealed. */
  public boolean sealing() {
    return cipher != null;
  }

  /**
   * Checks the mark of the open file {@code file} against this keyring (see the class comment) and,
   * when this seals and the file is not marked yet and {@code writable}, marks it. Call it when the
   * file opens, before any record is read or written.
   *
   * @throws KeyringException when the file is encrypted and there is no keyring, or another one
   */
  public void checkFile(Connection connection, Path file, boolean writable) throws SQLException {
    int mark;
    try (Statement sql = connection.createStatement();
        ResultSet rows = sql.executeQuery("PRAGMA user_version")) {
      mark = rows.next() ? rows.getInt(1) : 0;
    }
    if (cipher == null) {
      if (mark != 0) {
        throw new KeyringException(
            file
                + " is encrypted (its records are sealed under the data keys of store '"
                + store
                + "'), but no keyring is configured: "
                + (keysDir == null
                    ? "none was given"
                    : keysDir.resolve(Keyring.MASTER_FILE) + " does not exist")
                + " and "
                + Keyring.MASTER_KEY_ENV
                + " is not set; nothing was read or changed (fix: set "
                + Keyring.MASTER_KEY_ENV
                + " to the master key, or put back the keys folder this file was encrypted with"
                + (keysDir == null ? "" : " as " + keysDir)
                + " from your backup of .cfn/keys; a file that was never encrypted has a damaged"
                + " header: restore it from a backup)");
      }
      return;
    }
    if (mark != 0) {
      for (String id : cipher.keyIds()) {
        if (markOf(id) == mark) {
          return;
        }
      }
      throw new KeyringException(
          file
              + " was encrypted with another keyring: none of the data keys of store '"
              + store
              + "' in "
              + cipher.keyring().directory().resolve(Keyring.DATA_KEYS_FILE)
              + " is the one it is marked with; nothing was read or changed (fix: use the keys"
              + " folder this file was encrypted with, restored from your backup of .cfn/keys,"
              + " and its master key)");
    }
    if (writable) {
      int m = markOf(cipher.anyKeyId());
      try (Statement sql = connection.createStatement()) {
        sql.execute("PRAGMA user_version = " + m);
      }
    }
  }

  /** The fingerprint a file is marked with for data key {@code id}: 31 bits, never 0. */
  static int markOf(String id) {
    return (int) (Long.parseUnsignedLong(id, 16) >>> 33) | 1;
  }

  /** {@code plain} sealed and bound to {@code aad}, or {@code plain} itself when not sealing. */
  public byte[] seal(byte[] plain, byte[] aad) {
    return cipher == null ? plain : cipher.encrypt(plain, aad);
  }

  /**
   * The plain bytes of a stored field: opened when sealed ({@link RecordCipher#isSealed}), as
   * stored otherwise (a record written before the keyring).
   *
   * @param what names the record, for an error ("the payload of messages id 42")
   * @throws KeyringException when it is sealed and there is no keyring, or it does not open
   */
  public byte[] open(byte[] stored, byte[] aad, Supplier<String> what) {
    if (!RecordCipher.isSealed(stored)) {
      return stored;
    }
    return openSealed(stored, aad, what);
  }

  /** Opens {@code sealed}, a field stored sealed (a memory value stored as a BLOB, say). */
  public byte[] openSealed(byte[] sealed, byte[] aad, Supplier<String> what) {
    if (cipher == null) {
      throw new KeyringException(
          what.get()
              + " is encrypted and no keyring is configured; nothing was read (fix: set "
              + Keyring.MASTER_KEY_ENV
              + " to the master key, or put back the keys folder beside the file from your"
              + " backup of .cfn/keys)");
    }
    try {
      return cipher.decrypt(sealed, aad);
    } catch (KeyringException e) {
      throw new KeyringException(what.get() + ": " + e.getMessage(), e);
    }
  }

  /** {@code plain} sealed as text ({@value #TEXT_MARK} and base64), or as is when not sealing. */
  public String sealText(String plain, byte[] aad) {
    if (cipher == null) {
      return plain;
    }
    byte[] bytes = plain.getBytes(StandardCharsets.UTF_8);
    return TEXT_MARK + Base64.getEncoder().encodeToString(cipher.encrypt(bytes, aad));
  }

  /** The plain text of a text field {@link #sealText} wrote, or {@code stored} when not sealed. */
  public String openText(String stored, byte[] aad, Supplier<String> what) {
    if (stored == null || !stored.startsWith(TEXT_MARK)) {
      return stored;
    }
    byte[] sealed;
    try {
      sealed = Base64.getDecoder().decode(stored.substring(TEXT_MARK.length()));
    } catch (IllegalArgumentException e) {
      throw new KeyringException(
          what.get() + " is damaged: its sealed text is not base64 (fix: restore it from a backup)",
          e);
    }
    return new String(openSealed(sealed, aad, what), StandardCharsets.UTF_8);
  }

  /** Associated data from parts: each part's UTF-8 bytes, separated by a zero byte. */
  public static byte[] aad(String... parts) {
    return String.join("\0", parts).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Erases the keys held for this store (the cipher's data keys, and the keyring's master keys when
   * {@link #beside} or {@link #discover} opened it); later seals and opens throw.
   */
  @Override
  public void close() {
    if (cipher != null && ownsKeyring) {
      cipher.close();
      cipher.keyring().close();
    }
  }

  @Override
  public String toString() {
    return "AtRest[" + store + (cipher == null ? ", plain]" : ", sealed]");
  }
}
