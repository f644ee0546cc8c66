package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.store.journal.Fixtures.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The journal's payload codec shares Jackson's buffer recyclers across threads (one per message
 * would be made on virtual threads otherwise): payloads encoded at the same time on many virtual
 * threads must each come back whole, never with another's bytes.
 */
class PayloadCodecTest {

  @Test
  void payloadsEncodedAtOnceOnVirtualThreadsEachDecodeToThemselves() throws Exception {
    PayloadCodec codec = new PayloadCodec(PayloadCodec.newMapper(), List.of(Task.class));
    List<Future<Boolean>> results = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < 64; t++) {
        int thread = t;
        results.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    // sizes differ per thread and message, so a buffer handed back dirty shows
                    Object payload =
                        i % 2 == 0
                            ? new Task(
                                "t" + thread + "-" + i + "x".repeat(thread * 37 + i),
                                i,
                                List.of("tag" + thread))
                            : Map.of("thread", thread, "i", i, "pad", "y".repeat(i * 11));
                    PayloadCodec.Encoded encoded = codec.encode(payload);
                    if (!codec.decode(encoded.className(), encoded.json()).equals(payload)) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get()).isTrue();
      }
    }
  }
}
