package dev.cfn.store.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyringTest {
  @TempDir Path tmp;

  Path keys() {
    return tmp.resolve(".cfn").resolve("keys");
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String envKey() {
    return Base64.getEncoder().encodeToString(Gcm.newKey());
  }

  @Test
  void roundTripAndEveryRecordIsTaggedWithItsKey() {
    Keyring ring = Keyring.init(keys(), Map.of());
    RecordCipher journal = ring.cipher("journal");
    byte[] aad = utf8("messages/42");
    byte[] sealed = journal.encrypt(utf8("a reliable payload"), aad);
    assertThat(sealed).hasSize(RecordCipher.OVERHEAD + 18);
    assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("reliable");
    assertThat(journal.decrypt(sealed, aad)).isEqualTo(utf8("a reliable payload"));
    // the same plaintext twice: different nonces, different records
    assertThat(journal.encrypt(utf8("x"), aad)).isNotEqualTo(journal.encrypt(utf8("x"), aad));
    // another process (a new keyring) reads it
    assertThat(Keyring.open(keys(), Map.of()).cipher("journal").decrypt(sealed, aad))
        .isEqualTo(utf8("a reliable payload"));
    // each store has its own data key
    RecordCipher memory = ring.cipher("memory");
    byte[] m = memory.encrypt(utf8("v"), aad);
    assertThat(java.util.Arrays.copyOfRange(m, 1, 9))
        .isNotEqualTo(java.util.Arrays.copyOfRange(sealed, 1, 9));
    assertThatThrownBy(() -> memory.decrypt(sealed, aad))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("has no key");
    assertThat(ring.cipher("journal").encrypt(new byte[0], new byte[0]))
        .hasSize(RecordCipher.OVERHEAD);
  }

  @Test
  void tamperingIsDetected() {
    RecordCipher c = Keyring.init(keys(), Map.of()).cipher("memory");
    byte[] aad = utf8("ns/key");
    byte[] sealed = c.encrypt(utf8("secret value"), aad);
    assertThatThrownBy(() -> c.decrypt(sealed, utf8("ns/other")))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("fails authentication");
    List<Integer> opened = new ArrayList<>();
    for (int i = 0; i < sealed.length; i++) {
      byte[] copy = sealed.clone();
      copy[i] ^= 1;
      try {
        c.decrypt(copy, aad);
        opened.add(i);
      } catch (KeyringException expected) {
        // every flipped byte must be refused
      }
    }
    assertThat(opened).as("flipped bytes that still decrypted").isEmpty();
    assertThatThrownBy(() -> c.decrypt(new byte[3], aad))
        .hasMessageContaining("not an encrypted cfn record");
  }

  @Test
  void rotationRewrapsAndKeepsOldRecordsReadable() throws Exception {
    Keyring ring = Keyring.init(keys(), Map.of());
    String before = ring.masterKeyId();
    List<byte[]> records = new ArrayList<>();
    for (String store : List.of("journal", "memory", "calls")) {
      RecordCipher c = ring.cipher(store);
      for (int i = 0; i < 20; i++) {
        records.add(c.encrypt(utf8(store + i), utf8(store)));
      }
    }
    String wrappedBefore = Files.readString(keys().resolve(Keyring.DATA_KEYS_FILE));
    Keyring.Rotation r = ring.rotate();
    assertThat(r.oldMasterKeyId()).isEqualTo(before);
    assertThat(r.newMasterKeyId()).isNotEqualTo(before);
    assertThat(r.dataKeysRewrapped()).isEqualTo(3);
    assertThat(Files.readString(keys().resolve(Keyring.DATA_KEYS_FILE)))
        .isNotEqualTo(wrappedBefore);

    Keyring after = Keyring.open(keys(), Map.of());
    assertThat(after.masterKeyId()).isEqualTo(r.newMasterKeyId());
    assertThat(after.list()).filteredOn(k -> k.kind().equals("master")).hasSize(1);
    int i = 0;
    for (String store : List.of("journal", "memory", "calls")) {
      RecordCipher c = after.cipher(store);
      for (int n = 0; n < 20; n++) {
        assertThat(c.decrypt(records.get(i++), utf8(store))).isEqualTo(utf8(store + n));
      }
    }
    // the old master key no longer opens anything: it is gone from the file
    assertThat(Files.readString(keys().resolve(Keyring.MASTER_FILE))).doesNotContain(before);
  }

  @Test
  void anInterruptedRotationLeavesAUsableKeyring() throws Exception {
    Keyring ring = Keyring.init(keys(), Map.of());
    byte[] sealed = ring.cipher("journal").encrypt(utf8("kept"), new byte[0]);
    // step 1 done, steps 2 and 3 not: both master keys in the file, the new one current
    String json = Files.readString(keys().resolve(Keyring.MASTER_FILE));
    MasterKey extra = MasterKey.of(Gcm.newKey(), java.time.Instant.now(), "file");
    String withNew =
        json.replace("\"current\" : true", "\"current\" : false")
            .replace(
                "\"keys\" : [ {",
                "\"keys\" : [ {\"id\":\""
                    + extra.id()
                    + "\",\"key\":\""
                    + Base64.getEncoder().encodeToString(extra.key())
                    + "\",\"created\":\"2026-01-01T00:00:00Z\",\"current\":true}, {");
    Files.writeString(keys().resolve(Keyring.MASTER_FILE), withNew);
    Keyring mid = Keyring.open(keys(), Map.of());
    assertThat(mid.masterKeyId()).isEqualTo(extra.id());
    assertThat(mid.list()).extracting(KeyInfo::state).contains("retiring");
    assertThat(mid.cipher("journal").decrypt(sealed, new byte[0])).isEqualTo(utf8("kept"));
    mid.rotate(); // finishes: one master key again
    Keyring done = Keyring.open(keys(), Map.of());
    assertThat(done.list()).filteredOn(k -> k.kind().equals("master")).hasSize(1);
    assertThat(done.cipher("journal").decrypt(sealed, new byte[0])).isEqualTo(utf8("kept"));
  }

  @Test
  void theWrongMasterKeyIsRefusedClearly() {
    String k1 = envKey();
    Keyring ring = Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, k1));
    byte[] sealed = ring.cipher("journal").encrypt(utf8("p"), new byte[0]);
    assertThat(
            Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, k1))
                .cipher("journal")
                .decrypt(sealed, new byte[0]))
        .isEqualTo(utf8("p"));
    Map<String, String> wrong = Map.of(Keyring.MASTER_KEY_ENV, envKey());
    assertThatThrownBy(() -> Keyring.open(keys(), wrong).cipher("journal"))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("wrong master key")
        .hasMessageContaining("CFN_MASTER_KEY")
        .hasMessageContaining("fix:");
    assertThatThrownBy(() -> Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, "short")))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("32 random bytes");
  }

  @Test
  void rotationWithKeysFromTheEnvironment() {
    String k1 = envKey();
    String k2 = envKey();
    Keyring ring = Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, k1));
    byte[] sealed = ring.cipher("calls").encrypt(utf8("call"), new byte[0]);
    assertThatThrownBy(ring::rotate).hasMessageContaining(Keyring.NEW_MASTER_KEY_ENV);
    Keyring.Rotation r =
        Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, k1, Keyring.NEW_MASTER_KEY_ENV, k2))
            .rotate();
    assertThat(r.fromEnvironment()).isTrue();
    assertThat(r.dataKeysRewrapped()).isEqualTo(1);
    assertThat(
            Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, k2))
                .cipher("calls")
                .decrypt(sealed, new byte[0]))
        .isEqualTo(utf8("call"));
    assertThatThrownBy(
            () -> Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, k1)).cipher("calls"))
        .hasMessageContaining("wrong master key");
    assertThat(Files.exists(keys().resolve(Keyring.MASTER_FILE))).isFalse();
  }

  @Test
  void aDataKeyIsRetiredBeforeItsUseBound() {
    Keyring ring = Keyring.init(keys(), Map.of());
    RecordCipher small = new RecordCipher(ring, "journal", 10, 4); // bound 10, blocks of 4
    Set<String> keyIds = new HashSet<>();
    List<byte[]> sealed = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      byte[] s = small.encrypt(utf8("r" + i), new byte[0]);
      keyIds.add(java.util.HexFormat.of().formatHex(s, 1, 9));
      sealed.add(s);
    }
    // blocks of 4 under a bound of 10: 8 uses per key, so 25 records need 4 keys
    assertThat(keyIds).hasSize(4);
    List<KeyInfo> data = ring.list().stream().filter(k -> k.kind().equals("data")).toList();
    assertThat(data).hasSize(4).allMatch(k -> k.uses() <= 10);
    RecordCipher fresh = Keyring.open(keys(), Map.of()).cipher("journal");
    for (int i = 0; i < 25; i++) {
      assertThat(fresh.decrypt(sealed.get(i), new byte[0])).isEqualTo(utf8("r" + i));
    }
    // a restart never reuses a reservation: a new cipher reserves a fresh block
    RecordCipher again = new RecordCipher(Keyring.open(keys(), Map.of()), "journal", 10, 4);
    again.encrypt(utf8("x"), new byte[0]);
    long reserved =
        ring.list().stream().filter(k -> k.kind().equals("data")).mapToLong(KeyInfo::uses).sum();
    // 3 spent keys of 8 + the 4th's first block of 4 (one used) = 28, + the new cipher's own block
    assertThat(reserved).isEqualTo(28 + 4);
  }

  @Test
  void keyFilesAreOwnerOnlyAndOthersReadableOnesAreRefused() throws Exception {
    Keyring ring = Keyring.init(keys(), Map.of());
    ring.cipher("journal").encrypt(utf8("x"), new byte[0]);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys())))
        .isEqualTo("rwx------");
    for (String f : List.of(Keyring.MASTER_FILE, Keyring.DATA_KEYS_FILE)) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys().resolve(f))))
          .as(f)
          .isEqualTo("rw-------");
    }
    Files.setPosixFilePermissions(
        keys().resolve(Keyring.MASTER_FILE), PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> Keyring.open(keys(), Map.of()))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("other users")
        .hasMessageContaining("chmod 600");
  }

  @Test
  void missingAndDamagedKeyFilesAreRefused() throws Exception {
    assertThatThrownBy(() -> Keyring.open(keys(), Map.of()))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("no keyring")
        .hasMessageContaining("cfn keys init");
    Keyring.init(keys(), Map.of());
    assertThatThrownBy(() -> Keyring.init(keys(), Map.of())).hasMessageContaining("exists already");
    Path master = keys().resolve(Keyring.MASTER_FILE);
    String good = Files.readString(master);
    Files.writeString(master, "{ not json");
    assertThatThrownBy(() -> Keyring.open(keys(), Map.of()))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("is damaged")
        .hasMessageContaining("restore");
    Files.writeString(master, good.replaceFirst("\"key\" : \"[A-Za-z0-9+/]", "\"key\" : \"!"));
    assertThatThrownBy(() -> Keyring.open(keys(), Map.of())).hasMessageContaining("is damaged");
    Files.writeString(master, good);
    Keyring ring = Keyring.open(keys(), Map.of());
    assertThatThrownBy(() -> ring.cipher("Bad Name"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("store name");
    ring.cipher("journal").encrypt(utf8("x"), new byte[0]); // makes datakeys.json, 0600
    Files.writeString(keys().resolve(Keyring.DATA_KEYS_FILE), "[1, 2");
    assertThatThrownBy(() -> ring.cipher("journal"))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("datakeys.json is damaged");
  }

  @Test
  void signingKeyIsMadeOnceAndReadBack() throws Exception {
    SigningKey a = SigningKey.loadOrCreate(keys());
    SigningKey b = SigningKey.loadOrCreate(keys());
    assertThat(b.publicKey()).isEqualTo(a.publicKey());
    byte[] msg = utf8("checkpoint");
    assertThat(SigningKey.verify(b.publicKey(), msg, a.sign(msg))).isTrue();
    assertThat(SigningKey.verify(b.publicKey(), utf8("other"), a.sign(msg))).isFalse();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keys().resolve(SigningKey.PRIVATE_FILE))))
        .isEqualTo("rw-------");
    Files.writeString(keys().resolve(SigningKey.PRIVATE_FILE), "garbage");
    assertThatThrownBy(() -> SigningKey.loadOrCreate(keys()))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("is damaged");
  }
}
