package dev.cfn.core.spi;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON syntax check behind {@code Effects.putJson}. */
class JsonTextTest {
  @Test
  void jsonTextAcceptsJsonAndNothingElse() {
    for (String ok :
        List.of(
            "0", "-1.5E+3", "\"\"", "[]", "{}", " {\"a\":{\"b\":[null,false]}} ", "\"\\\"\\n\"")) {
      JsonText.check(ok);
    }
    for (String bad :
        List.of(
            "",
            "01",
            "1.",
            "[1,]",
            "{\"a\"}",
            "{a:1}",
            "'x'",
            "tru",
            "[1] 2",
            "\"\u0001\"",
            "\"\\x\"",
            "\"open",
            "[".repeat(300) + "]".repeat(300),
            "NaN")) {
      assertThatThrownBy(() -> JsonText.check(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
