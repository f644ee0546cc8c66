package dev.cfn.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.util.LibraryLoaderUtil;

/**
 * The SQLite native library is extracted once to a stable cache, not copied into the temporary
 * directory by every JVM (where every killed JVM left its megabyte).
 */
class SqliteLibraryTest {
  @TempDir Path dir;

  /** Run in a child JVM: opens a journal and prints where the native library came from. */
  public static final class OpenJournal {
    public static void main(String[] args) throws Exception {
      try (SqliteJournal journal = SqliteJournal.builder(Path.of(args[0])).open()) {
        journal.highestId();
      }
      System.out.println(System.getProperty("org.sqlite.lib.path"));
    }
  }

  @Test
  void everyJvmLoadsTheOneVerifiedCopyInTheCacheAndLeavesNothingInTmp() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    String first = runChild(home, tmp, dir.resolve("a.db"));
    Path cache = home.resolve(".cache").resolve("cfn");
    assertThat(Path.of(first)).startsWith(cache);
    assertThat(Path.of(first).getFileName().toString()).startsWith("sqlite-jdbc-3.");
    Path library = Path.of(first).resolve(LibraryLoaderUtil.getNativeLibName());
    byte[] expected;
    try (var in =
        LibraryLoaderUtil.class.getResourceAsStream(
            LibraryLoaderUtil.getNativeLibResourcePath()
                + "/"
                + LibraryLoaderUtil.getNativeLibName())) {
      expected = in.readAllBytes();
    }
    assertThat(sha256(Files.readAllBytes(library))).isEqualTo(sha256(expected));
    assertThat(mode(cache)).isEqualTo("rwx------");
    assertThat(mode(library.getParent())).isEqualTo("rwx------");
    var written = Files.getLastModifiedTime(library);

    // a second JVM, and one after a copy was tampered with: the same file, verified
    assertThat(runChild(home, tmp, dir.resolve("b.db"))).isEqualTo(first);
    assertThat(Files.getLastModifiedTime(library)).isEqualTo(written);
    Files.write(library, "not a library".getBytes(StandardCharsets.US_ASCII));
    assertThat(runChild(home, tmp, dir.resolve("c.db"))).isEqualTo(first);
    assertThat(sha256(Files.readAllBytes(library))).isEqualTo(sha256(expected));

    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains("sqlite")))
          .as("no native library copied into java.io.tmpdir")
          .isEmpty();
    }
    try (Stream<Path> files = Files.list(library.getParent())) {
      assertThat(files).as("one file, no temporary left").hasSize(1);
    }
  }

  private static String runChild(Path home, Path tmp, Path journal) throws Exception {
    try (ChildJvm child =
        ChildJvm.of(OpenJournal.class, journal.toString())
            .jvmOption("-Duser.home=" + home)
            .jvmOption("-Djava.io.tmpdir=" + tmp)
            .without("XDG_CACHE_HOME")
            .start()) {
      List<String> lines = child.readToEnd();
      assertThat(child.waitFor(Duration.ofSeconds(120))).as("the child ends").isTrue();
      assertThat(child.exitValue()).isZero();
      return lines.getLast();
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
