package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The latest report of a home: where it is, that saving creates its folder and replaces it. */
class ReportFilesTest {
  @TempDir Path home;

  @Test
  void theLatestReportIsUnderTheHomesCfnFolder() {
    assertThat(ReportFiles.latest(home))
        .isEqualTo(home.resolve(".cfn").resolve("certify").resolve("certification.json"));
  }

  @Test
  void savingCreatesTheFolderThenReplacesTheReportLeavingNoTempFile() throws IOException {
    Path file = ReportFiles.saveLatest("{\"level\": \"FULL\"}\n", home);
    assertThat(file).isEqualTo(ReportFiles.latest(home)).hasContent("{\"level\": \"FULL\"}");
    ReportFiles.saveLatest("{\"level\": \"PARTIAL\"}\n", home);
    assertThat(file).hasContent("{\"level\": \"PARTIAL\"}");
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void aHomeThatCannotHoldTheFolderFailsAndChangesNothing() throws IOException {
    Path notAFolder = Files.writeString(home.resolve("file"), "x");
    assertThatThrownBy(() -> ReportFiles.saveLatest("{}", notAFolder))
        .isInstanceOf(IOException.class);
    assertThat(notAFolder).hasContent("x");
  }
}
