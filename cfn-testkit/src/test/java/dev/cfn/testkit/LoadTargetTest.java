package dev.cfn.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server as a load target: many keep-alive connections at once, each sending several requests
 * on its own socket, with a bounded request history.
 */
class LoadTargetTest {
  private static final int CONNECTIONS = 1_000;
  private static final int REQUESTS_PER_CONNECTION = 3;
  private static final String BODY =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  /**
   * A thousand connections are opened, each sends one request, and all of them wait until every
   * connection has its first answer: so a thousand connections are idle in the server at once (the
   * JDK's default keeps 200 and closes the rest after their answer). Then each sends two more on
   * the same socket. Every answer must arrive on its connection.
   */
  @Test
  void aThousandKeepAliveConnectionsEachServeSeveralRequests() throws Exception {
    try (ModelServer server = ModelServer.builder().requestHistory(50).start()) {
      server.script().on(Match.any()).reply(Reply.text("pong"));
      int port = server.baseUrl().getPort();
      CountDownLatch firstAnswered = new CountDownLatch(CONNECTIONS);
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Integer> answered = new ConcurrentLinkedQueue<>();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int c = 0; c < CONNECTIONS; c++) {
          int id = c;
          pool.submit(
              () -> {
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                  socket.setSoTimeout(60_000);
                  OutputStream out = socket.getOutputStream();
                  InputStream in = new BufferedInputStream(socket.getInputStream());
                  for (int r = 0; r < REQUESTS_PER_CONNECTION; r++) {
                    String answer = exchange(out, in);
                    if (!answer.contains("pong")) {
                      failures.add("connection " + id + " request " + r + ": " + answer);
                      return;
                    }
                    answered.add(id);
                    if (r == 0) {
                      firstAnswered.countDown();
                      firstAnswered.await(60, TimeUnit.SECONDS);
                    }
                  }
                } catch (Exception e) {
                  failures.add("connection " + id + ": " + e);
                } finally {
                  firstAnswered.countDown(); // never leave the others waiting on a failed one
                }
              });
        }
      }
      assertThat(failures).as("failed connections (first of them)").isEmpty();
      assertThat(answered).hasSize(CONNECTIONS * REQUESTS_PER_CONNECTION);
      assertThat(server.received()).isEqualTo((long) CONNECTIONS * REQUESTS_PER_CONNECTION);
      assertThat(server.requests()).as("the history keeps only the last 50").hasSize(50);
    }
  }

  @Test
  void aServerWithoutHistoryRecordsNothingButCountsEverything() throws Exception {
    try (ModelServer server = ModelServer.builder().requestHistory(0).start()) {
      server.script().on(Match.any()).reply(Reply.text("pong"));
      try (Socket socket =
          new Socket(InetAddress.getLoopbackAddress(), server.baseUrl().getPort())) {
        OutputStream out = socket.getOutputStream();
        InputStream in = new BufferedInputStream(socket.getInputStream());
        for (int i = 0; i < 5; i++) {
          assertThat(exchange(out, in)).contains("pong");
        }
      }
      assertThat(server.requests()).isEmpty();
      assertThat(server.received()).isEqualTo(5);
    }
  }

  @Test
  void theDefaultHistoryKeepsTheMostRecentRequests() throws Exception {
    try (ModelServer server = ModelServer.start()) {
      server.script().on(Match.any()).reply(Reply.text("pong"));
      try (Socket socket =
          new Socket(InetAddress.getLoopbackAddress(), server.baseUrl().getPort())) {
        OutputStream out = socket.getOutputStream();
        InputStream in = new BufferedInputStream(socket.getInputStream());
        for (int i = 0; i < ModelServer.DEFAULT_REQUEST_HISTORY + 10; i++) {
          assertThat(exchange(out, in)).contains("pong");
        }
      }
      assertThat(server.received()).isEqualTo(ModelServer.DEFAULT_REQUEST_HISTORY + 10);
      assertThat(server.requests()).hasSize(ModelServer.DEFAULT_REQUEST_HISTORY);
    }
  }

  /** Sends one POST on the socket and reads its answer (status line, headers, body). */
  private static String exchange(OutputStream out, InputStream in) throws IOException {
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    byte[] request = new byte[head.length() + body.length];
    System.arraycopy(head.getBytes(StandardCharsets.US_ASCII), 0, request, 0, head.length());
    System.arraycopy(body, 0, request, head.length(), body.length);
    out.write(request); // one write: no Nagle wait between head and body
    out.flush();
    String status = line(in);
    if (status == null) {
      throw new IOException("the server closed the connection instead of answering");
    }
    int length = -1;
    List<String> headers = new ArrayList<>();
    for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
      headers.add(h);
      if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
        length = Integer.parseInt(h.substring(15).strip());
      }
    }
    if (!status.startsWith("HTTP/1.1 200") || length < 0) {
      throw new IOException("unexpected answer: " + status + " " + headers);
    }
    byte[] answer = in.readNBytes(length);
    if (answer.length != length) {
      throw new IOException("the answer was cut at " + answer.length + " of " + length + " bytes");
    }
    return new String(answer, StandardCharsets.UTF_8);
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int b = in.read(); b != -1; b = in.read()) {
      if (b == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) b);
    }
    return sb.isEmpty() ? null : sb.toString();
  }
}
