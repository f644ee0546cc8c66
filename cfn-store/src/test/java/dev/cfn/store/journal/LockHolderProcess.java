package dev.cfn.store.journal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Starts {@link LockHolder} in a child JVM: a journal owner in another process. */
final class LockHolderProcess {
  private LockHolderProcess() {}

  /** Starts a child that opens {@code file}; it holds it until its standard input closes. */
  static Process start(Path file) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(
            java,
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            LockHolder.class.getName(),
            file.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  /** The child's first line: {@code OPEN} or {@code REFUSED <why>}. */
  static String firstLine(Process child) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    return String.valueOf(out.readLine());
  }

  /** Lets a child try to open {@code file}, and returns its first line once it has exited. */
  static String tryOpen(Path file) throws IOException, InterruptedException {
    Process child = start(file);
    String line = firstLine(child);
    child.getOutputStream().close();
    child.waitFor();
    return line;
  }
}
