package dev.cfn.cli;

import java.math.BigDecimal;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

/**
 * How every command reads durations, paths and numbers, so that each is written one way across the
 * command line and a bad value is reported in one line with the fix (picocli puts it after "Invalid
 * value for option '--x': ").
 */
final class ValueConverters {
  /** The longest duration any option takes: a hundred years. */
  static final Duration LONGEST = Duration.ofDays(36_500);

  private ValueConverters() {}

  /** Registers the converters on {@code cl} and every subcommand it already has. */
  static void register(CommandLine cl) {
    cl.registerConverter(Duration.class, ValueConverters::duration);
    cl.registerConverter(Path.class, ValueConverters::path);
    cl.registerConverter(BigDecimal.class, ValueConverters::decimal);
    cl.registerConverter(Integer.class, ValueConverters::integer);
    cl.registerConverter(Integer.TYPE, ValueConverters::integer);
    cl.registerConverter(Long.class, ValueConverters::whole);
    cl.registerConverter(Long.TYPE, ValueConverters::whole);
  }

  private static final Pattern SHORT = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

  /**
   * {@code 250ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 7d}, or ISO-8601 ({@code PT10M});
   * zero and negative durations are accepted here (each option says whether they make sense), those
   * above {@link #LONGEST} are not.
   */
  static Duration duration(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    Duration d = null;
    Matcher m = SHORT.matcher(t);
    try {
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        d =
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              case "h" -> Duration.ofHours(n);
              default -> Duration.ofDays(n);
            };
      } else if (t.startsWith("p") || t.startsWith("-p")) {
        d = Duration.parse(t.toUpperCase(Locale.ROOT));
      }
    } catch (DateTimeParseException | ArithmeticException e) {
      d = null;
    }
    if (d == null) {
      throw new TypeConversionException(
          "'"
              + text
              + "' is not a duration (fix: a number and a unit, such as 250ms, 10s, 5m, 1h or 7d,"
              + " or ISO-8601 such as PT10M)");
    }
    if (d.compareTo(LONGEST) > 0) {
      throw new TypeConversionException(
          "'" + text + "' is longer than 100 years (fix: give at most 36500d)");
    }
    return d;
  }

  /** A path; the empty string is refused rather than read as the current folder. */
  static Path path(String text) {
    if (text.isBlank()) {
      throw new TypeConversionException(
          "an empty path (fix: give a file or folder name, or leave the option out for its"
              + " default)");
    }
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new TypeConversionException("'" + text + "' is not a path: " + e.getReason());
    }
  }

  static BigDecimal decimal(String text) {
    try {
      return new BigDecimal(text.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + text + "' is not a number (fix: such as 0.50)");
    }
  }

  static Integer integer(String text) {
    try {
      return Integer.valueOf(text.strip().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new TypeConversionException(
          "'" + text + "' is not a whole number (fix: digits only, such as 25)");
    }
  }

  static Long whole(String text) {
    try {
      return Long.valueOf(text.strip().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new TypeConversionException(
          "'" + text + "' is not a whole number (fix: digits only, such as 25)");
    }
  }

  /** Refuses {@code value < min} for option {@code name} as bad usage. */
  static void atLeast(String name, long value, long min) {
    if (value < min) {
      throw CommandFailure.usage(
          name + " must be at least " + min + ", was " + value,
          "give " + name + " " + Math.max(min, 1));
    }
  }

  /** Refuses zero and negative durations for option {@code name}. */
  static void positive(String name, Duration value) {
    if (value != null && (value.isZero() || value.isNegative())) {
      throw CommandFailure.usage(
          name + " must be positive, was " + text(value), "such as " + name + " 10s");
    }
  }

  /** A duration as a person writes it: 250ms, 10s, 5m, 2h, else ISO-8601. */
  static String text(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms != 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms != 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
