package dev.cfn.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextFileTest {
  @TempDir Path tmp;

  @Test
  void readsUtf8Text() throws Exception {
    Path f = tmp.resolve("ok.yaml");
    Files.writeString(f, "graph: g\nname: caf\u00e9 \u2713\n", StandardCharsets.UTF_8);
    assertThat(TextFile.readUtf8(f)).isEqualTo("graph: g\nname: caf\u00e9 \u2713\n");
    assertThat(TextFile.readUtf8(Files.write(tmp.resolve("empty"), new byte[0]))).isEmpty();
  }

  @Test
  void namesTheFirstByteThatIsNotUtf8ByLineAndPosition() throws Exception {
    Path f = Files.write(tmp.resolve("bad"), new byte[] {'a', '\n', 'b', 'c', (byte) 0xFF, 'd'});
    assertThatThrownBy(() -> TextFile.readUtf8(f))
        .isInstanceOf(TextFile.NotTextException.class)
        .hasMessage("the file is not UTF-8 text: byte 0xFF at line 2, byte 3 of the line")
        .satisfies(e -> assertThat(((TextFile.NotTextException) e).line()).isEqualTo(2));
  }

  @Test
  void aTruncatedSequenceAtTheEndIsNotText() throws Exception {
    // the first two bytes of a three-byte character, then the end of the file
    Path f = Files.write(tmp.resolve("cut"), new byte[] {'x', (byte) 0xE2, (byte) 0x9C});
    assertThatThrownBy(() -> TextFile.readUtf8(f))
        .isInstanceOf(TextFile.NotTextException.class)
        .hasMessageStartingWith("the file is not UTF-8 text: byte 0xE2 at line 1, byte 2");
  }

  @Test
  void asciiRefusesEightBitBytes() throws Exception {
    Path f = Files.write(tmp.resolve("pem"), "-----BEGIN\n\u00e9".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> TextFile.read(f, StandardCharsets.US_ASCII))
        .isInstanceOf(TextFile.NotTextException.class)
        .hasMessage("the file is not ASCII text: byte 0xC3 at line 2, byte 1 of the line");
  }

  @Test
  void aMissingFileIsAnIoErrorNotATextError() {
    assertThatThrownBy(() -> TextFile.readUtf8(tmp.resolve("none")))
        .isInstanceOf(java.nio.file.NoSuchFileException.class);
  }
}
