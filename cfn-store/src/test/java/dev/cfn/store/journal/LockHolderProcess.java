package dev.cfn.store.journal;

import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** Starts {@link LockHolder} in a child JVM: a journal owner in another process. */
final class LockHolderProcess {
  private LockHolderProcess() {}

  /** Starts a child that opens {@code file}; it holds it until its standard input closes. */
  static ChildJvm start(Path file) throws IOException {
    return ChildJvm.start(LockHolder.class, file.toString());
  }

  /** The child's first line: {@code OPEN} or {@code REFUSED <why>}. */
  static String firstLine(ChildJvm child) throws IOException {
    return String.valueOf(child.readLine());
  }

  /** Lets a child try to open {@code file}, and returns its first line once it has exited. */
  static String tryOpen(Path file) throws IOException, InterruptedException {
    try (ChildJvm child = start(file)) {
      String line = firstLine(child);
      child.closeInput();
      child.waitFor(Duration.ofSeconds(60));
      return line;
    }
  }
}
