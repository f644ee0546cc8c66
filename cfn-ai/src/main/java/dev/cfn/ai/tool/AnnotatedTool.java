package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.model.ToolSpec;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A tool that is a {@link ToolMethod} of an object: the schema comes from the {@link Param}
 * parameters, a call converts each argument to its parameter's type with Jackson, invokes the
 * method and turns its return value into text.
 */
final class AnnotatedTool implements Tool {
  private final Object target;
  private final Method method;
  private final ToolSpec spec;
  private final boolean sideEffecting;
  private final List<Binding> bindings;

  /** How one method parameter is filled: from an argument by name, or with the context. */
  private record Binding(String name, JavaType type, boolean context) {}

  private AnnotatedTool(
      Object target, Method method, ToolSpec spec, boolean sideEffecting, List<Binding> bindings) {
    this.target = target;
    this.method = method;
    this.spec = spec;
    this.sideEffecting = sideEffecting;
    this.bindings = bindings;
  }

  /**
   * The tools of every {@link ToolMethod} of {@code target}'s class and its superclasses, in name
   * order.
   *
   * @throws IllegalArgumentException when there is none, or a method cannot be a tool
   */
  static List<Tool> scan(Object target) {
    List<Tool> tools = new ArrayList<>();
    for (Class<?> c = target.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        ToolMethod annotation = m.getAnnotation(ToolMethod.class);
        if (annotation != null && !m.isBridge()) {
          tools.add(of(target, m, annotation));
        }
      }
    }
    if (tools.isEmpty()) {
      throw new IllegalArgumentException(
          target.getClass().getName()
              + " has no method annotated with @ToolMethod; annotate the methods to offer as tools");
    }
    tools.sort(Comparator.comparing(Tool::name));
    return tools;
  }

  private static AnnotatedTool of(Object target, Method method, ToolMethod annotation) {
    String where =
        "tool method " + method.getDeclaringClass().getSimpleName() + "." + method.getName();
    if (!method.trySetAccessible()) {
      throw new IllegalArgumentException(
          where + " is not accessible; make it public or open its package to cfn-ai");
    }
    ObjectNode schema = ToolJson.object().put("type", "object");
    ObjectNode properties = schema.putObject("properties");
    ArrayNode required = ToolJson.array();
    List<Binding> bindings = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Parameter[] parameters = method.getParameters();
    for (int i = 0; i < parameters.length; i++) {
      Parameter p = parameters[i];
      Param param = p.getAnnotation(Param.class);
      if (param == null) {
        if (p.getType() == ToolContext.class) {
          bindings.add(new Binding(null, null, true));
          continue;
        }
        throw new IllegalArgumentException(
            where
                + ": parameter "
                + (i + 1)
                + " has no @Param; annotate it with @Param(name = ..., description = ...)");
      }
      String name = param.name();
      String paramWhere = where + ", parameter '" + name + "'";
      if (name.isBlank() || !names.add(name)) {
        throw new IllegalArgumentException(
            paramWhere + ": names must be non-blank and unique within the method");
      }
      if (!param.required() && p.getType().isPrimitive()) {
        throw new IllegalArgumentException(
            paramWhere
                + " is optional but has the primitive type "
                + p.getType()
                + ", which cannot be null when the model leaves it out; use the boxed type");
      }
      ObjectNode property = JavaTypeSchema.of(p.getParameterizedType(), paramWhere);
      if (!param.description().isEmpty()) {
        property.put("description", param.description());
      }
      properties.set(name, property);
      if (param.required()) {
        required.add(name);
      }
      bindings.add(
          new Binding(name, ToolJson.MAPPER.constructType(p.getParameterizedType()), false));
    }
    if (!required.isEmpty()) {
      schema.set("required", required);
    }
    schema.put("additionalProperties", false);
    ToolSpec spec;
    try {
      spec = new ToolSpec(annotation.name(), annotation.description(), schema);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
    if (annotation.description().isBlank()) {
      throw new IllegalArgumentException(
          where + " has a blank description: say what the tool does and when to use it");
    }
    Object receiver = Modifier.isStatic(method.getModifiers()) ? null : target;
    return new AnnotatedTool(
        receiver, method, spec, annotation.sideEffecting(), List.copyOf(bindings));
  }

  @Override
  public ToolSpec spec() {
    return spec;
  }

  @Override
  public boolean sideEffecting() {
    return sideEffecting;
  }

  @Override
  public ToolResult call(JsonNode arguments, ToolContext context) throws Exception {
    Object[] values = new Object[bindings.size()];
    for (int i = 0; i < values.length; i++) {
      Binding b = bindings.get(i);
      if (b.context()) {
        values[i] = context;
        continue;
      }
      JsonNode node = arguments.get(b.name());
      if (node == null || node.isNull()) {
        values[i] = null;
        continue;
      }
      try {
        values[i] = ToolJson.MAPPER.convertValue(node, b.type());
      } catch (IllegalArgumentException e) {
        return ToolResult.error(
            "argument '"
                + b.name()
                + "' cannot be read as "
                + b.type().getTypeName()
                + ": "
                + e.getMessage());
      }
    }
    Object returned;
    try {
      returned = method.invoke(target, values);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      if (cause instanceof java.lang.Error err) {
        throw err;
      }
      throw e;
    }
    return toResult(method.getReturnType() == void.class, returned);
  }

  /** The return value as a result: see {@link ToolMethod}. */
  static ToolResult toResult(boolean isVoid, Object returned) throws Exception {
    if (isVoid) {
      return ToolResult.text("ok");
    }
    if (returned instanceof Optional<?> optional) {
      returned = optional.orElse(null);
    }
    return switch (returned) {
      case null -> ToolResult.text("null");
      case ToolResult result -> result;
      case CharSequence text -> ToolResult.text(text.toString());
      case JsonNode json -> ToolResult.json(json);
      case Number n -> ToolResult.text(n.toString());
      case Boolean b -> ToolResult.text(b.toString());
      case Enum<?> e -> ToolResult.text(e.name());
      default -> ToolResult.text(ToolJson.MAPPER.writeValueAsString(returned));
    };
  }

  @Override
  public String toString() {
    return "Tool["
        + spec.name()
        + " = "
        + method.getDeclaringClass().getName()
        + "."
        + method.getName()
        + "]";
  }
}
