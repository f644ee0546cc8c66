package dev.cfn.store.sqlite;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The CRC32C stored beside every record, computed over the record's canonical bytes: the table
 * name, then each column value in the table's column order, each written as a type tag and its
 * bytes (a long as 8 big-endian bytes, text as its UTF-8 bytes and a blob as its bytes, both
 * length-prefixed, null as the tag alone).
 *
 * <p>The canonical form depends only on the values SQLite hands back, so the same function checks a
 * row read by a typed query ({@code recover}) and by the generic scan of {@code check()}. Integer
 * values are folded to {@code long} whatever their boxed type, because the JDBC driver returns
 * small integers as {@link Integer}. Including the table name means a row copied verbatim into
 * another table does not verify there.
 */
public final class RecordChecksum {
  private static final byte NULL = 0;
  private static final byte INTEGER = 1;
  private static final byte TEXT = 2;
  private static final byte BLOB = 3;

  private RecordChecksum() {}

  /** The checksum of {@code values} as a row of {@code table}, an unsigned 32-bit value. */
  public static long of(String table, Object[] values) {
    CRC32C crc = new CRC32C();
    text(crc, table);
    for (Object value : values) {
      switch (value) {
        case null -> crc.update(NULL);
        case Long l -> integer(crc, l);
        case Integer i -> integer(crc, i);
        case Short s -> integer(crc, s);
        case Byte b -> integer(crc, b);
        case String s -> text(crc, s);
        case byte[] bytes -> {
          crc.update(BLOB);
          length(crc, bytes.length);
          crc.update(bytes);
        }
        default ->
            throw new IllegalArgumentException(
                "cannot checksum a " + value.getClass().getName() + " column value in " + table);
      }
    }
    return crc.getValue();
  }

  private static void integer(CRC32C crc, long value) {
    byte[] bytes = new byte[9]; // one update instead of nine (escape analysis keeps it off-heap)
    bytes[0] = INTEGER;
    for (int i = 1, shift = 56; shift >= 0; i++, shift -= 8) {
      bytes[i] = (byte) (value >>> shift);
    }
    crc.update(bytes);
  }

  private static void text(CRC32C crc, String value) {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    crc.update(TEXT);
    length(crc, utf8.length);
    crc.update(utf8);
  }

  private static void length(CRC32C crc, int length) {
    crc.update(
        new byte[] {
          (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length
        });
  }
}
