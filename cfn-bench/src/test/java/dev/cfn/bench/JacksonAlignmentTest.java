package dev.cfn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.Version;
import dev.cfn.ai.LlmAgent;
import dev.langchain4j.model.openai.OpenAiChatModel;
import org.junit.jupiter.api.Test;

/**
 * cfn-bom beside LangChain4j in one build: this module imports {@code cfn-bom} as a user's build
 * would and depends on cfn-ai and on LangChain4j 1.x, whose own jackson-core is older than cfn's
 * jackson-databind (without the BOM Maven resolves jackson-databind 2.23.0 with jackson-core
 * 2.22.1). With the BOM the Jackson modules on the class path are one release, read here from the
 * versions the jars themselves report.
 */
class JacksonAlignmentTest {

  @Test
  void cfnAiBesideLangChain4jResolvesOneJacksonRelease() {
    // both libraries are on this class path, so the resolution under test is theirs together
    assertThat(LlmAgent.class.getName()).startsWith("dev.cfn.ai");
    assertThat(OpenAiChatModel.class.getName()).startsWith("dev.langchain4j");

    Version core = com.fasterxml.jackson.core.json.PackageVersion.VERSION;
    Version databind = com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION;
    assertThat(core.isUnknownVersion()).isFalse();
    // Version.equals also compares the artifact ids, which differ: compare the release
    assertThat(databind.toString())
        .as("jackson-databind %s beside jackson-core %s", databind, core)
        .isEqualTo(core.toString());
    assertThat(core.getArtifactId()).isEqualTo("jackson-core");
    assertThat(databind.getArtifactId()).isEqualTo("jackson-databind");
  }
}
