package dev.cfn.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn bench ...}: runs the benchmark jar in a JVM of its own, with a fixed heap and the same
 * JDK, so a measurement never shares a heap or JIT profile with the command itself and its JVM
 * settings are printed with the results. The benchmark peers (Apache Pekko) live only in that jar.
 */
@Command(
    name = "bench",
    description = {
      "Measures cfn on this machine, side by side with Apache Pekko.",
      "  cfn bench bus [--quick] [--json FILE]   end-to-end bus scenarios",
      "  cfn bench jmh [JMH options]             JMH microbenchmarks",
      "JVM options for the benchmark JVM come from CFN_BENCH_JVM_OPTS"
          + " (default: -Xms2g -Xmx2g -XX:+AlwaysPreTouch)."
    },
    mixinStandardHelpOptions = true)
final class BenchCommand implements Callable<Integer> {
  static final String DEFAULT_JVM_OPTS = "-Xms2g -Xmx2g -XX:+AlwaysPreTouch";

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "0..*", paramLabel = "ARGS", description = "bus|jmh and their options")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Path jar = benchJar();
    if (!Files.isRegularFile(jar)) {
      System.err.println(
          "cfn: the benchmark jar "
              + jar
              + " is missing; build it with ./mvnw -B -DskipTests package (the ./cfn launcher"
              + " does this when it is stale)");
      return 2;
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    String opts = System.getenv().getOrDefault("CFN_BENCH_JVM_OPTS", DEFAULT_JVM_OPTS);
    for (String o : opts.trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    if (Runtime.version().feature() >= 23 && !opts.contains("sun-misc-unsafe-memory-access")) {
      // Pekko and Scala use sun.misc.Unsafe; allow it quietly rather than print warnings.
      cmd.add("--sun-misc-unsafe-memory-access=allow");
    }
    cmd.add("--enable-native-access=ALL-UNNAMED"); // sqlite-jdbc loads a native library
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args.isEmpty() ? List.of("--help") : args);
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    return p.waitFor();
  }

  static Path benchJar() {
    String home = System.getProperty("cfn.home");
    Path root = home != null ? Path.of(home) : Path.of(".");
    return root.resolve("cfn-bench/target/cfn-bench.jar").toAbsolutePath().normalize();
  }
}
