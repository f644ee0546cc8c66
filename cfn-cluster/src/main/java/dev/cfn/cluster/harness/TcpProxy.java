package dev.cfn.cluster.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Forwards TCP connections accepted on {@code bindAddress} (say a {@link Netns}'s host address) to
 * a loopback port, so a process in a network namespace reaches servers that listen on 127.0.0.1
 * only. Bytes are copied as they come, nothing is buffered beyond the sockets, so cutting the link
 * stalls both directions as a real partition does.
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  /** Listens on a free port of {@code bindAddress} and forwards to {@code 127.0.0.1:target}. */
  public TcpProxy(String bindAddress, int target) throws IOException {
    this.target = target;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getByName(bindAddress), 0));
    Thread.ofVirtual().name("cfn-proxy-" + target).start(this::accept);
  }

  /** The port it listens on. */
  public int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Socket out;
        try {
          out = new Socket(InetAddress.getLoopbackAddress(), target);
        } catch (IOException refused) {
          closeQuietly(in);
          continue;
        }
        in.setTcpNoDelay(true);
        out.setTcpNoDelay(true);
        sockets.add(in);
        sockets.add(out);
        Thread.ofVirtual().start(() -> copy(in, out));
        Thread.ofVirtual().start(() -> copy(out, in));
      } catch (IOException e) {
        // closed: the loop ends
      }
    }
  }

  private void copy(Socket from, Socket to) {
    byte[] buffer = new byte[16384];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side closed
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      sockets.remove(from);
      sockets.remove(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  /** Stops listening and closes every forwarded connection. */
  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
