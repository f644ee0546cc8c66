package dev.cfn.flow.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.flow.loop.Consensus.Vote;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The worked examples of {@link Consensus}'s javadoc, one by one. */
class ConsensusTest {
  private static final BigDecimal T90 = new BigDecimal("0.90");

  private static Vote approve(String c) {
    return new Vote(true, new BigDecimal(c));
  }

  private static Vote reject(String c) {
    return new Vote(false, new BigDecimal(c));
  }

  private static Consensus of(BigDecimal threshold, Vote... votes) {
    List<Vote> list = new ArrayList<>(List.of(votes));
    return Consensus.of(list, threshold, LoopSpec.defaultQuorum(list.size()));
  }

  @Test
  void theWorkedExamples() {
    Consensus one = of(T90, approve("0.95"), approve("0.92"), approve("0.90"));
    assertThat(one.reached()).isTrue();
    assertThat(one.describe()).startsWith("0.9233 ≥ 0.90");

    Consensus two = of(T90, approve("0.95"), approve("0.95"), approve("0.80"));
    assertThat(two.reached()).as("exactly at the threshold").isTrue();
    assertThat(two.score()).isEqualByComparingTo("0.9");

    assertThat(of(T90, approve("0.8999"), approve("0.8999")).reached()).isFalse();
    assertThat(of(T90, approve("0.90"), approve("0.90")).reached()).isTrue();

    Consensus four = of(T90, approve("0.99"), approve("0.99"), reject("0.60"));
    assertThat(four.reached()).isFalse();
    assertThat(four.score()).isEqualByComparingTo("0.66");

    Consensus five = of(T90, approve("1.0"), approve("1.0"), approve("1.0"), Vote.UNREADABLE);
    assertThat(five.readable()).isEqualTo(3);
    assertThat(five.quorum()).isEqualTo(3);
    assertThat(five.reached()).isFalse();
    assertThat(five.score()).isEqualByComparingTo("0.75");

    Consensus six = of(T90, approve("1.0"), Vote.UNREADABLE, Vote.UNREADABLE);
    assertThat(six.readable()).isLessThan(six.quorum());
    assertThat(six.reached()).isFalse();
    assertThat(six.describe()).endsWith("(1 of 3 readable, quorum 2): no consensus");

    Consensus seven =
        of(new BigDecimal("0.60"), approve("0.9"), approve("0.9"), approve("0.8"), reject("0.99"));
    assertThat(seven.reached()).isTrue();
    assertThat(seven.score()).isEqualByComparingTo("0.65");
  }

  @Test
  void theQuorumAloneCanBlock() {
    // threshold 0: any score passes, but 1 readable verdict of 3 is below the quorum of 2
    assertThat(of(BigDecimal.ZERO, approve("1"), Vote.UNREADABLE, Vote.UNREADABLE).reached())
        .isFalse();
    assertThat(of(BigDecimal.ZERO, reject("1"), reject("1"), Vote.UNREADABLE).reached()).isTrue();
  }

  @Test
  void defaultQuorumIsTwoThirdsRoundedUp() {
    assertThat(LoopSpec.defaultQuorum(2)).isEqualTo(2);
    assertThat(LoopSpec.defaultQuorum(3)).isEqualTo(2);
    assertThat(LoopSpec.defaultQuorum(4)).isEqualTo(3);
  }
}
