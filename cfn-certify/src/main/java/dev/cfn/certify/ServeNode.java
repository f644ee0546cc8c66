package dev.cfn.certify;

import dev.cfn.certify.harness.ChildJvm;
import dev.cfn.server.CfnServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node the uptime check probes and SIGKILLs: {@link CfnServer} over {@code HOME/.cfn} in a JVM
 * of its own, started as {@code cfn serve} starts it (TLS 1.3, tokens, audit log, a clean stop on
 * SIGTERM), on a given port so that a restarted node answers at the same address, with the {@link
 * ServedNode#SINK} agent type for the load.
 *
 * <p>It prints {@code listening URL}, then {@code ready}; on SIGTERM it stops cleanly and prints
 * {@code stopped}. For the honesty test, {@code --halt-after N} makes it crash by itself (halt, as
 * a SIGKILL would) once its sink agents have handled N messages: a node that dies under load; and
 * {@code --start-delay-ms MS} makes it sleep before it starts: a node that is slow to come back.
 */
final class ServeNode {
  private ServeNode() {}

  /** Starts a node with {@code args} (see {@link #main}) in a JVM of its own. */
  static ChildJvm start(List<String> args, Path log) throws IOException {
    return CrashNode.launcher(log).start(ServeNode.class.getName(), args);
  }

  /**
   * Entry point: {@code --home DIR --port N [--halt-after N] [--start-delay-ms MS]}. Bad arguments:
   * one line on standard error, exit 2.
   */
  public static void main(String[] args) throws Exception {
    Path home = null;
    int port = -1;
    long haltAfter = 0;
    long startDelayMs = 0;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--home" -> home = Path.of(args[++i]);
          case "--port" -> port = Integer.parseInt(args[++i]);
          case "--halt-after" -> haltAfter = Long.parseLong(args[++i]);
          case "--start-delay-ms" -> startDelayMs = Long.parseLong(args[++i]);
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
      if (home == null || port < 1) {
        throw new IllegalArgumentException("--home and --port are needed");
      }
    } catch (RuntimeException e) {
      System.err.println(
          CrashNode.ERROR_PREFIX + e.getMessage() + " (fix: it is started by cfn certify)");
      System.exit(2);
      return;
    }
    Thread.sleep(startDelayMs);
    AtomicLong handled = new AtomicLong();
    CfnServer server =
        CfnServer.builder(home).port(port).agentType(ServedNode.sink(handled)).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                    System.out.println("stopped");
                    System.out.flush();
                  } finally {
                    stopped.countDown();
                  }
                },
                "certify-node-stop"));
    System.out.println("listening " + server.url());
    System.out.println("ready");
    System.out.flush();
    if (haltAfter > 0) {
      while (handled.get() < haltAfter) {
        Thread.sleep(5);
      }
      System.out.println("halting after " + handled.get() + " messages");
      System.out.flush();
      Runtime.getRuntime().halt(137);
    }
    stopped.await();
  }
}
