package dev.cfn.ai.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 8: a {@link ProcessAgent} child cannot read the API keys of the JVM that started it
 * through {@code /proc/$PPID/environ} (nor any ancestor's that holds them). The JVM under attack is
 * a child JVM of this test with a fake secret in its environment ({@link EnvironReaderMain}); a
 * control child it starts through the JDK before any process agent shows the attack works on an
 * unhardened JVM. As root (CAP_SYS_PTRACE reads any process's environ, dumpable or not) the child
 * JVM runs as {@code nobody} through util-linux {@code setpriv}: the attack of one ordinary user's
 * process on its own parent.
 */
class ParentEnvironmentTest {
  private static final String SECRET = "sk-cfn-fake-" + Long.toHexString(System.nanoTime());

  @Test
  void a_child_cannot_read_the_jvms_environment(@TempDir Path dir) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>();
    String classPath = System.getProperty("java.class.path");
    if (isRoot()) {
      // root reads any /proc/<pid>/environ whatever the dumpable flag (CAP_SYS_PTRACE): attack
      // as an ordinary user instead, with a world-readable copy of the class path
      classPath = readableCopy(classPath, dir);
      command.addAll(
          List.of(
              "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"));
    }
    command.addAll(
        List.of(
            java.toString(),
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            classPath,
            EnvironReaderMain.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("CFN_FAKE_SECRET", SECRET);
    Process jvm = pb.start();
    String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(jvm.waitFor(60, TimeUnit.SECONDS)).isTrue();

    List<String> lines = out.lines().toList();
    assertThat(lines)
        .as(out)
        .contains(
            "control-leaked=true",
            "agent-ran=true",
            "agent-leaked=false",
            "agent-denied=true",
            "dumpable=0",
            "subreaper=true");
    assertThat(out).doesNotContain(SECRET);
  }

  private static boolean isRoot() throws Exception {
    Process id = new ProcessBuilder("id", "-u").start();
    String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    id.waitFor();
    return uid.equals("0");
  }

  /** Copies every class path entry under {@code dir}, readable by all; returns the new path. */
  private static String readableCopy(String classPath, Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> copied = new ArrayList<>();
    int i = 0;
    for (String entry : classPath.split(File.pathSeparator)) {
      Path from = Path.of(entry);
      if (!Files.exists(from)) {
        continue;
      }
      Path to = dir.resolve((i++) + "-" + from.getFileName());
      try (Stream<Path> all = Files.walk(from)) {
        for (Path p : (Iterable<Path>) all::iterator) {
          Path target = to.resolve(from.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
          } else {
            Files.copy(p, target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
          }
        }
      }
      copied.add(to.toString());
    }
    return String.join(File.pathSeparator, copied);
  }
}
