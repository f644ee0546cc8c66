package dev.cfn.ai.internal.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.util.RecyclerPool;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Makes the Jackson mappers cfn-ai uses, with a buffer recycler pool shared across threads.
 *
 * <p>Why: Jackson's default pool keeps one {@link BufferRecycler} per thread (a {@code
 * ThreadLocal}). cfn runs every message on a new virtual thread, so each parse or write allocated a
 * fresh recycler (its char and byte buffers, about 30 % of the bytes a model call allocated) that
 * was never used again. {@link JsonRecyclerPools#sharedConcurrentDequePool()} keeps released
 * recyclers in one {@code ConcurrentLinkedDeque} that any thread takes from, so a recycler is
 * reused by the next call whatever thread it runs on; the deque holds at most as many recyclers as
 * calls ever ran at once.
 */
public final class JsonMappers {
  private JsonMappers() {}

  /**
   * The pool every mapper made here uses.
   *
   * @return Jackson's shared concurrent-deque pool
   */
  public static RecyclerPool<BufferRecycler> recyclerPool() {
    return JsonRecyclerPools.sharedConcurrentDequePool();
  }

  /**
   * Starts a mapper on a factory that recycles buffers through {@link #recyclerPool()}; add
   * features and {@code build()} it.
   *
   * @return a builder
   */
  public static JsonMapper.Builder builder() {
    return JsonMapper.builder(JsonFactory.builder().recyclerPool(recyclerPool()).build());
  }

  /**
   * A mapper with Jackson's defaults and the shared recycler pool.
   *
   * @return a new mapper; keep it (mappers are thread-safe and costly to make)
   */
  public static JsonMapper create() {
    return builder().build();
  }
}
