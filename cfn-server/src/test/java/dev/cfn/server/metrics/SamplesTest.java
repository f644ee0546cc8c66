package dev.cfn.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplesTest {
  @Test
  void readsNamesLabelsAndValuesAndSumsMatchingSeries() {
    Samples s =
        Samples.parse(
            """
            # HELP cfn_errors_total errors by kind
            # TYPE cfn_errors_total counter
            cfn_errors_total{kind="handler"} 3.0
            cfn_errors_total{kind="delivery",note="a \\"quoted\\", value"} 4.0
            cfn_up 1
            cfn_latency_seconds{quantile="0.95"} 1.5E-4
            cfn_nan NaN
            """);
    assertThat(s.sum("cfn_errors_total", Map.of())).hasValue(7.0);
    assertThat(s.sum("cfn_errors_total", Map.of("kind", "handler"))).hasValue(3.0);
    assertThat(s.sum("cfn_errors_total", Map.of("note", "a \"quoted\", value"))).hasValue(4.0);
    assertThat(s.sum("cfn_up", Map.of())).hasValue(1.0);
    assertThat(s.sum("cfn_latency_seconds", Map.of("quantile", "0.95"))).hasValue(1.5e-4);
    assertThat(s.sum("cfn_missing", Map.of())).isEmpty();
    assertThat(s.sum("cfn_errors_total", Map.of("kind", "other"))).isEmpty();
  }
}
