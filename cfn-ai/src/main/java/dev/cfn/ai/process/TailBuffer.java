package dev.cfn.ai.process;

import java.nio.charset.Charset;

/**
 * Keeps the last {@code limit} bytes written to it in a ring, and how many were written in all, so
 * that a reader can ask for what came after a mark it took earlier. Used for stderr, where the end
 * says most. Written by one pump thread, read by the handler; all methods are synchronized.
 */
final class TailBuffer {
  private final byte[] ring;
  private long written;

  TailBuffer(int limit) {
    this.ring = new byte[limit];
  }

  synchronized void write(byte[] b, int off, int len) {
    int cap = ring.length;
    if (len > cap) { // only the last cap bytes can survive
      off += len - cap;
      written += len - cap;
      len = cap;
    }
    int pos = (int) (written % cap);
    int first = Math.min(len, cap - pos);
    System.arraycopy(b, off, ring, pos, first);
    System.arraycopy(b, off + first, ring, 0, len - first);
    written += len;
  }

  /** How many bytes were written so far: a mark for {@link #since}. */
  synchronized long written() {
    return written;
  }

  /** The bytes written after {@code mark} that the ring still holds. */
  synchronized Tail since(long mark, Charset charset) {
    long available = written - mark;
    int n = (int) Math.min(available, ring.length);
    byte[] out = new byte[n];
    int start = (int) ((written - n) % ring.length);
    int first = Math.min(n, ring.length - start);
    System.arraycopy(ring, start, out, 0, first);
    System.arraycopy(ring, 0, out, first, n - first);
    return new Tail(new String(out, charset), available > n);
  }

  /** Everything the ring holds. */
  Tail all(Charset charset) {
    return since(0, charset);
  }

  /**
   * Text from the tail.
   *
   * @param text the bytes decoded
   * @param truncated true when earlier bytes after the mark were overwritten
   */
  record Tail(String text, boolean truncated) {}
}
