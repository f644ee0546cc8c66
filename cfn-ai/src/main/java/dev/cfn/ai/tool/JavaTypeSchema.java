package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON Schema of a Java parameter type, for tools written as annotated methods. Integers carry
 * their type's range, so that a value the method could not receive is refused by validation.
 */
final class JavaTypeSchema {
  private JavaTypeSchema() {}

  /**
   * The schema of {@code type}.
   *
   * @param where names the parameter, for the error message
   * @throws IllegalArgumentException for a type without a JSON form here
   */
  static ObjectNode of(Type type, String where) {
    if (type instanceof Class<?> c) {
      return ofClass(c, where);
    }
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
      Type[] args = p.getActualTypeArguments();
      if (raw == List.class || raw == Collection.class || raw == Set.class) {
        ObjectNode array = ToolJson.object().put("type", "array");
        array.set("items", of(args[0], where));
        if (raw == Set.class) {
          array.put("uniqueItems", true);
        }
        return array;
      }
      if (raw == Map.class) {
        if (args[0] != String.class) {
          throw unsupported(type, where);
        }
        ObjectNode object = ToolJson.object().put("type", "object");
        object.set("additionalProperties", of(args[1], where));
        return object;
      }
    }
    if (type instanceof GenericArrayType g) {
      ObjectNode array = ToolJson.object().put("type", "array");
      array.set("items", of(g.getGenericComponentType(), where));
      return array;
    }
    throw unsupported(type, where);
  }

  private static ObjectNode ofClass(Class<?> c, String where) {
    if (c == String.class) {
      return ToolJson.object().put("type", "string");
    }
    if (c == char.class || c == Character.class) {
      return ToolJson.object().put("type", "string").put("minLength", 1).put("maxLength", 1);
    }
    if (c == int.class || c == Integer.class) {
      return integer(Integer.MIN_VALUE, Integer.MAX_VALUE);
    }
    if (c == long.class || c == Long.class) {
      return integer(Long.MIN_VALUE, Long.MAX_VALUE);
    }
    if (c == short.class || c == Short.class) {
      return integer(Short.MIN_VALUE, Short.MAX_VALUE);
    }
    if (c == byte.class || c == Byte.class) {
      return integer(Byte.MIN_VALUE, Byte.MAX_VALUE);
    }
    if (c == BigInteger.class) {
      return ToolJson.object().put("type", "integer");
    }
    if (c == double.class
        || c == Double.class
        || c == float.class
        || c == Float.class
        || c == BigDecimal.class) {
      return ToolJson.object().put("type", "number");
    }
    if (c == boolean.class || c == Boolean.class) {
      return ToolJson.object().put("type", "boolean");
    }
    if (c.isEnum()) {
      ObjectNode node = ToolJson.object().put("type", "string");
      ArrayNode values = node.putArray("enum");
      for (Object constant : c.getEnumConstants()) {
        values.add(((Enum<?>) constant).name());
      }
      return node;
    }
    if (c == com.fasterxml.jackson.databind.node.ObjectNode.class) {
      return ToolJson.object().put("type", "object");
    }
    if (c == com.fasterxml.jackson.databind.node.ArrayNode.class) {
      return ToolJson.object().put("type", "array");
    }
    if (c == JsonNode.class) {
      return ToolJson.object();
    }
    if (c.isArray() && c != byte[].class) {
      ObjectNode array = ToolJson.object().put("type", "array");
      array.set("items", ofClass(c.getComponentType(), where));
      return array;
    }
    throw unsupported(c, where);
  }

  private static ObjectNode integer(long min, long max) {
    ObjectNode node = ToolJson.object().put("type", "integer");
    if (min >= Integer.MIN_VALUE && max <= Integer.MAX_VALUE) {
      return node.put("minimum", (int) min).put("maximum", (int) max);
    }
    return node.put("minimum", min).put("maximum", max);
  }

  private static IllegalArgumentException unsupported(Type type, String where) {
    return new IllegalArgumentException(
        where
            + " has type "
            + type.getTypeName()
            + ", which has no JSON Schema here: use String, a number, boolean, an enum, a List, Set"
            + " or array of those, Map<String, ...>, or JsonNode");
  }
}
