package dev.cfn.ai.process;

import java.nio.charset.Charset;
import java.util.Arrays;

/**
 * Keeps the first {@code limit} bytes written to it and counts the rest, which it drops: output is
 * captured in bounded memory however much a process writes, and the cut is visible. Written by one
 * pump thread, read by the handler; all methods are synchronized.
 */
final class HeadBuffer {
  private final int limit;
  private byte[] bytes = new byte[256];
  private int size;
  private long total;

  HeadBuffer(int limit) {
    this.limit = limit;
  }

  synchronized void write(byte[] b, int off, int len) {
    total += len;
    int keep = Math.min(len, limit - size);
    if (keep <= 0) {
      return;
    }
    if (size + keep > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.min(limit, Math.max(size + keep, bytes.length * 2)));
    }
    System.arraycopy(b, off, bytes, size, keep);
    size += keep;
  }

  /** True once more bytes were written than kept. */
  synchronized boolean truncated() {
    return total > size;
  }

  synchronized String text(Charset charset) {
    return new String(bytes, 0, size, charset);
  }
}
