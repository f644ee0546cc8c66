package dev.cfn.ai.model;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Hands a response's headers and body from the HTTP client's threads to the caller's thread, one
 * chunk at a time.
 *
 * <p>The subscriber asks the client for {@value #WINDOW} chunks, and for one more each time the
 * caller takes one: the client stops reading the socket while the window is full, so however fast
 * or long a hostile server sends, at most {@value #WINDOW} chunks (the client's buffers, 16 KiB
 * each by default) wait here (memory stays bounded; the caller's {@link ResponseBody} counts the
 * bytes against the configured caps). The caller waits with a timeout, which is how a silent server
 * is detected; {@link #cancel()} stops the transfer.
 */
final class BodyChunks implements HttpResponse.BodySubscriber<Void> {
  private static final Object END = new Object();
  private static final int WINDOW = 8;

  private record Failure(Throwable cause) {}

  // Holds at most: the headers, WINDOW chunks, and the end or a failure.
  private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
  private final AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile boolean cancelled;

  void headers(HttpResponse.ResponseInfo info) {
    items.add(info);
  }

  void fail(Throwable t) {
    items.add(new Failure(t));
  }

  HttpResponse.ResponseInfo awaitHeaders(long timeoutNanos)
      throws TimeoutException, InterruptedException, IOException {
    Object o = items.poll(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    if (o == null) {
      throw new TimeoutException("no response headers in time");
    }
    if (o instanceof Failure f) {
      throw new IOException("request failed", unwrap(f.cause()));
    }
    return (HttpResponse.ResponseInfo) o;
  }

  /**
   * Takes the next chunk of the body, and asks the client for the one after it.
   *
   * @return the chunk's buffers, or null at the end of the body
   * @throws TimeoutException when no chunk arrives within the timeout
   * @throws IOException when the transfer failed
   */
  List<ByteBuffer> next(long timeoutNanos)
      throws TimeoutException, InterruptedException, IOException {
    Object o = items.poll(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    if (o == null) {
      throw new TimeoutException("no data in time");
    }
    if (o == END) {
      items.add(END); // stay at the end for later calls
      return null;
    }
    if (o instanceof Failure f) {
      items.add(f);
      throw new IOException("the response body broke off", unwrap(f.cause()));
    }
    @SuppressWarnings("unchecked")
    List<ByteBuffer> chunk = (List<ByteBuffer>) o;
    Flow.Subscription s = subscription.get();
    if (s != null && !cancelled) {
      s.request(1);
    }
    return chunk;
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** Stops the transfer: the client closes the connection and sends no more. */
  void cancel() {
    cancelled = true;
    Flow.Subscription s = subscription.get();
    if (s != null) {
      s.cancel();
    }
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    if (!subscription.compareAndSet(null, s)) {
      s.cancel();
      return;
    }
    if (cancelled) {
      s.cancel();
    } else {
      s.request(WINDOW);
    }
  }

  @Override
  public void onNext(List<ByteBuffer> chunk) {
    items.add(chunk);
  }

  @Override
  public void onError(Throwable t) {
    items.add(new Failure(t));
    done.completeExceptionally(t);
  }

  @Override
  public void onComplete() {
    items.add(END);
    done.complete(null);
  }

  @Override
  public CompletionStage<Void> getBody() {
    return done;
  }
}
