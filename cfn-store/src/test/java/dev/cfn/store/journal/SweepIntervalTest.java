package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The periodic sweep runs every tenth of the retention, kept between a second and an hour. */
class SweepIntervalTest {

  @Test
  void aTenthOfTheRetentionToTheNanosecond() {
    assertThat(SqliteJournal.Builder.sweepInterval(Duration.ofSeconds(25)))
        .isEqualTo(Duration.ofMillis(2_500));
    assertThat(SqliteJournal.Builder.sweepInterval(Duration.ofSeconds(37, 5)))
        .isEqualTo(Duration.ofSeconds(37, 5).dividedBy(10));
    assertThat(SqliteJournal.Builder.sweepInterval(Duration.ofMinutes(7)))
        .isEqualTo(Duration.ofSeconds(42));
  }

  @Test
  void neverBelowASecondNorAboveAnHour() {
    assertThat(SqliteJournal.Builder.sweepInterval(Duration.ofMillis(10)))
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(SqliteJournal.Builder.sweepInterval(Duration.ofDays(7)))
        .isEqualTo(Duration.ofHours(1));
    assertThat(SqliteJournal.Builder.sweepInterval(Duration.ofSeconds(Long.MAX_VALUE)))
        .isEqualTo(Duration.ofHours(1));
  }
}
