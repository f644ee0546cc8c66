package dev.cfn.certify;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Small sizes for the tests: each check runs for seconds, not minutes. */
final class TestProfiles {
  private TestProfiles() {}

  static Profile tiny() {
    return new Profile(
        "test",
        2_000,
        Duration.ofMillis(200),
        1_000,
        20,
        8,
        Duration.ofMillis(200),
        Duration.ofMillis(600),
        List.of(100, 1_000),
        Duration.ofSeconds(30),
        600,
        2,
        1,
        50,
        1,
        100,
        300,
        50,
        Duration.ofSeconds(8),
        1,
        Duration.ofSeconds(3),
        1,
        Duration.ofMillis(2000));
  }

  static Check.Context context(Profile profile, Path work) {
    return new Check.Context(profile, Targets.defaults(), Progress.NONE, work);
  }
}
