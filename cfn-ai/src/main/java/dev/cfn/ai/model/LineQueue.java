package dev.cfn.ai.model;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Hands the lines of a streamed response from the HTTP client's threads to the caller's thread.
 *
 * <p>The client pushes the response headers, then each line, then the end or a failure; the caller
 * takes them with a timeout, which is how a stalled stream is detected. The queue is unbounded
 * because a model streams far slower than a caller reads; {@link #cancel()} stops the transfer.
 */
final class LineQueue implements Flow.Subscriber<String> {
  private static final Object END = new Object();

  private record Failure(Throwable cause) {}

  private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
  private final AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
  private volatile boolean cancelled;

  void headers(HttpResponse.ResponseInfo info) {
    items.add(info);
  }

  void fail(Throwable t) {
    items.add(new Failure(t));
  }

  HttpResponse.ResponseInfo awaitHeaders(Duration timeout)
      throws TimeoutException, InterruptedException, IOException {
    Object o = items.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (o == null) {
      throw new TimeoutException("no response headers within " + timeout);
    }
    if (o instanceof Failure f) {
      throw new IOException("request failed", unwrap(f.cause()));
    }
    return (HttpResponse.ResponseInfo) o;
  }

  /**
   * Takes the next line.
   *
   * @return the line, or null at the end of the body
   * @throws TimeoutException when no line arrives within the timeout
   * @throws IOException when the transfer failed
   */
  String next(Duration timeout) throws TimeoutException, InterruptedException, IOException {
    Object o = items.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (o == null) {
      throw new TimeoutException("no data for " + timeout);
    }
    if (o == END) {
      items.add(END); // stay at the end for later calls
      return null;
    }
    if (o instanceof Failure f) {
      items.add(f);
      throw new IOException("the response body broke off", unwrap(f.cause()));
    }
    return (String) o;
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException
            || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  void cancel() {
    cancelled = true;
    Flow.Subscription s = subscription.get();
    if (s != null) {
      s.cancel();
    }
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription.set(s);
    if (cancelled) {
      s.cancel();
    } else {
      s.request(Long.MAX_VALUE);
    }
  }

  @Override
  public void onNext(String line) {
    items.add(line);
  }

  @Override
  public void onError(Throwable t) {
    items.add(new Failure(t));
  }

  @Override
  public void onComplete() {
    items.add(END);
  }
}
