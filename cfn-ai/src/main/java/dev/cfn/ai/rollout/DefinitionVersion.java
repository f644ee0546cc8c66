package dev.cfn.ai.rollout;

import dev.cfn.ai.definition.AgentDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One version of an agent definition: the SHA-256 of its file's bytes (the first 16 hex digits),
 * which changes with any edit, and the optional {@code version:} label its frontmatter gives.
 *
 * @param name the agent's name
 * @param version the {@code version:} field, or null when the file has none
 * @param hash the first 16 hex digits of the SHA-256 of the file
 * @param file the definition's file, as an absolute path
 */
public record DefinitionVersion(String name, String version, String hash, String file) {

  /** Checks the parts. */
  public DefinitionVersion {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(hash, "hash");
    Objects.requireNonNull(file, "file");
  }

  /**
   * The version of {@code definition}, hashing the file it was read from.
   *
   * @param definition a definition loaded from a file
   * @return its version
   * @throws UncheckedIOException when the file cannot be read any more
   */
  public static DefinitionVersion of(AgentDefinition definition) {
    Path file = definition.source().toAbsolutePath().normalize();
    Object label = definition.extra().get("version");
    return new DefinitionVersion(
        definition.name(), label == null ? null : label.toString(), hashOf(file), file.toString());
  }

  /** The first 16 hex digits of the SHA-256 of {@code file}'s bytes. */
  static String hashOf(Path file) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " to hash it: " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  /** {@code VERSION (HASH)}, or the hash alone when the file has no version field. */
  public String label() {
    return version == null ? hash : version + " (" + hash + ")";
  }
}
