package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn doctor} against a nats-server of the test's own (Debian's 2.9, one server, JetStream
 * on): it reports the old version and the unclustered server as warnings and exits 1.
 */
class DoctorCommandTest {
  private static final String SERVER = "/usr/sbin/nats-server";

  @TempDir Path dir;

  @Test
  void aSingleDebianServerIsReportedWithItsFixesAndExitsOne() throws Exception {
    assertThat(Path.of(SERVER))
        .as("nats-server is missing (fix: sudo apt-get install -y nats-server)")
        .isExecutable();
    int client = freePort();
    int monitor = freePort();
    Path config = dir.resolve("s.conf");
    Path pidFile = dir.resolve("s.pid");
    Files.writeString(
        config,
        "listen: 127.0.0.1:"
            + client
            + "\nhttp: 127.0.0.1:"
            + monitor
            + "\nserver_name: doc\n"
            + "pid_file: \""
            + pidFile
            + "\"\njetstream { store_dir: \""
            + dir.resolve("store")
            + "\" }\n");
    new ProcessBuilder("setsid", SERVER, "-c", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("out").toFile())
        .start();
    long pid = 0;
    try {
      pid = awaitPid(pidFile);
      awaitHealthy(monitor);
      CliRun r =
          CliRun.run(
              "doctor",
              "--nats",
              "nats://127.0.0.1:" + client,
              "--nats-monitor",
              "http://127.0.0.1:" + monitor);
      assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
      assertThat(r.out())
          .contains("warning  nats-server 2.9.10 is older than 2.10")
          .contains("sync_interval: always")
          .contains("warning  server doc is not in a cluster")
          .contains("ok       connected to 127.0.0.1:" + client)
          .contains("stream CFN_DEFAULT does not exist yet")
          .containsPattern("\\d+ warnings, 0 errors");
      assertThat(r.out().split("older than 2.10", -1)).as("the version reported once").hasSize(2);
      assertThat(r.err()).isEmpty();
    } finally {
      if (pid != 0) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        long p = pid;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private static long awaitPid(Path pidFile) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (Files.exists(pidFile) && !Files.readString(pidFile).isBlank()) {
        return Long.parseLong(Files.readString(pidFile).trim());
      }
      Thread.sleep(20);
    }
    throw new AssertionError("nats-server wrote no pid file in 20 s");
  }

  private static void awaitHealthy(int monitor) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitor + "/healthz"))
            .timeout(Duration.ofSeconds(2))
            .build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    throw new AssertionError("nats-server not healthy in 20 s");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
