package dev.cfn.certify;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    String storeSettings) {

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
        STORE_SETTINGS);
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
    return m;
  }

  /** One line: CPU, cores, memory, OS, JDK. */
  String describe() {
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
    try {
      Process p =
          new ProcessBuilder(List.of("git", "-C", dir.toString(), "rev-parse", "HEAD"))
              .redirectErrorStream(true)
              .start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      }
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "unknown";
      }
      if (p.exitValue() != 0 || !out.matches("[0-9a-f]{40}")) {
        return "unknown";
      }
      Process dirty =
          new ProcessBuilder(List.of("git", "-C", dir.toString(), "status", "--porcelain"))
              .redirectErrorStream(true)
              .start();
      String changes;
      try (InputStream in = dirty.getInputStream()) {
        changes = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      }
      dirty.waitFor(10, TimeUnit.SECONDS);
      return changes.isEmpty() ? out : out + " (with uncommitted changes)";
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
