package dev.cfn.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A response body read as an {@link InputStream} that yields every byte received before a failure
 * and only then throws. The JDK's {@code BodyHandlers.ofInputStream()} reports a failure as soon as
 * it happens and drops buffers not yet read, which would lose the last events of a stream the
 * provider cut off; the recorder needs them.
 */
final class UpstreamBody extends InputStream implements HttpResponse.BodySubscriber<InputStream> {

  /** What the HTTP client delivered, in order. */
  private sealed interface Item {}

  private record Data(List<ByteBuffer> buffers) implements Item {}

  private record Failed(Throwable cause) implements Item {}

  private record End() implements Item {}

  private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private volatile Flow.Subscription subscription;
  private Iterator<ByteBuffer> buffers;
  private ByteBuffer current;
  private volatile boolean ended; // read by close(), which may run on another thread
  private Throwable failure;

  static HttpResponse.BodyHandler<InputStream> handler() {
    return info -> new UpstreamBody();
  }

  @Override
  public CompletionStage<InputStream> getBody() {
    return CompletableFuture.completedStage(this);
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    s.request(1);
  }

  @Override
  public void onNext(List<ByteBuffer> item) {
    queue.add(new Data(item));
  }

  @Override
  public void onError(Throwable throwable) {
    queue.add(new Failed(throwable));
  }

  @Override
  public void onComplete() {
    queue.add(new End());
  }

  /** The next buffer with data, or {@code null} at the end of the body. */
  private ByteBuffer current() throws IOException {
    while (current == null || !current.hasRemaining()) {
      if (buffers != null && buffers.hasNext()) {
        current = buffers.next();
        continue;
      }
      if (ended) {
        return null;
      }
      if (failure != null) {
        throw new IOException("upstream response ended abruptly: " + failure, failure);
      }
      Item item;
      try {
        item = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while reading the upstream response");
      }
      switch (item) {
        case Data data -> {
          buffers = data.buffers().iterator();
          subscription.request(1);
        }
        case Failed failed -> failure = failed.cause();
        case End end -> ended = true;
      }
    }
    return current;
  }

  @Override
  public int read() throws IOException {
    ByteBuffer buffer = current();
    return buffer == null ? -1 : buffer.get() & 0xFF;
  }

  @Override
  public int read(byte[] bytes, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    ByteBuffer buffer = current();
    if (buffer == null) {
      return -1;
    }
    int n = Math.min(length, buffer.remaining());
    buffer.get(bytes, offset, n);
    return n;
  }

  @Override
  public void close() {
    Flow.Subscription s = subscription;
    if (s != null && !ended) {
      s.cancel();
    }
  }
}
