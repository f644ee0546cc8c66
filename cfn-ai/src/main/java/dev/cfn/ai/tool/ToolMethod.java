package dev.cfn.ai.tool;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a plain object as a tool; {@link ToolRegistry#register(Object)} registers every
 * such method of the object. The input schema is generated from the method's parameters, each
 * annotated with {@link Param} (a {@link ToolContext} parameter, unannotated, receives the call's
 * context). The return value becomes the result's text: a {@link ToolResult} as is, a string as is,
 * {@code void} as {@code "ok"}, a {@link com.fasterxml.jackson.databind.JsonNode} or any other
 * object as JSON. An exception thrown by the method becomes an error result.
 *
 * <pre>{@code
 * class Calculator {
 *   @ToolMethod(name = "add", description = "Adds two integers.", sideEffecting = false)
 *   long add(@Param(name = "a", description = "first") long a,
 *            @Param(name = "b", description = "second") long b) {
 *     return a + b;
 *   }
 * }
 * registry.register(new Calculator());
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ToolMethod {

  /** The tool's name: 1 to 64 letters, digits, {@code _} or {@code -}. */
  String name();

  /** What the tool does and when to use it, for the model. */
  String description();

  /** See {@link Tool#sideEffecting()}; true unless the method only reads. */
  boolean sideEffecting() default true;
}
