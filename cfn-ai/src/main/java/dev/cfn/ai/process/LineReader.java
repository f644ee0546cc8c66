package dev.cfn.ai.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.util.Arrays;

/**
 * Reads lines from a long-lived process's stdout, keeping at most {@code limit} bytes of a line:
 * the rest of a longer line is read and dropped, so a runaway line costs bounded memory and the
 * stream stays in step (the next read starts at the next line). A line ends at {@code \n}; a
 * trailing {@code \r} is dropped. Used only by the agent's handler thread.
 */
final class LineReader {
  private final InputStream in;
  private final Charset charset;
  private final byte[] buf = new byte[8192];
  private int pos;
  private int end;

  LineReader(InputStream in, Charset charset) {
    this.in = in;
    this.charset = charset;
  }

  /**
   * The next line, or {@code null} at end of stream. A final line without a line break is returned
   * marked incomplete.
   */
  Line read(int limit) throws IOException {
    byte[] line = new byte[Math.min(limit, 256)];
    int size = 0;
    long total = 0;
    boolean sawAny = false;
    while (true) {
      if (pos == end) {
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
          return sawAny ? toLine(line, size, total, false) : null;
        }
        pos = 0;
        end = n;
      }
      sawAny = true;
      int nl = -1;
      for (int i = pos; i < end; i++) {
        if (buf[i] == '\n') {
          nl = i;
          break;
        }
      }
      int stop = nl < 0 ? end : nl;
      int len = stop - pos;
      int keep = Math.min(len, Math.max(0, limit - size));
      if (keep > 0) {
        if (size + keep > line.length) {
          line = Arrays.copyOf(line, Math.min(limit, Math.max(size + keep, line.length * 2)));
        }
        System.arraycopy(buf, pos, line, size, keep);
        size += keep;
      }
      total += len;
      if (nl >= 0) {
        pos = nl + 1;
        return toLine(line, size, total, true);
      }
      pos = end;
    }
  }

  private Line toLine(byte[] line, int size, long total, boolean complete) {
    boolean truncated = total > size;
    if (!truncated && size > 0 && line[size - 1] == '\r') {
      size--;
      total--;
    }
    return new Line(new String(line, 0, size, charset), truncated, total, complete);
  }

  /**
   * One line.
   *
   * @param text the kept bytes, decoded
   * @param truncated true when the line was longer than the limit and was cut
   * @param bytes the line's full length in bytes, without the line break
   * @param complete false when the stream ended before a line break (the writer died mid-line)
   */
  record Line(String text, boolean truncated, long bytes, boolean complete) {}
}
