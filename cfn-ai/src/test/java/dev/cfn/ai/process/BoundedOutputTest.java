package dev.cfn.ai.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The bounded buffers that hold process output: memory stays bounded and every cut is flagged. */
class BoundedOutputTest {

  private static void write(HeadBuffer b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.write(bytes, 0, bytes.length);
  }

  private static void write(TailBuffer b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.write(bytes, 0, bytes.length);
  }

  @Test
  void head_keeps_the_first_bytes_and_flags_the_rest() {
    HeadBuffer head = new HeadBuffer(5);
    write(head, "abc");
    assertThat(head.truncated()).isFalse();
    write(head, "defgh");

    assertThat(head.text(StandardCharsets.UTF_8)).isEqualTo("abcde");
    assertThat(head.truncated()).isTrue();
  }

  @Test
  void tail_keeps_the_last_bytes_across_wraps_and_since_a_mark() {
    TailBuffer tail = new TailBuffer(4);
    write(tail, "ab");
    long mark = tail.written();
    write(tail, "cde");

    assertThat(tail.all(StandardCharsets.UTF_8)).isEqualTo(new TailBuffer.Tail("bcde", true));
    assertThat(tail.since(mark, StandardCharsets.UTF_8))
        .isEqualTo(new TailBuffer.Tail("cde", false));

    write(tail, "0123456789");
    assertThat(tail.since(mark, StandardCharsets.UTF_8))
        .isEqualTo(new TailBuffer.Tail("6789", true));
  }

  @Test
  void line_reader_cuts_long_lines_and_stays_in_step() throws IOException {
    String input = "short\r\n" + "x".repeat(20_000) + "\nnext\nlast";
    LineReader reader =
        new LineReader(
            new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
            StandardCharsets.UTF_8);

    assertThat(reader.read(10)).isEqualTo(new LineReader.Line("short", false, 5, true));
    assertThat(reader.read(10)).isEqualTo(new LineReader.Line("xxxxxxxxxx", true, 20_000, true));
    assertThat(reader.read(10)).isEqualTo(new LineReader.Line("next", false, 4, true));
    assertThat(reader.read(10)).isEqualTo(new LineReader.Line("last", false, 4, false));
    assertThat(reader.read(10)).isNull();
  }
}
