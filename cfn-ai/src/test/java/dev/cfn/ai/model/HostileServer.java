package dev.cfn.ai.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback HTTP server on a raw {@link ServerSocket} that misbehaves on purpose: no headers,
 * headers one byte at a time, pings forever, endless bodies, lines without an end. Each connection
 * gets the next {@link Behaviour} of the list (the last one repeats), so a test can follow an
 * attack with a well-behaved answer. It records every request head and counts the bytes it managed
 * to send, which shows how soon the client hung up.
 */
public final class HostileServer implements AutoCloseable {
  /** What the server does with one connection, after reading the request. */
  public interface Behaviour {
    void serve(OutputStream out) throws IOException, InterruptedException;
  }

  public static final String OPENAI_ANSWER =
      "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
          + "\"content\":\"fine\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
          + "\"completion_tokens\":1,\"total_tokens\":2}}";

  private final ServerSocket socket;
  private final List<Behaviour> behaviours;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong sent = new AtomicLong();
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  public HostileServer(Behaviour... behaviours) {
    try {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    this.behaviours = List.of(behaviours);
    acceptor = Thread.ofVirtual().start(this::accept);
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
  }

  /** The request heads (request line and headers) received, one string each. */
  public List<String> requests() {
    return new ArrayList<>(requests);
  }

  /** The bytes the server wrote before the client hung up, over every connection. */
  public long bytesSent() {
    return sent.get();
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        Socket s = socket.accept();
        open.add(s);
        int n = connections.getAndIncrement();
        Behaviour b = behaviours.get(Math.min(n, behaviours.size() - 1));
        Thread.ofVirtual().start(() -> handle(s, b));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void handle(Socket s, Behaviour b) {
    try (s) {
      requests.add(readRequest(s.getInputStream()));
      b.serve(new CountingOutput(s.getOutputStream()));
    } catch (IOException | InterruptedException e) {
      // the client hung up, or the server closed: both end the attack
    }
  }

  /** Reads the head and the body (by Content-Length); returns the head. */
  private static String readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.write(c);
      matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        in.readNBytes(Integer.parseInt(line.substring(15).strip()));
      }
    }
    return text;
  }

  private final class CountingOutput extends OutputStream {
    private final OutputStream out;

    CountingOutput(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      sent.incrementAndGet();
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      sent.addAndGet(len);
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing
    }
    for (Socket s : open) {
      try {
        s.close();
      } catch (IOException e) {
        // closing
      }
    }
  }

  // ---- behaviours ----

  public static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  public static String head(String contentType) {
    return "HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nConnection: close\r\n\r\n";
  }

  /** Reads the request and says nothing, ever. */
  public static Behaviour silent() {
    return out -> Thread.sleep(Long.MAX_VALUE);
  }

  /** Sends the status line, then a header one byte every 100 ms, never ending the head. */
  public static Behaviour slowHeaders() {
    return out -> {
      write(out, "HTTP/1.1 200 OK\r\nX-Slow: ");
      while (true) {
        write(out, "a");
        Thread.sleep(100);
      }
    };
  }

  /** An event stream of keep-alive comments every 50 ms, forever. */
  public static Behaviour pings() {
    return out -> {
      write(out, head("text/event-stream"));
      while (true) {
        write(out, ": ping\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n");
        Thread.sleep(50);
      }
    };
  }

  /** An event stream of text deltas every 20 ms, forever (OpenAI chunks). */
  public static Behaviour endlessContent() {
    return endlessContent(20);
  }

  /** An event stream of text deltas every {@code pauseMillis} (0: as fast as taken), forever. */
  public static Behaviour endlessContent(long pauseMillis) {
    return out -> {
      write(out, head("text/event-stream"));
      String chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"more \"}}]}\n\n";
      while (true) {
        write(out, chunk);
        if (pauseMillis > 0) {
          Thread.sleep(pauseMillis);
        }
      }
    };
  }

  /** A JSON body that never ends, one byte every 20 ms. */
  public static Behaviour dribbledBody() {
    return out -> {
      write(out, head("application/json") + "{\"choices\":[{\"message\":{\"content\":\"");
      while (true) {
        write(out, "x");
        Thread.sleep(20);
      }
    };
  }

  /** A JSON body that never ends, as fast as the client takes it. */
  public static Behaviour endlessBody() {
    return out -> {
      write(out, head("application/json") + "{\"choices\":[{\"message\":{\"content\":\"");
      byte[] block = "x".repeat(64 * 1024).getBytes(StandardCharsets.UTF_8);
      while (true) {
        out.write(block);
      }
    };
  }

  /**
   * An event stream with one {@code data:} line that never ends, as fast as the client takes it.
   */
  public static Behaviour endlessLine() {
    return out -> {
      write(out, head("text/event-stream") + "data: {\"choices\":[{\"delta\":{\"content\":\"");
      byte[] block = "x".repeat(64 * 1024).getBytes(StandardCharsets.UTF_8);
      while (true) {
        out.write(block);
      }
    };
  }

  /** An event stream of many short lines that never forms a blank line (one endless event). */
  public static Behaviour endlessEvent() {
    return out -> {
      write(out, head("text/event-stream"));
      byte[] block =
          "data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(1024).getBytes(StandardCharsets.UTF_8);
      while (true) {
        out.write(block);
      }
    };
  }

  /** A well-behaved non-streamed OpenAI answer. */
  public static Behaviour answer() {
    return out ->
        write(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + OPENAI_ANSWER.getBytes(StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n"
                + OPENAI_ANSWER);
  }

  /** A well-behaved streamed OpenAI answer. */
  public static Behaviour streamedAnswer() {
    return out ->
        write(
            out,
            head("text/event-stream")
                + "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"fine\"}}]}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n");
  }
}
