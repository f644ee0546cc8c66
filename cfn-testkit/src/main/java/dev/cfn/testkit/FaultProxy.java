package dev.cfn.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on loopback that breaks the network on purpose: put it in front of a server (a {@link
 * ModelServer}, an HTTP API, a database) and point the client at {@link #port()}; it forwards bytes
 * both ways unchanged (TLS passes through), until {@link #inject} applies a {@link NetworkFault}
 * (reset, blackhole, latency spike, half-open, slow link) and {@link #heal} lifts it.
 *
 * <pre>{@code
 * try (ModelServer model = ModelServer.start();
 *     FaultProxy proxy = FaultProxy.start(model.baseUrl().getHost(), model.baseUrl().getPort())) {
 *   String baseUrl = "http://127.0.0.1:" + proxy.port() + "/v1";   // give this to the client
 *   proxy.inject(NetworkFault.blackhole());
 *   // ... the client's calls hang; its timeouts and retries are what is tested
 *   proxy.heal();
 * }
 * }</pre>
 *
 * <p>Each connection is two pumps (virtual threads), one per direction, that read a chunk and
 * forward it according to the fault in force at that moment: a blackhole holds the chunk until the
 * fault changes, a latency spike sleeps before forwarding it, a slow link writes it in slices paced
 * to the bandwidth. Reset and half-open act at once on the open connections and on each new one. An
 * end of stream is passed on as a half-close, an error closes both sides. {@link #close()} closes
 * the listener and every connection.
 */
public final class FaultProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FaultProxy.class);
  private static final int CHUNK = 16 * 1024;
  private static final long SLICE_NANOS = 50_000_000L; // a slow link writes every 50 ms

  private final InetSocketAddress upstream;
  private final ServerSocket listener;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final Object faultChanged = new Object();
  private volatile NetworkFault fault; // null: healthy
  private volatile boolean closed;
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong forwarded = new AtomicLong();
  private final AtomicLong discarded = new AtomicLong();
  private final AtomicLong held = new AtomicLong();

  private FaultProxy(InetSocketAddress upstream, ServerSocket listener) {
    this.upstream = upstream;
    this.listener = listener;
  }

  /**
   * Starts a proxy to {@code host:port} on 127.0.0.1 and an ephemeral port.
   *
   * @throws UncheckedIOException when no port can be bound
   */
  public static FaultProxy start(String host, int port) {
    return start(new InetSocketAddress(host, port));
  }

  /**
   * Starts a proxy to {@code upstream} on 127.0.0.1 and an ephemeral port.
   *
   * @throws UncheckedIOException when no port can be bound
   */
  public static FaultProxy start(InetSocketAddress upstream) {
    Objects.requireNonNull(upstream, "upstream");
    ServerSocket s;
    try {
      s = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException("the fault proxy cannot listen on loopback", e);
    }
    FaultProxy proxy = new FaultProxy(upstream, s);
    Thread.ofPlatform()
        .daemon(true)
        .name("fault-proxy-accept-" + s.getLocalPort())
        .start(proxy::accept);
    return proxy;
  }

  /** The port clients connect to (on 127.0.0.1). */
  public int port() {
    return listener.getLocalPort();
  }

  /** Where the proxy forwards to. */
  public InetSocketAddress upstream() {
    return upstream;
  }

  /** Applies {@code fault} from now on, replacing the one in force; see {@link NetworkFault}. */
  public void inject(NetworkFault fault) {
    Objects.requireNonNull(fault, "fault");
    synchronized (faultChanged) {
      this.fault = fault;
      faultChanged.notifyAll();
    }
    for (Link link : links) {
      switch (fault) {
        case NetworkFault.Reset r -> link.reset();
        case NetworkFault.HalfOpen h -> link.halfOpen();
        default -> {}
      }
    }
    log.debug("fault proxy {}: {}", port(), fault.describe());
  }

  /**
   * Lifts the fault: bytes held by a blackhole cross, new connections are forwarded normally.
   * Connections made half-open stay dead, as in a real network.
   */
  public void heal() {
    synchronized (faultChanged) {
      this.fault = null;
      faultChanged.notifyAll();
    }
  }

  /** The fault in force, if any. */
  public Optional<NetworkFault> fault() {
    return Optional.ofNullable(fault);
  }

  /** Connections accepted since the start. */
  public long accepted() {
    return accepted.get();
  }

  /** Connections open now (half-open ones included). */
  public int openConnections() {
    return links.size();
  }

  /** Bytes forwarded, both ways, since the start. */
  public long bytesForwarded() {
    return forwarded.get();
  }

  /** Bytes read from a half-open connection's client and thrown away. */
  public long bytesDiscarded() {
    return discarded.get();
  }

  /** Chunks a blackhole holds right now. */
  public long chunksHeld() {
    return held.get();
  }

  /** Closes the listener and every connection. */
  @Override
  public void close() {
    closed = true;
    heal();
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Link link : links) {
      link.closeBoth();
    }
  }

  @Override
  public String toString() {
    return "FaultProxy[127.0.0.1:"
        + port()
        + " -> "
        + upstream
        + ", "
        + fault().map(NetworkFault::describe).orElse("healthy")
        + "]";
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("fault proxy {} stopped accepting", port(), e);
        }
        return;
      }
      accepted.incrementAndGet();
      Thread.ofVirtual().name("fault-proxy-connect").start(() -> open(client));
    }
  }

  private void open(Socket client) {
    Link link = new Link(client);
    links.add(link);
    NetworkFault now = fault;
    if (now instanceof NetworkFault.Reset) {
      link.reset();
      return;
    }
    if (now instanceof NetworkFault.HalfOpen) {
      link.halfOpen();
      Thread.ofVirtual().name("fault-proxy-drain").start(() -> link.pump(client, null));
      return;
    }
    try {
      Socket up = new Socket();
      up.setTcpNoDelay(true);
      up.connect(upstream, 10_000);
      client.setTcpNoDelay(true);
      link.upstream = up;
    } catch (IOException e) {
      log.debug("fault proxy {}: upstream {} refused: {}", port(), upstream, e.toString());
      link.reset();
      return;
    }
    if (closed || fault instanceof NetworkFault.Reset) {
      link.reset();
      return;
    }
    Socket up = link.upstream;
    Thread.ofVirtual().name("fault-proxy-up").start(() -> link.pump(client, up));
    Thread.ofVirtual().name("fault-proxy-down").start(() -> link.pump(up, client));
  }

  /** One client connection and its upstream connection. */
  private final class Link {
    final Socket client;
    volatile Socket upstream;
    volatile boolean dead; // half-open: the client side is kept, silent, until close
    volatile boolean over; // reset or closed
    private int ends; // guarded by this: directions that ended

    Link(Socket client) {
      this.client = client;
    }

    /** Copies {@code from} to {@code to} (null: throw away) chunk by chunk, applying the fault. */
    void pump(Socket from, Socket to) {
      byte[] buf = new byte[CHUNK];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to == null ? null : to.getOutputStream();
        while (true) {
          int n = in.read(buf);
          if (n < 0) {
            if (dead) {
              closeBoth(); // the client left a half-open connection
              return;
            }
            if (to != null) {
              to.shutdownOutput();
            }
            ended();
            return;
          }
          forward(buf, n, out, from == client);
        }
      } catch (IOException | InterruptedException e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        if (dead) {
          // the upstream side of a half-open connection was closed on purpose: the client stays
          return;
        }
        closeBoth();
      }
    }

    private void forward(byte[] buf, int n, OutputStream out, boolean fromClient)
        throws IOException, InterruptedException {
      while (true) {
        if (dead || out == null) {
          if (fromClient) {
            discarded.addAndGet(n);
          }
          return;
        }
        NetworkFault now = fault;
        if (now instanceof NetworkFault.Blackhole) {
          held.incrementAndGet();
          try {
            synchronized (faultChanged) {
              while (fault == now && !closed && !over) {
                faultChanged.wait(100);
              }
            }
          } finally {
            held.decrementAndGet();
          }
          if (over) {
            throw new SocketException("connection reset by the fault proxy");
          }
          continue; // the next fault decides
        }
        if (now instanceof NetworkFault.Latency l) {
          Thread.sleep(l.delay());
        }
        if (now instanceof NetworkFault.SlowLink s) {
          int slice = Math.max(1, (int) (s.bytesPerSecond() * SLICE_NANOS / 1_000_000_000L));
          for (int off = 0; off < n; off += slice) {
            int len = Math.min(slice, n - off);
            out.write(buf, off, len);
            out.flush();
            forwarded.addAndGet(len);
            Thread.sleep(len * 1000L / s.bytesPerSecond());
          }
          return;
        }
        out.write(buf, 0, n);
        out.flush();
        forwarded.addAndGet(n);
        return;
      }
    }

    private void ended() {
      boolean both;
      synchronized (this) {
        both = ++ends >= 2;
      }
      if (both) {
        closeBoth();
      }
    }

    /** TCP RST on both sides (SO_LINGER 0, then close). */
    void reset() {
      over = true;
      rst(client);
      Socket up = upstream;
      if (up != null) {
        rst(up);
      }
      links.remove(this);
    }

    /** Closes the upstream side; the client side stays open and silent until the proxy closes. */
    void halfOpen() {
      dead = true;
      Socket up = upstream;
      if (up != null) {
        quietly(up);
      }
    }

    void closeBoth() {
      over = true;
      quietly(client);
      Socket up = upstream;
      if (up != null) {
        quietly(up);
      }
      links.remove(this);
    }

    private static void rst(Socket s) {
      try {
        s.setSoLinger(true, 0);
      } catch (IOException e) {
        // closed already
      }
      quietly(s);
    }

    private static void quietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
