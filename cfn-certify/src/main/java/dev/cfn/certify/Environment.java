package dev.cfn.certify;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a certification ran on: CPU model, cores, memory, OS, JDK, cfn's version and git commit, and
 * the store settings the checks used.
 *
 * @param cpuModel the CPU's model name
 * @param cores the processors the JVM sees
 * @param memoryBytes the machine's physical memory ({@code /proc/meminfo}), 0 when unknown
 * @param maxHeapBytes the certifying JVM's maximum heap
 * @param os the operating system, version and architecture
 * @param jdk the Java runtime's version and vendor
 * @param cfnVersion cfn's version
 * @param gitCommit the commit cfn was built from, or {@code unknown}
 * @param storeSettings the SQLite settings the stores ran with
 * @param loadAverage the machine's load average over 1, 5 and 15 minutes when the certification
 *     started ({@link #loadAverageNow}): figures measured while other work runs are noisy
 */
public record Environment(
    String cpuModel,
    int cores,
    long memoryBytes,
    long maxHeapBytes,
    String os,
    String jdk,
    String cfnVersion,
    String gitCommit,
    String storeSettings,
    String loadAverage) {

  /** The store settings every check uses: cfn's defaults. */
  static final String STORE_SETTINGS =
      "SQLite (sqlite-jdbc), WAL journal mode, synchronous=FULL (every commit fsynced): the"
          + " defaults of SqliteJournal, SqliteMemoryStore and SqliteCallLogStore";

  /**
   * This machine; {@code cfnVersion} as the caller knows it, the commit read with {@code git} in
   * {@code sourceDir} (the project folder) when it is a git work tree.
   */
  public static Environment current(String cfnVersion, Path sourceDir) {
    return new Environment(
        readCpuModel(),
        Runtime.getRuntime().availableProcessors(),
        readMemory(),
        Runtime.getRuntime().maxMemory(),
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"),
        Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
        cfnVersion,
        gitCommit(sourceDir),
        STORE_SETTINGS,
        loadAverageNow());
  }

  /**
   * The machine's load average over 1, 5 and 15 minutes, from {@code /proc/loadavg} ({@code 0.52
   * 0.61 0.40}); the 1-minute figure alone where there is no such file; {@code unknown} where the
   * platform does not tell.
   */
  public static String loadAverageNow() {
    try {
      String[] f =
          Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).strip().split(" ");
      if (f.length >= 3) {
        return f[0] + " " + f[1] + " " + f[2];
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    double one = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return one < 0 ? "unknown" : String.format(java.util.Locale.ROOT, "%.2f", one);
  }

  Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpuModel", cpuModel);
    m.put("cores", cores);
    m.put("memoryBytes", memoryBytes);
    m.put("maxHeapBytes", maxHeapBytes);
    m.put("os", os);
    m.put("jdk", jdk);
    m.put("jvmArgs", ManagementFactory.getRuntimeMXBean().getInputArguments());
    m.put("cfnVersion", cfnVersion);
    m.put("gitCommit", gitCommit);
    m.put("storeSettings", storeSettings);
    m.put("loadAverageAtStart", loadAverage);
    return m;
  }

  /** One line: CPU, cores, memory, OS, JDK (with every result: the figures depend on them). */
  public String describe() {
    return cpuModel
        + ", "
        + cores
        + " cores, "
        + (memoryBytes > 0 ? (memoryBytes >> 20) + " MiB memory, " : "")
        + os
        + ", JDK "
        + jdk;
  }

  private static String readCpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    return System.getProperty("os.arch");
  }

  private static long readMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.UTF_8)) {
        if (line.startsWith("MemTotal:")) {
          String kb = line.substring("MemTotal:".length()).replace("kB", "").strip();
          return Long.parseLong(kb) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    return 0;
  }

  private static String gitCommit(Path dir) {
    if (dir == null
        || !Files.isDirectory(dir.resolve(".git")) && !Files.isRegularFile(dir.resolve(".git"))) {
      return "unknown";
    }
    String commit = git(dir, "rev-parse", "HEAD");
    if (commit == null || !commit.matches("[0-9a-f]{40}")) {
      return "unknown";
    }
    String changes = git(dir, "status", "--porcelain");
    if (changes == null) {
      return commit + " (uncommitted changes not known)";
    }
    return changes.isEmpty() ? commit : commit + " (with uncommitted changes)";
  }

  /** What {@code git -C dir args} printed, stripped; null when it failed or took over 10 s. */
  private static String git(Path dir, String... args) {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      }
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
