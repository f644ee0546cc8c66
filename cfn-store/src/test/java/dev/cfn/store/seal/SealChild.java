package dev.cfn.store.seal;

import dev.cfn.store.crypto.Keyring;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The child JVM of {@link SealExistingTest}: seals {@code args[0]} (a {@code .cfn} folder) and,
 * when file {@code args[2]} reaches stage {@code args[1]}, prints {@code AT <stage>} and waits on
 * its standard input, where the test kills it.
 */
final class SealChild {
  private SealChild() {}

  public static void main(String[] args) throws IOException {
    Path cfn = Path.of(args[0]);
    SealExisting.Stage stop = SealExisting.Stage.valueOf(args[1]);
    String name = args[2];
    try (Keyring ring = Keyring.open(cfn.resolve("keys"), Map.of())) {
      SealExisting.run(
          cfn,
          ring,
          false,
          (stage, file) -> {
            if (stage == stop && file.getFileName().toString().equals(name)) {
              System.out.println("AT " + stage);
              System.out.flush();
              try {
                System.in.read(); // the test kills this process here
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            }
          });
    }
    System.out.println("DONE");
  }
}
