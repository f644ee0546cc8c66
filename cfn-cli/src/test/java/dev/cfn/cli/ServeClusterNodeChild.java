package dev.cfn.cli;

import dev.cfn.cluster.node.ClusterConfig;
import dev.cfn.server.CfnServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The child JVM of {@link ServeClusterAgentsTest}'s kill test: a server with the agent definition
 * {@code helper} joined to the cluster as {@code ServeCommand.joinCluster} does for {@code cfn
 * serve --cluster}; prints {@code JOINED} and runs until its standard input ends or it is
 * SIGKILLed.
 *
 * <p>Arguments: directory, node name, model base URL, NATS URL, JDBC URL.
 */
public final class ServeClusterNodeChild {
  private ServeClusterNodeChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    try (CfnServer server = ServeClusterAgentsTest.server(dir, args[1], args[2]);
        ClusterConfig.Joined joined =
            ServeCommand.joinCluster(
                server,
                ServeClusterAgentsTest.config(dir, args[1], List.of(args[3]), args[4]),
                Map.of(),
                System.currentTimeMillis(),
                new PrintWriter(System.err, true))) {
      System.out.println("JOINED");
      System.out.flush();
      while (System.in.read() >= 0) {
        // runs until its input ends
      }
    }
  }
}
