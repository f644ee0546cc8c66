package dev.cfn.testkit.file;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Flips a bit in a file where a known text is stored: the damage a test of a store's checksums
 * needs, made to the real file's bytes. Write a record with a distinctive value (a note such as
 * {@code note-to-damage-1234}), close the store, flip, open it again.
 *
 * <pre>{@code
 * FileDamage.flipLastByteOf(tokens, "note-to-damage-1234"); // ...1234 becomes ...1235
 * }</pre>
 */
public final class FileDamage {
  private FileDamage() {}

  /**
   * Flips the lowest bit of the last byte of {@code text} (UTF-8) where it first stands in {@code
   * file}.
   *
   * @param file the file, changed in place
   * @param text a text stored in it, such as a record's note
   * @return the offset in the file of the byte flipped
   * @throws IOException if the file cannot be read or written
   * @throws IllegalArgumentException if {@code text} is not in the file (nothing is written)
   */
  public static int flipLastByteOf(Path file, String text) throws IOException {
    return flipByteOf(file, text, text.getBytes(StandardCharsets.UTF_8).length - 1);
  }

  /**
   * Flips the lowest bit of byte {@code index} of {@code text} (UTF-8) where it first stands in
   * {@code file}.
   *
   * @param file the file, changed in place
   * @param text a text stored in it
   * @param index which of its bytes, from 0
   * @return the offset in the file of the byte flipped
   * @throws IOException if the file cannot be read or written
   * @throws IllegalArgumentException if {@code text} is not in the file or {@code index} is not in
   *     {@code text} (nothing is written)
   */
  public static int flipByteOf(Path file, String text, int index) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    if (index < 0 || index >= needle.length) {
      throw new IllegalArgumentException(
          "byte " + index + " is not in '" + text + "' (" + needle.length + " bytes)");
    }
    byte[] bytes = Files.readAllBytes(file);
    int at = indexOf(bytes, needle);
    if (at < 0) {
      throw new IllegalArgumentException("'" + text + "' is not stored in " + file);
    }
    bytes[at + index] ^= 1;
    Files.write(file, bytes);
    return at + index;
  }

  /**
   * Where {@code needle} first stands in {@code hay}.
   *
   * @param hay the bytes searched
   * @param needle the bytes looked for
   * @return its offset, or -1 when it is not there
   */
  public static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
