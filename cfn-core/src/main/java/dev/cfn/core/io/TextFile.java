package dev.cfn.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads a whole text file strictly (a byte the charset cannot decode is an error, never a
 * replacement character), and names the first bad byte by line and position when it is not text.
 *
 * <p>{@link Files#readString(Path, Charset)} reports such a file with a {@code
 * MalformedInputException} whose message is only "Input length = 1"; commands that print the
 * message of a failed read showed users that. {@link NotTextException} says instead, for example:
 * {@code the file is not UTF-8 text: byte 0xFF at line 1, byte 1 of the line}.
 */
public final class TextFile {
  private TextFile() {}

  /**
   * Reads {@code file} as UTF-8.
   *
   * @param file the file
   * @return its text
   * @throws NotTextException when a byte is not valid UTF-8 (the message says which)
   * @throws IOException when the file cannot be read
   */
  public static String readUtf8(Path file) throws IOException {
    return read(file, StandardCharsets.UTF_8);
  }

  /**
   * Reads {@code file} in {@code charset}, strictly.
   *
   * @param file the file
   * @param charset its charset (UTF-8 or US-ASCII in cfn)
   * @return its text
   * @throws NotTextException when a byte does not decode (the message says which)
   * @throws IOException when the file cannot be read
   */
  public static String read(Path file, Charset charset) throws IOException {
    return decode(Files.readAllBytes(file), charset);
  }

  /**
   * Decodes {@code bytes} in {@code charset}, strictly.
   *
   * @param bytes the bytes
   * @param charset their charset
   * @return the text
   * @throws NotTextException when a byte does not decode (the message says which)
   */
  public static String decode(byte[] bytes, Charset charset) throws NotTextException {
    CharsetDecoder decoder =
        charset
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate((int) (bytes.length * (double) decoder.maxCharsPerByte()));
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int at = in.position();
      int line = 1;
      int lineStart = 0;
      for (int i = 0; i < at; i++) {
        if (bytes[i] == '\n') {
          line++;
          lineStart = i + 1;
        }
      }
      throw new NotTextException(
          String.format(
              Locale.ROOT,
              "the file is not %s text: byte 0x%02X at line %d, byte %d of the line",
              charset == StandardCharsets.US_ASCII ? "ASCII" : charset.name(),
              at < bytes.length ? bytes[at] & 0xFF : 0,
              line,
              at - lineStart + 1),
          line);
    }
    out.flip();
    return out.toString();
  }

  /**
   * A file that is not text in the charset it was read in; the message names the first bad byte.
   */
  public static final class NotTextException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The 1-based line of the first bad byte. */
    private final int line;

    NotTextException(String message, int line) {
      super(message);
      this.line = line;
    }

    /**
     * The line of the first byte that does not decode.
     *
     * @return the 1-based line
     */
    public int line() {
      return line;
    }
  }
}
