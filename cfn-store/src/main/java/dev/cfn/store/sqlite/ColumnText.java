package dev.cfn.store.sqlite;

/**
 * How a column value reads in an error message: text quoted (or as it is), a blob as {@code x'hex'}
 * (cut after 32 bytes), so a value whose type was damaged on disk prints as what it is, never as
 * {@code [B@1b2c3d}. Shared by the journal's and the memory file's checksum failures.
 */
public final class ColumnText {
  private ColumnText() {}

  /** Like {@link #quote}, with text as it is (unquoted). */
  public static String text(Object value) {
    return value instanceof String s ? s : quote(value);
  }

  /** A column value for a message: text quoted, a blob as {@code x'hex'}, null as {@code null}. */
  public static String quote(Object value) {
    return switch (value) {
      case String s -> "'" + s + "'";
      case byte[] b ->
          "x'"
              + java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 32))
              + (b.length > 32 ? "...' (" + b.length + " bytes)" : "'");
      case null -> "null";
      default -> String.valueOf(value);
    };
  }
}
