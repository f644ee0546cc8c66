package dev.cfn.cli;

/**
 * The log level of this process: slf4j-simple writes to standard error at WARN by default ({@code
 * simplelogger.properties} in this jar), so standard output carries only a command's result; {@code
 * -v} lowers it to INFO and {@code --debug} to DEBUG. slf4j-simple reads its settings once, when
 * the first logger is made, which happens only after the options are parsed.
 */
final class Logging {
  static final String LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

  private Logging() {}

  /** Sets the level unless the user set one with {@code -D}; to take effect before any logger. */
  static void level(String level) {
    if (!USER_SET) {
      System.setProperty(LEVEL, level);
    }
  }

  private static final boolean USER_SET = System.getProperty(LEVEL) != null;

  /**
   * Sets the level from {@code -v}/{@code --verbose}/{@code --debug} among {@code args}, up to
   * {@code --} or {@code jmh} (whose arguments, {@code -v} included, are JMH's).
   */
  static void fromArguments(String[] args) {
    for (String a : args) {
      if (a.equals("--") || a.equals("jmh")) {
        return;
      }
      if (a.equals("--debug")) {
        level("debug");
        return;
      }
      if (a.equals("-v") || a.equals("--verbose")) {
        level("info");
      }
    }
  }

  /** The JVM flag that gives a child JVM (a benchmark, a chaos worker) this process's level. */
  static String childFlag() {
    String level = System.getProperty(LEVEL);
    return level == null ? null : "-D" + LEVEL + "=" + level;
  }
}
