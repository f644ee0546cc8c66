package dev.cfn.ai.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * Reads a response body on the caller's thread within bounds of size and time: the whole body is
 * capped ({@link ProviderConfig#maxResponseBytes()}), so is every line ({@link
 * ProviderConfig#maxEventBytes()}); every wait ends at the idle timeout (no byte for that long) or
 * at the attempt's deadline, whichever comes first. Any bound exceeded cancels the transfer and
 * fails the call with a {@link ModelException} that names the bound and the setting that raises it,
 * so a hostile or broken server costs at most the caps in memory and the deadline in time.
 *
 * <p>Lines end at LF, CRLF or CR, as server-sent events allow; the last line needs no terminator.
 */
final class ResponseBody implements AutoCloseable {
  private final HttpTransport transport;
  private final BodyChunks chunks;
  private final CompletableFuture<?> exchange;
  private final long idleNanos;
  private final long deadlineNanos;
  private final Duration total;
  private final String totalSetting;
  private final long maxBytes;
  private final int maxLineBytes;

  private long received;
  private List<ByteBuffer> chunk = List.of();
  private int chunkIndex;
  private byte[] line = new byte[256];
  private int lineLength;
  private boolean lastWasCr;
  private boolean ended;
  // The whole body arrived: the client returns the connection to its pool, and close() must not
  // cancel the exchange, which would close that connection (one new connection per call).
  private boolean complete;

  /**
   * @param idle the longest wait for the next bytes
   * @param total the longest the whole body may take, from now
   * @param totalSetting what sets {@code total}, for the error message
   */
  ResponseBody(
      HttpTransport transport,
      BodyChunks chunks,
      CompletableFuture<?> exchange,
      Duration idle,
      Duration total,
      String totalSetting) {
    this.transport = transport;
    this.chunks = chunks;
    this.exchange = exchange;
    this.idleNanos = idle.toNanos();
    this.total = total;
    this.deadlineNanos = System.nanoTime() + total.toNanos();
    this.totalSetting = totalSetting;
    this.maxBytes = transport.maxResponseBytes();
    this.maxLineBytes = transport.maxEventBytes();
  }

  /**
   * Reads the next line.
   *
   * @return the line without its terminator, or null at the end of the body
   * @throws ModelException when a bound is exceeded or the transfer fails
   */
  String readLine() {
    while (true) {
      ByteBuffer b = buffer();
      if (b == null) {
        if (lineLength > 0) {
          return takeLine();
        }
        return null;
      }
      while (b.hasRemaining()) {
        byte c = b.get();
        if (c == '\n') {
          if (lastWasCr) {
            lastWasCr = false;
            continue;
          }
          return takeLine();
        }
        if (c == '\r') {
          lastWasCr = true;
          return takeLine();
        }
        lastWasCr = false;
        if (lineLength == maxLineBytes) {
          close();
          throw transport.tooLarge(
              "a line of the response exceeded " + HttpTransport.size(maxLineBytes),
              "max-event-bytes");
        }
        if (lineLength == line.length) {
          line = Arrays.copyOf(line, Math.min(maxLineBytes, line.length * 2));
        }
        line[lineLength++] = c;
      }
    }
  }

  /**
   * Reads the rest of the body as text.
   *
   * @param limit the most bytes to read
   * @param failBeyond true to fail when the body is longer; false to return the first {@code limit}
   *     bytes (for error bodies, which are only quoted)
   */
  String readAll(long limit, boolean failBeyond) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (lineLength > 0) {
      out.write(line, 0, lineLength);
      lineLength = 0;
    }
    ByteBuffer b;
    while ((b = buffer()) != null) {
      int n = (int) Math.min(b.remaining(), limit - out.size());
      if (b.remaining() > n) {
        if (failBeyond) {
          close();
          throw transport.tooLarge(
              "response exceeded " + HttpTransport.size(limit), "max-response-bytes");
        }
        byte[] part = new byte[n];
        b.get(part);
        out.write(part, 0, n);
        close();
        break;
      }
      byte[] part = new byte[n];
      b.get(part);
      out.write(part, 0, n);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private String takeLine() {
    String s = new String(line, 0, lineLength, StandardCharsets.UTF_8);
    lineLength = 0;
    if (line.length > 64 * 1024) {
      line = new byte[256]; // do not keep a huge buffer for the rest of the stream
    }
    return s;
  }

  /** The current buffer with bytes left, waiting for the next chunk; null at the end. */
  private ByteBuffer buffer() {
    while (true) {
      while (chunkIndex < chunk.size()) {
        ByteBuffer b = chunk.get(chunkIndex);
        if (b.hasRemaining()) {
          return b;
        }
        chunkIndex++;
      }
      if (ended) {
        return null;
      }
      List<ByteBuffer> next = take();
      if (next == null) {
        ended = true;
        complete = true;
        return null;
      }
      long size = 0;
      for (ByteBuffer b : next) {
        size += b.remaining();
      }
      received += size;
      if (received > maxBytes) {
        close();
        throw transport.tooLarge(
            "response exceeded " + HttpTransport.size(maxBytes), "max-response-bytes");
      }
      chunk = next;
      chunkIndex = 0;
    }
  }

  private List<ByteBuffer> take() {
    long now = System.nanoTime();
    long left = deadlineNanos - now;
    boolean deadlineFirst = left <= idleNanos;
    try {
      return chunks.next(Math.min(left, idleNanos));
    } catch (TimeoutException e) {
      close();
      throw deadlineFirst
          ? transport.timeout(
              "the answer did not finish within " + total.toMillis() + " ms (" + totalSetting + ")",
              e)
          : transport.timeout(
              "the stream stalled: no data for " + Duration.ofNanos(idleNanos).toMillis() + " ms",
              e);
    } catch (InterruptedException e) {
      close();
      Thread.currentThread().interrupt();
      throw transport.interrupted(e);
    } catch (IOException e) {
      close();
      Throwable cause = e.getCause() == null ? e : e.getCause();
      String m = cause.getMessage();
      throw transport.streamBroken(
          transport
              .redactor()
              .redact(cause.getClass().getSimpleName() + (m == null ? "" : " (" + m + ")")),
          e);
    }
  }

  @Override
  public void close() {
    ended = true;
    chunk = List.of();
    if (complete) {
      return;
    }
    chunks.cancel();
    exchange.cancel(true);
  }
}
