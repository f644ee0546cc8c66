package dev.cfn.store.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * cfn's keyring for encryption at rest: one master key and, per store file, the data keys that
 * encrypt its records (envelope encryption).
 *
 * <p>The master key is 256 random bits kept in {@code .cfn/keys/master.json} ({@code 0600}, in a
 * {@code 0700} folder; refused when others may read it), or given in the environment variable
 * {@value #MASTER_KEY_ENV} as base64 of 32 bytes ({@code openssl rand -base64 32}), which then
 * takes precedence and no master key file is needed. The master key only wraps data keys: each
 * store ({@code journal}, {@code memory}, {@code calls}, ...) has its own 256-bit data keys, kept
 * wrapped (AES-256-GCM under the master key, bound to the store's name and the key's id) in {@code
 * .cfn/keys/datakeys.json}. A store encrypts its records through {@link #cipher(String)}, a {@link
 * RecordCipher} whose sealed records name the data key that opens them.
 *
 * <p>{@link #rotate()} makes a new master key and re-wraps every data key under it: no record is
 * re-encrypted, so no record can be lost and old records stay readable. Each step is an atomic file
 * replacement and the order leaves a usable keyring after a crash at any point (the new master is
 * added first, the data keys re-wrapped, the old master removed last; see {@code cfn keys list} for
 * a {@code retiring} key an interrupted rotation left). With the master key in the environment,
 * rotation re-wraps from {@value #MASTER_KEY_ENV} to {@value #NEW_MASTER_KEY_ENV}; then swap the
 * variables.
 *
 * <p>Back up {@code .cfn/keys} apart from the data it protects: without the master key, the
 * encrypted records cannot be read by anyone, cfn included.
 */
public final class Keyring implements AutoCloseable {
  /** The environment variable that gives the master key (base64 of 32 bytes). */
  public static final String MASTER_KEY_ENV = "CFN_MASTER_KEY";

  /** With {@link #MASTER_KEY_ENV}: the new master key {@link #rotate()} re-wraps under. */
  public static final String NEW_MASTER_KEY_ENV = "CFN_MASTER_KEY_NEW";

  static final String MASTER_FILE = "master.json";
  static final String DATA_KEYS_FILE = "datakeys.json";
  private static final Pattern STORE_NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");
  private static final HexFormat HEX = HexFormat.of();

  private final Path dir;
  private final Map<String, MasterKey> masters; // by id; the current one first
  private final MasterKey current;
  private final MasterKey next; // the environment's new key, for rotate(); else null
  private final boolean fromEnvironment;

  private Keyring(
      Path dir, List<MasterKey> masters, MasterKey current, MasterKey next, boolean env) {
    this.dir = dir;
    Map<String, MasterKey> m = new LinkedHashMap<>();
    m.put(current.id(), current);
    masters.forEach(k -> m.putIfAbsent(k.id(), k));
    this.masters = Collections.unmodifiableMap(m);
    this.current = current;
    this.next = next;
    this.fromEnvironment = env;
  }

  /** Whether a keyring is configured: {@value #MASTER_KEY_ENV} set or a master key file there. */
  public static boolean configured(Path keysDir, Map<String, String> env) {
    return env.get(MASTER_KEY_ENV) != null || Files.exists(keysDir.resolve(MASTER_FILE));
  }

  /** Creates the keyring in {@code keysDir} (usually {@code .cfn/keys}) with a new master key. */
  public static Keyring init(Path keysDir) {
    return init(keysDir, System.getenv());
  }

  /**
   * Creates the keyring with a new master key; refused when one exists or when the environment
   * gives the master key (there is nothing to create then).
   */
  public static Keyring init(Path keysDir, Map<String, String> env) {
    if (env.get(MASTER_KEY_ENV) != null) {
      throw new KeyringException(
          "the master key comes from the environment ("
              + MASTER_KEY_ENV
              + "), so there is no key file to create; nothing was changed (fix: use the keyring"
              + " as it is, or unset "
              + MASTER_KEY_ENV
              + " to keep the master key in "
              + keysDir.resolve(MASTER_FILE)
              + ")");
    }
    return KeyFiles.locked(
        keysDir,
        () -> {
          Path file = keysDir.resolve(MASTER_FILE);
          if (Files.exists(file)) {
            throw new KeyringException(
                "a keyring exists already in "
                    + keysDir
                    + "; nothing was changed (fix: cfn keys list shows it; cfn keys rotate"
                    + " replaces its master key)");
          }
          MasterKey key = MasterKey.of(Gcm.newKey(), Instant.now(), "file");
          writeMasters(file, List.of(key), key);
          return open(keysDir, env);
        });
  }

  /** Opens the keyring in {@code keysDir}, the master key from the environment if it is set. */
  public static Keyring open(Path keysDir) {
    return open(keysDir, System.getenv());
  }

  /**
   * Opens the keyring: the master key from {@value #MASTER_KEY_ENV} in {@code env} when set, else
   * from {@code keysDir/master.json}.
   */
  public static Keyring open(Path keysDir, Map<String, String> env) {
    String fromEnv = env.get(MASTER_KEY_ENV);
    if (fromEnv != null) {
      MasterKey current = envKey(env, MASTER_KEY_ENV);
      MasterKey next = env.get(NEW_MASTER_KEY_ENV) == null ? null : envKey(env, NEW_MASTER_KEY_ENV);
      List<MasterKey> all = next == null ? List.of(current) : List.of(current, next);
      return new Keyring(keysDir, all, current, next, true);
    }
    Path file = keysDir.resolve(MASTER_FILE);
    ObjectNode root = KeyFiles.readJson(file, "master key");
    if (root == null) {
      throw new KeyringException(
          "no keyring: "
              + file
              + " does not exist and "
              + MASTER_KEY_ENV
              + " is not set (fix: cfn keys init, or set "
              + MASTER_KEY_ENV
              + " to a base64 256-bit key such as openssl rand -base64 32 prints)");
    }
    List<MasterKey> keys = new ArrayList<>();
    MasterKey current = null;
    for (JsonNode k : root.path("keys")) {
      byte[] bytes = MasterKey.parse(k.path("key").asText(""));
      if (bytes == null) {
        throw KeyFiles.damaged(file, "master key", "a key is not base64 of 32 bytes", null);
      }
      MasterKey key = MasterKey.of(bytes, instant(file, k.path("created").asText("")), "file");
      if (!key.id().equals(k.path("id").asText())) {
        throw KeyFiles.damaged(
            file, "master key", "key " + k.path("id") + " does not match its id", null);
      }
      keys.add(key);
      if (k.path("current").asBoolean(false)) {
        if (current != null) {
          throw KeyFiles.damaged(file, "master key", "two keys are marked current", null);
        }
        current = key;
      }
    }
    if (current == null) {
      throw KeyFiles.damaged(file, "master key", "no key is marked current", null);
    }
    return new Keyring(keysDir, keys, current, null, false);
  }

  private static MasterKey envKey(Map<String, String> env, String name) {
    byte[] bytes = MasterKey.parse(env.get(name));
    if (bytes == null) {
      throw new KeyringException(
          name
              + " is not a master key: it must be base64 of exactly 32 random bytes (fix: set it"
              + " to what openssl rand -base64 32 prints, or to the key that wrapped your data"
              + " keys)");
    }
    return MasterKey.of(bytes, null, "environment " + name);
  }

  private static Instant instant(Path file, String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw KeyFiles.damaged(file, "master key", "a creation time is not a time: " + text, e);
    }
  }

  private static void writeMasters(Path file, List<MasterKey> keys, MasterKey current) {
    ObjectNode root = KeyFiles.JSON.createObjectNode();
    root.put("version", 1);
    root.put(
        "comment",
        "cfn master key: keep it secret, back it up apart from the data; without it encrypted"
            + " records cannot be read");
    ArrayNode arr = root.putArray("keys");
    for (MasterKey k : keys) {
      ObjectNode o = arr.addObject();
      o.put("id", k.id());
      o.put("key", Base64.getEncoder().encodeToString(k.keyNoCopy()));
      o.put("created", String.valueOf(k.created()));
      o.put("current", k.id().equals(current.id()));
    }
    KeyFiles.writeJson(file, root);
  }

  /**
   * Overwrites the master keys this keyring holds in memory with zeros (the files are untouched).
   * Ciphers made from it can still open records with the data keys they hold, but can no longer
   * make a new data key; close them first.
   */
  @Override
  public void close() {
    for (MasterKey m : masters.values()) {
      java.util.Arrays.fill(m.keyNoCopy(), (byte) 0);
    }
    if (next != null) {
      java.util.Arrays.fill(next.keyNoCopy(), (byte) 0);
    }
  }

  /** The folder of the keyring ({@code .cfn/keys}). */
  public Path directory() {
    return dir;
  }

  /** The id of the master key that wraps new data keys. */
  public String masterKeyId() {
    return current.id();
  }

  /** Whether the master key comes from {@value #MASTER_KEY_ENV}. */
  public boolean fromEnvironment() {
    return fromEnvironment;
  }

  /**
   * The cipher for the store named {@code store} ({@code journal}, {@code memory}, {@code calls},
   * ...: lower case letters, digits and dashes). Its data keys are unwrapped now (a wrong master
   * key fails here, naming the key); a data key is made on first use.
   */
  public RecordCipher cipher(String store) {
    if (store == null || !STORE_NAME.matcher(store).matches()) {
      throw new IllegalArgumentException(
          "store name '"
              + store
              + "' is not valid (fix: lower case letters, digits and dashes, starting with a"
              + " letter, at most 32)");
    }
    return new RecordCipher(this, store, RecordCipher.MAX_USES_PER_KEY, RecordCipher.RESERVE_BLOCK);
  }

  // ---- data keys (used by RecordCipher) ----

  /** The data keys of {@code store}, unwrapped, oldest first (ids as 16 hex digits). */
  Map<String, byte[]> dataKeys(String store) {
    ObjectNode root = readDataKeys();
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (JsonNode k : root.path("stores").path(store)) {
      out.put(k.path("id").asText(), unwrap(store, k));
    }
    return out;
  }

  /** The granted range of one reservation: encrypt under {@code id} {@code count} more times. */
  record Reservation(String id, byte[] key, long count) {}

  /**
   * Reserves {@code block} more uses of {@code store}'s newest data key, or makes a new data key
   * when that would pass {@code maxUses}; written to the data key file before it is used, so uses
   * are never under-counted across restarts and processes.
   */
  Reservation reserve(String store, long block, long maxUses) {
    return KeyFiles.locked(
        dir,
        () -> {
          ObjectNode root = readDataKeys();
          ObjectNode stores = root.with("stores");
          ArrayNode list = stores.withArray(store);
          JsonNode last = list.isEmpty() ? null : list.get(list.size() - 1);
          Reservation r;
          if (last != null && last.path("reserved").asLong() + block <= maxUses) {
            ((ObjectNode) last).put("reserved", last.path("reserved").asLong() + block);
            r = new Reservation(last.path("id").asText(), unwrap(store, last), block);
          } else {
            byte[] key = Gcm.newKey();
            String id = HEX.formatHex(Gcm.random(8));
            ObjectNode o = list.addObject();
            o.put("id", id);
            o.put("wrappedBy", current.id());
            o.put("wrapped", Base64.getEncoder().encodeToString(wrap(current, store, id, key)));
            o.put("created", Instant.now().toString());
            o.put("reserved", block);
            r = new Reservation(id, key, block);
          }
          KeyFiles.writeJson(dir.resolve(DATA_KEYS_FILE), root);
          return r;
        });
  }

  private ObjectNode readDataKeys() {
    ObjectNode root = KeyFiles.readJson(dir.resolve(DATA_KEYS_FILE), "data key file");
    if (root == null) {
      root = KeyFiles.JSON.createObjectNode();
      root.put("version", 1);
      root.putObject("stores");
    }
    return root;
  }

  private static byte[] wrapAad(String store, String id) {
    return ("cfn data key/1\0" + store + "\0" + id).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] wrap(MasterKey master, String store, String id, byte[] key) {
    return Gcm.seal(master.keyNoCopy(), key, wrapAad(store, id));
  }

  private byte[] unwrap(String store, JsonNode entry) {
    Path file = dir.resolve(DATA_KEYS_FILE);
    String id = entry.path("id").asText();
    String by = entry.path("wrappedBy").asText();
    MasterKey master = masters.get(by);
    if (master == null) {
      throw new KeyringException(
          "wrong master key: data key "
              + id
              + " of store '"
              + store
              + "' is wrapped by master key "
              + by
              + ", but the master key in use is "
              + current.id()
              + " (from "
              + (fromEnvironment ? "the environment " + MASTER_KEY_ENV : dir.resolve(MASTER_FILE))
              + "); nothing was read (fix: use the master key that wrapped it: set "
              + MASTER_KEY_ENV
              + " to it, or restore "
              + dir.resolve(MASTER_FILE)
              + " from your backup)");
    }
    byte[] wrapped;
    try {
      wrapped = Base64.getDecoder().decode(entry.path("wrapped").asText(""));
    } catch (IllegalArgumentException e) {
      throw KeyFiles.damaged(file, "data key file", "data key " + id + " is not base64", e);
    }
    byte[] key = Gcm.open(master.keyNoCopy(), wrapped, 0, wrapAad(store, id));
    if (key == null || key.length != Gcm.KEY_BYTES) {
      throw KeyFiles.damaged(
          file,
          "data key file",
          "data key " + id + " of store '" + store + "' fails authentication under master " + by,
          null);
    }
    return key;
  }

  // ---- rotation and listing ----

  /**
   * What {@link #rotate()} did.
   *
   * @param oldMasterKeyId the master key that wrapped the data keys before
   * @param newMasterKeyId the master key that wraps them now
   * @param dataKeysRewrapped how many data keys were re-wrapped (every one of every store)
   * @param fromEnvironment true when the keys came from the environment: set {@value
   *     #MASTER_KEY_ENV} to the value of {@value #NEW_MASTER_KEY_ENV} next
   */
  public record Rotation(
      String oldMasterKeyId,
      String newMasterKeyId,
      int dataKeysRewrapped,
      boolean fromEnvironment) {}

  /**
   * Replaces the master key: a new one (or {@value #NEW_MASTER_KEY_ENV}'s) wraps every data key of
   * every store, then the old one is dropped. Records are not touched, so all stay readable.
   */
  public Rotation rotate() {
    if (fromEnvironment && next == null) {
      throw new KeyringException(
          "the master key comes from "
              + MASTER_KEY_ENV
              + ", so the new one must too; nothing was changed (fix: set "
              + NEW_MASTER_KEY_ENV
              + " to a new key, such as openssl rand -base64 32 prints, run cfn keys rotate, then"
              + " set "
              + MASTER_KEY_ENV
              + " to it)");
    }
    return KeyFiles.locked(
        dir,
        () -> {
          Keyring fresh = fromEnvironment ? this : open(dir, Map.of()); // what is on disk now
          MasterKey newKey =
              fromEnvironment ? next : MasterKey.of(Gcm.newKey(), Instant.now(), "file");
          Path masterFile = dir.resolve(MASTER_FILE);
          if (!fromEnvironment) {
            List<MasterKey> both = new ArrayList<>(fresh.masters.values());
            both.add(newKey);
            writeMasters(masterFile, both, newKey); // 1. the new key, the old ones still there
          }
          ObjectNode root = fresh.readDataKeys();
          int n = 0;
          for (var store : root.path("stores").properties()) {
            for (JsonNode k : store.getValue()) {
              byte[] key = fresh.unwrap(store.getKey(), k); // fails before anything is written
              String id = k.path("id").asText();
              ((ObjectNode) k).put("wrappedBy", newKey.id());
              ((ObjectNode) k)
                  .put(
                      "wrapped",
                      Base64.getEncoder().encodeToString(wrap(newKey, store.getKey(), id, key)));
              java.util.Arrays.fill(key, (byte) 0); // re-wrapped: this copy is not needed
              n++;
            }
          }
          if (n > 0) {
            KeyFiles.writeJson(dir.resolve(DATA_KEYS_FILE), root); // 2. every data key re-wrapped
          }
          if (!fromEnvironment) {
            writeMasters(masterFile, List.of(newKey), newKey); // 3. the old keys gone
          }
          return new Rotation(fresh.current.id(), newKey.id(), n, fromEnvironment);
        });
  }

  /** The master keys and every store's data keys, without the keys themselves. */
  public List<KeyInfo> list() {
    List<KeyInfo> out = new ArrayList<>();
    for (MasterKey m : masters.values()) {
      String state =
          fromEnvironment
              ? (m == next ? "environment " + NEW_MASTER_KEY_ENV : "environment")
              : m == current ? "current" : "retiring";
      out.add(new KeyInfo("master", m.id(), null, null, m.created(), state, 0));
    }
    ObjectNode root = readDataKeys();
    for (var store : root.path("stores").properties()) {
      JsonNode list = store.getValue();
      for (int i = 0; i < list.size(); i++) {
        JsonNode k = list.get(i);
        Instant created;
        try {
          created = Instant.parse(k.path("created").asText(""));
        } catch (DateTimeParseException e) {
          throw KeyFiles.damaged(dir.resolve(DATA_KEYS_FILE), "data key file", "bad time", e);
        }
        out.add(
            new KeyInfo(
                "data",
                k.path("id").asText(),
                store.getKey(),
                k.path("wrappedBy").asText(),
                created,
                i == list.size() - 1 ? "current" : "readable",
                k.path("reserved").asLong()));
      }
    }
    return out;
  }

  /** Makes {@code dir} (0700) if missing: for callers that put other keys beside. */
  static void ensureFolder(Path dir) {
    try {
      PrivateFiles.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
    }
  }
}
