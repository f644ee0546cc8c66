package dev.cfn.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a result was measured on: CPU, cores, OS, JDK and the JVM's heap and flags. */
record Machine(
    String cpuModel,
    int cores,
    String os,
    String jdk,
    String jdkVendor,
    String vm,
    long maxHeapBytes,
    List<String> jvmArgs) {

  static Machine current() {
    return new Machine(
        readCpuModel(),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"),
        Runtime.version().toString(),
        System.getProperty("java.vendor"),
        System.getProperty("java.vm.name"),
        Runtime.getRuntime().maxMemory(),
        ManagementFactory.getRuntimeMXBean().getInputArguments());
  }

  private static String readCpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return System.getProperty("os.arch");
  }

  Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpuModel", cpuModel);
    m.put("cores", cores);
    m.put("os", os);
    m.put("jdk", jdk);
    m.put("jdkVendor", jdkVendor);
    m.put("vm", vm);
    m.put("maxHeapBytes", maxHeapBytes);
    m.put("jvmArgs", jvmArgs);
    return m;
  }

  String describe() {
    return cpuModel
        + ", "
        + cores
        + " cores, "
        + os
        + "; JDK "
        + jdk
        + " ("
        + jdkVendor
        + "); max heap "
        + (maxHeapBytes >> 20)
        + " MiB; JVM args "
        + jvmArgs;
  }
}
