package dev.cfn.store.journal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns payloads into JSON and back, through an allow-list.
 *
 * <p>A payload is stored as its JSON bytes and a class name. Decoding looks the stored name up in
 * the allow-list and never loads a class by name, so a journal file cannot make the process
 * instantiate a class of its choosing. Allowed: {@link String}, {@code byte[]}, the boxed
 * primitives, plain JSON {@link Map}s and {@link List}s (stored as {@code java.util.Map} and {@code
 * java.util.List} and decoded as {@link LinkedHashMap} and {@link java.util.ArrayList}; their
 * contents must be strings, numbers, booleans, nulls, maps with string keys and lists, so nothing
 * silently comes back as a different type, although numbers come back as the smallest of Integer,
 * Long, BigInteger or as Double) and the exact classes registered with {@code payloadType(...)}
 * (records, enums, beans Jackson can build).
 */
final class PayloadCodec {
  static final String MAP = "java.util.Map";
  static final String LIST = "java.util.List";

  private static final Map<String, Class<?>> BUILT_IN =
      Map.ofEntries(
          Map.entry(String.class.getName(), String.class),
          Map.entry(byte[].class.getName(), byte[].class),
          Map.entry(Boolean.class.getName(), Boolean.class),
          Map.entry(Character.class.getName(), Character.class),
          Map.entry(Byte.class.getName(), Byte.class),
          Map.entry(Short.class.getName(), Short.class),
          Map.entry(Integer.class.getName(), Integer.class),
          Map.entry(Long.class.getName(), Long.class),
          Map.entry(Float.class.getName(), Float.class),
          Map.entry(Double.class.getName(), Double.class),
          Map.entry(MAP, Map.class),
          Map.entry(LIST, List.class));

  /** A payload as stored: its class name and JSON. */
  record Encoded(String className, byte[] json) {}

  private final ObjectMapper mapper;
  private final Map<String, Class<?>> allowed;

  PayloadCodec(ObjectMapper mapper, Collection<Class<?>> registered) {
    this.mapper = mapper;
    Map<String, Class<?>> all = new LinkedHashMap<>(BUILT_IN);
    for (Class<?> type : registered) {
      all.put(type.getName(), type);
    }
    this.allowed = Map.copyOf(all);
  }

  /**
   * A mapper whose buffers are recycled through Jackson's shared concurrent-deque pool rather than
   * its default per-thread one: payloads are encoded on the sender's thread, for handlers a new
   * virtual thread per message, so a per-thread recycler was made for each message and dropped (its
   * byte and char buffers were most of the bytes a RELIABLE send allocated). The shared pool hands
   * a released recycler to the next encode whatever thread it runs on.
   */
  static ObjectMapper newMapper() {
    return JsonMapper.builder(
            JsonFactory.builder()
                .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                .build())
        .build();
  }

  /** Checks a type given to {@code payloadType(...)}; throws naming the problem. */
  static void checkRegistrable(Class<?> type) {
    if (type.isPrimitive() || type.isArray() || type.isInterface()) {
      throw new IllegalArgumentException(
          "payloadType("
              + type.getName()
              + "): register a concrete class, record or enum, not a primitive, array or interface");
    }
    if (Modifier.isAbstract(type.getModifiers()) && !type.isEnum()) {
      throw new IllegalArgumentException(
          "payloadType("
              + type.getName()
              + "): the class is abstract, so it could not be rebuilt from the journal; register"
              + " each concrete class instead");
    }
  }

  /**
   * Encodes {@code payload}; throws {@link IllegalArgumentException} naming the class and the fix
   * when it is not allowed, and {@link IllegalStateException} when Jackson cannot write it.
   */
  Encoded encode(Object payload) {
    String name = storedName(payload);
    try {
      return new Encoded(name, mapper.writeValueAsBytes(payload));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "cannot write payload " + name + " as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Decodes a stored payload. Throws {@link IllegalArgumentException} when {@code className} is not
   * on the allow-list (naming the fix) and {@link IllegalStateException} when the JSON does not fit
   * the class.
   */
  Object decode(String className, byte[] json) {
    Class<?> type = allowed.get(className);
    if (type == null) {
      throw new IllegalArgumentException(notRegistered(className));
    }
    try {
      return mapper.readValue(json, type);
    } catch (IOException e) {
      throw new IllegalStateException(
          "payload JSON does not fit " + className + ": " + e.getMessage(), e);
    }
  }

  /** Like {@link #decode}, but a class not on the allow-list comes back as a {@link RawPayload}. */
  Object decodeOrRaw(String className, byte[] json) {
    if (!allowed.containsKey(className)) {
      return new RawPayload(className, new String(json, StandardCharsets.UTF_8));
    }
    return decode(className, json);
  }

  private String storedName(Object payload) {
    if (payload instanceof Map<?, ?> map) {
      checkPlainJson(map, "payload");
      return MAP;
    }
    if (payload instanceof List<?> list) {
      checkPlainJson(list, "payload");
      return LIST;
    }
    String name = payload.getClass().getName();
    if (allowed.get(name) != payload.getClass()) {
      throw new IllegalArgumentException(notRegistered(name));
    }
    return name;
  }

  private static String notRegistered(String className) {
    return "payload class "
        + className
        + " is not allowed in the journal: register it with"
        + " SqliteJournal.builder(file).payloadType("
        + className
        + ".class) (built in: String, byte[], boxed primitives, plain JSON Map and List)";
  }

  private static void checkPlainJson(Object value, String path) {
    switch (value) {
      case null -> {}
      case String s -> {}
      case Boolean b -> {}
      case Integer i -> {}
      case Long l -> {}
      case Double d -> {}
      case BigInteger i -> {}
      case BigDecimal d -> {}
      case Map<?, ?> map -> {
        for (Map.Entry<?, ?> entry : map.entrySet()) {
          if (!(entry.getKey() instanceof String key)) {
            throw new IllegalArgumentException(
                path
                    + " is a Map with a key that is not a String; journal payload maps need"
                    + " string keys");
          }
          checkPlainJson(entry.getValue(), path + "." + key);
        }
      }
      case List<?> list -> {
        for (int i = 0; i < list.size(); i++) {
          checkPlainJson(list.get(i), path + "[" + i + "]");
        }
      }
      default ->
          throw new IllegalArgumentException(
              path
                  + " holds a "
                  + value.getClass().getName()
                  + "; a Map or List payload may hold only strings, numbers, booleans, nulls, maps"
                  + " and lists (it would come back as a plain map), so send a registered"
                  + " payloadType(...) instead");
    }
  }
}
