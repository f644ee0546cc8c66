package dev.cfn.ai.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread that moves bytes between a process pipe and memory, so that no pipe ever fills up
 * while the handler waits on another: stdout and stderr are drained, and stdin is fed,
 * concurrently. These threads block in pipe reads and writes for as long as the process lives,
 * which pins a carrier when done on a virtual thread, so they are platform threads.
 */
final class StreamPump {
  private static final Logger log = LoggerFactory.getLogger(StreamPump.class);

  /** Where drained bytes go: a {@link HeadBuffer} or a {@link TailBuffer}. */
  @FunctionalInterface
  interface Sink {
    void write(byte[] b, int off, int len);
  }

  private final Thread thread;

  private StreamPump(Thread thread) {
    this.thread = thread;
  }

  /** Reads {@code in} to its end into {@code sink}, then closes it. */
  static StreamPump drain(InputStream in, Sink sink, String name) {
    return new StreamPump(
        start(
            name,
            () -> {
              byte[] buf = new byte[8192];
              try (in) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                  sink.write(buf, 0, n);
                }
              } catch (IOException e) {
                log.debug("{}: stream closed: {}", name, e.toString());
              }
            }));
  }

  /** Writes {@code bytes} to {@code out}, then closes it (the process sees end of file). */
  static StreamPump feed(OutputStream out, byte[] bytes, String name) {
    return new StreamPump(
        start(
            name,
            () -> {
              try (out) {
                out.write(bytes);
              } catch (IOException e) {
                // the process exited or closed stdin without reading everything: its choice
                log.debug("{}: stdin closed early: {}", name, e.toString());
              }
            }));
  }

  private static Thread start(String name, Runnable body) {
    return Thread.ofPlatform().daemon().name(name).start(body);
  }

  /** Waits until the pump has finished or {@code deadlineNanos} (a nanoTime) passed. */
  boolean awaitUntil(long deadlineNanos) throws InterruptedException {
    long left = deadlineNanos - System.nanoTime();
    return left > 0 ? thread.join(Duration.ofNanos(left)) : !thread.isAlive();
  }

  /** Waits up to {@code limit} for the pump to finish; true if it did. Ignores interrupts. */
  boolean awaitQuietly(Duration limit) {
    long end = System.nanoTime() + limit.toNanos();
    boolean interrupted = false;
    try {
      while (thread.isAlive()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          thread.join(Duration.ofNanos(Math.max(left, TimeUnit.MILLISECONDS.toNanos(1))));
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
