package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.cluster.nats.NatsServerCheck.Finding;
import dev.cfn.cluster.nats.NatsServerCheck.Report;
import dev.cfn.cluster.nats.NatsServerCheck.Severity;
import io.nats.client.Connection;
import io.nats.client.support.JsonParser;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class NatsServerCheckTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  @Test
  void aSingleDebianServerWithAnR1StreamGetsEveryWarning() throws Exception {
    try (NatsCluster server = NatsCluster.startSingle();
        Connection c = server.connect()) {
      ReliableStream stream =
          ReliableStream.ensure(c, Subjects.of("doc"), 1, Duration.ofMinutes(2), -1);
      Report report = new NatsServerCheck(server.node(0).monitorUrl(), TIMEOUT).run(stream.name());
      assertThat(report.version()).isEqualTo("2.9.10");
      assertThat(report.worst()).isEqualTo(Severity.WARNING);
      assertThat(report.findings())
          .extracting(Finding::text)
          .anySatisfy(
              t -> assertThat(t).contains("older than 2.10").contains("sync_interval: always"))
          .anySatisfy(t -> assertThat(t).contains("fsyncs every 2 minutes"))
          .anySatisfy(t -> assertThat(t).contains("not in a cluster"))
          .anySatisfy(t -> assertThat(t).contains("is R1").contains("--replicas 3"));
      Report noStream = new NatsServerCheck(server.node(0).monitorUrl(), TIMEOUT).run("CFN_NONE");
      assertThat(noStream.findings())
          .extracting(Finding::text)
          .anySatisfy(t -> assertThat(t).contains("does not exist yet"));
    }
  }

  @Test
  void aThreeServerClusterWithAnR3StreamOnlyWarnsAboutSyncing() throws Exception {
    try (NatsCluster cluster = NatsCluster.startThree();
        Connection c = cluster.connect()) {
      ReliableStream stream =
          ReliableStream.ensure(c, Subjects.of("doc"), 3, Duration.ofMinutes(2), -1);
      Report report = new NatsServerCheck(cluster.node(1).monitorUrl(), TIMEOUT).run(stream.name());
      assertThat(report.findings())
          .contains(
              new Finding(Severity.OK, "stream CFN_DOC is R3, file storage"),
              new Finding(Severity.OK, "server n2 is in cluster cfn-local"));
      assertThat(report.findings())
          .filteredOn(f -> f.severity() == Severity.WARNING)
          .extracting(Finding::text)
          .allSatisfy(t -> assertThat(t).containsAnyOf("2.10", "fsyncs"));

      // through the client port: the same stream verdict, then a follower lost
      List<Finding> viaClient =
          NatsServerCheck.throughClient(cluster.node(0).url(), stream.name(), TIMEOUT);
      assertThat(viaClient)
          .contains(new Finding(Severity.OK, "stream CFN_DOC is R3, file storage"))
          .filteredOn(f -> f.severity() != Severity.OK)
          .extracting(Finding::text)
          .allSatisfy(t -> assertThat(t).contains("older than 2.10"));
      String leader = cluster.streamLeader(c, stream.name());
      NatsCluster.Node follower =
          cluster.nodes().stream().filter(n -> !n.name.equals(leader)).findFirst().orElseThrow();
      cluster.kill(follower);
      String url = cluster.node(leader).url();
      Await.until(
          Duration.ofSeconds(30),
          "the check sees a follower offline",
          () -> {
            try {
              return NatsServerCheck.throughClient(url, stream.name(), TIMEOUT).stream()
                  .anyMatch(f -> f.text().contains("1 of 2 followers offline or behind"));
            } catch (Exception e) {
              return false;
            }
          });
      assertThatThrownBy(() -> NatsServerCheck.throughClient(follower.url(), "S", TIMEOUT))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("cannot reach NATS");
    }
  }

  @Test
  void syncSettingsOfNewerServersAreRead() throws Exception {
    assertThat(
            NatsServerCheck.syncFinding(
                    "2.10.4", JsonParser.parse("{\"store_dir\":\"/x\",\"sync_always\":true}"))
                .severity())
        .isEqualTo(Severity.OK);
    Finding interval =
        NatsServerCheck.syncFinding(
            "2.11.0", JsonParser.parse("{\"store_dir\":\"/x\",\"sync_interval\":120000000000}"));
    assertThat(interval.severity()).isEqualTo(Severity.WARNING);
    assertThat(interval.text()).contains("PT2M").contains("sync_interval: always");
    assertThat(NatsServerCheck.versionFindings("2.10.0-beta.1", "s").getFirst().severity())
        .isEqualTo(Severity.OK);
    assertThat(NatsServerCheck.versionFindings("garbage", "s").getFirst().severity())
        .isEqualTo(Severity.WARNING);
    assertThat(
            NatsServerCheck.describeStream(
                    "S", JsonParser.parse("{\"retention\":\"limits\",\"num_replicas\":3}"))
                .severity())
        .isEqualTo(Severity.ERROR);
  }

  @Test
  void badOrUnreachableUrlsFailWithTheFix() throws Exception {
    assertThatThrownBy(() -> new NatsServerCheck("nats://127.0.0.1:4222", TIMEOUT))
        .hasMessageContaining("fix:")
        .hasMessageContaining("http(s)://");
    assertThatThrownBy(() -> new NatsServerCheck("not a url", TIMEOUT))
        .hasMessageContaining("fix:");
    assertThatThrownBy(() -> NatsServerCheck.clientUri("http://127.0.0.1:8222"))
        .hasMessageContaining("fix:")
        .hasMessageContaining("--nats-monitor");
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    NatsServerCheck check = new NatsServerCheck("http://127.0.0.1:" + closed, TIMEOUT);
    assertThatThrownBy(() -> check.run(null)).isInstanceOf(IOException.class);
  }
}
