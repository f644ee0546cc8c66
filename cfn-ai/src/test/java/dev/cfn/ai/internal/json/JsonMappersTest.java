package dev.cfn.ai.internal.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class JsonMappersTest {
  /**
   * A hundred parses and writes, each on a virtual thread of its own as cfn runs messages, one
   * after another: the default per-thread pool would make a hundred recyclers and drop them; the
   * shared pool makes one, and every later thread takes it back out.
   */
  @Test
  void oneRecyclerServesEveryVirtualThreadInTurn() throws Exception {
    ObjectMapper mapper = JsonMappers.create();
    var pool = mapper.getFactory()._getRecyclerPool();
    assertThat(pool).isSameAs(JsonRecyclerPools.sharedConcurrentDequePool());
    pool.clear();
    for (int i = 0; i < 100; i++) {
      int n = i;
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread t =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      JsonNode node = mapper.readTree("{\"n\":" + n + ",\"text\":\"hello\"}");
                      assertThat(mapper.writeValueAsString(node)).contains("\"n\":" + n);
                    } catch (Throwable e) {
                      failed.set(e);
                    }
                  });
      t.join();
      assertThat(failed.get()).isNull();
    }
    assertThat(pool.pooledCount()).as("recyclers made for 100 threads").isEqualTo(1);
  }

  @Test
  void aBuilderKeepsThePoolUnderAddedFeatures() {
    ObjectMapper mapper =
        JsonMappers.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    assertThat(mapper.getFactory()._getRecyclerPool()).isSameAs(JsonMappers.recyclerPool());
  }
}
