package dev.cfn.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fault proxy in front of an echo server: it forwards unchanged when healthy, and each fault
 * does what it says (reset, blackhole that loses nothing, latency, half-open that stays dead, slow
 * link), and healing restores new connections.
 */
@Timeout(120)
class FaultProxyTest {
  private Echo echo;
  private FaultProxy proxy;

  @BeforeEach
  void start() throws IOException {
    echo = new Echo();
    proxy = FaultProxy.start("127.0.0.1", echo.port());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  @Test
  void forwardsBothWaysAndPassesTheEndOfStreamOn() throws Exception {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, "hello")).isEqualTo("hello");
      s.shutdownOutput();
      assertThat(s.getInputStream().read()).isEqualTo(-1); // the echo saw EOF and closed
    }
    assertThat(proxy.accepted()).isEqualTo(1);
    assertThat(proxy.bytesForwarded()).isEqualTo(10);
  }

  @Test
  void resetBreaksOpenConnectionsAndNewOnesUntilHealed() throws Exception {
    try (Socket open = connect()) {
      assertThat(roundTrip(open, "a")).isEqualTo("a");
      proxy.inject(NetworkFault.reset());
      assertThatThrownBy(() -> readOrFail(open)).isInstanceOf(IOException.class);
      try (Socket during = connect()) {
        assertThatThrownBy(() -> readOrFail(during)).isInstanceOf(IOException.class);
      }
    }
    proxy.heal();
    try (Socket after = connect()) {
      assertThat(roundTrip(after, "b")).isEqualTo("b");
    }
  }

  @Test
  void blackholeHoldsEveryByteUntilHealedAndLosesNone() throws Exception {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, "x")).isEqualTo("x");
      long before = echo.received.get();
      proxy.inject(NetworkFault.blackhole());
      write(s, "held");
      await(() -> proxy.chunksHeld() >= 1);
      assertThat(echo.received.get()).isEqualTo(before); // nothing crossed
      proxy.heal();
      assertThat(read(s, 4)).isEqualTo("held");
    }
  }

  @Test
  void latencySpikeDelaysEachChunkEachWay() throws Exception {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, "warm")).isEqualTo("warm");
      proxy.inject(NetworkFault.latency(Duration.ofMillis(200)));
      long t0 = System.nanoTime();
      assertThat(roundTrip(s, "slow")).isEqualTo("slow");
      // a lower bound only: the chunk waited 200 ms on its way in and 200 ms on its way out
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }
  }

  @Test
  void halfOpenConnectionsGoSilentForTheClientAndStayDeadAfterHealing() throws Exception {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, "x")).isEqualTo("x");
      proxy.inject(NetworkFault.halfOpen());
      await(() -> echo.closed.get() >= 1); // the upstream saw its side close
      write(s, "lost");
      await(() -> proxy.bytesDiscarded() >= 4);
      proxy.heal();
      write(s, "still");
      await(() -> proxy.bytesDiscarded() >= 9);
      s.setSoTimeout(300);
      // no byte, no end of stream, no reset: the client must give up on its own
      assertThatThrownBy(() -> s.getInputStream().read())
          .isInstanceOf(SocketTimeoutException.class);
    }
    try (Socket fresh = connect()) {
      assertThat(roundTrip(fresh, "new")).isEqualTo("new");
    }
  }

  @Test
  void slowLinkPacesBytesToTheBandwidth() throws Exception {
    try (Socket s = connect()) {
      proxy.inject(NetworkFault.slowLink(2_000));
      String text = "z".repeat(1_000);
      long t0 = System.nanoTime();
      assertThat(roundTrip(s, text)).isEqualTo(text);
      // a lower bound only: 1,000 bytes at 2,000 B/s in 100-byte slices every 50 ms take at
      // least 450 ms (the two directions overlap)
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }
  }

  @Test
  void faultsAreValidated() {
    assertThatThrownBy(() -> NetworkFault.latency(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NetworkFault.slowLink(0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(NetworkFault.latency(Duration.ofMillis(500)).describe())
        .isEqualTo("latency spike 500 ms");
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", proxy.port());
    s.setSoTimeout(30_000);
    return s;
  }

  private static String roundTrip(Socket s, String text) throws IOException {
    write(s, text);
    return read(s, text.length());
  }

  private static void write(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static String read(Socket s, int n) throws IOException {
    byte[] b = s.getInputStream().readNBytes(n);
    return new String(b, StandardCharsets.US_ASCII);
  }

  /** Reads one byte; an end of stream is also a failure here. */
  private static void readOrFail(Socket s) throws IOException {
    if (s.getInputStream().read() < 0) {
      throw new IOException("end of stream");
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 30 s");
      }
      Thread.sleep(10);
    }
  }

  /** Echoes every byte; counts bytes received and connections that ended. */
  private static final class Echo implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final AtomicLong received = new AtomicLong();
    final AtomicInteger closed = new AtomicInteger();

    Echo() throws IOException {
      Thread.ofVirtual()
          .start(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                  } catch (IOException e) {
                    return;
                  }
                }
              });
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
          received.addAndGet(n);
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // the proxy reset it
      } finally {
        closed.incrementAndGet();
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
