package dev.cfn.flow.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agents' answers are read strictly: one JSON object, known fields, typed values. */
class RepliesTest {
  @Test
  void aPlainOrFencedObjectIsRead() throws Exception {
    assertThat(Replies.implementation("{\"result\": \"x\", \"confidence\": 0.75}").confidence())
        .isEqualByComparingTo("0.75");
    assertThat(
            Replies.implementation("```json\n{\"result\": \"x\", \"confidence\": 1}\n```").result())
        .isEqualTo("x");
    Replies.Verdict v =
        Replies.verdict("{\"verdict\": \"reject\", \"confidence\": 0.5, \"findings\": [\"a\"]}");
    assertThat(v.approve()).isFalse();
    assertThat(v.findings()).containsExactly("a");
    assertThat(Replies.ownerDecision("{\"decision\": \"defer\"}").decision()).isEqualTo("DEFER");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"result\": \"x\"}|no \"confidence\"",
        "{\"result\": \"x\", \"confidence\": \"0.9\"}|not a number",
        "{\"result\": \"x\", \"confidence\": 1.01}|outside [0,1]",
        "{\"result\": \"x\", \"confidence\": -0.1}|outside [0,1]",
        "{\"result\": \"\", \"confidence\": 0.9}|\"result\" is missing",
        "Sure! {\"result\": \"x\", \"confidence\": 0.9}|not one JSON object",
        "{\"result\": \"x\", \"confidence\": 0.9} thanks|not valid JSON",
        "{\"result\": \"x\", \"confidence\": 0.9, \"mood\": 1}|field \"mood\"",
        "{\"result\": \"x\", \"confidence\": 0.9, \"confidence\": 1}|not valid JSON"
      })
  void anythingElseIsRefusedSayingWhy(String text, String why) {
    assertThatThrownBy(() -> Replies.implementation(text))
        .isInstanceOf(Replies.Unreadable.class)
        .hasMessageContaining(why)
        .hasMessageContaining(Replies.IMPLEMENTER_FORMAT);
  }

  @Test
  void aFenceOfAnotherLanguageOrNothingIsRefused() {
    assertThatThrownBy(() -> Replies.implementation("```python\n{}\n```"))
        .hasMessageContaining("not json");
    assertThatThrownBy(() -> Replies.implementation("  ")).hasMessageContaining("empty");
  }

  @Test
  void verdictsAndDecisionsAreChecked() {
    assertThatThrownBy(() -> Replies.verdict("{\"verdict\": \"maybe\", \"confidence\": 0.5}"))
        .hasMessageContaining("not \"approve\" or \"reject\"");
    assertThatThrownBy(() -> Replies.ownerDecision("{\"decision\": \"SHIP\"}"))
        .hasMessageContaining("not PROCEED, DEFER or ESCALATE");
    assertThatThrownBy(
            () -> Replies.verdict("{\"verdict\": \"approve\", \"confidence\": 1, \"findings\": 3}"))
        .hasMessageContaining("not a list of strings");
  }
}
