package dev.cfn.ai.tool;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names and describes a parameter of a {@link ToolMethod}: it becomes a property of the tool's
 * input schema, typed from the Java type ({@code String} → string; {@code int}, {@code long} and
 * their boxes → integer within the type's range; {@code double}, {@code float} → number; {@code
 * boolean} → boolean; an enum → string with its constant names; {@code List}, {@code Set} or an
 * array of those → array; {@code Map<String, T>} → object; {@link
 * com.fasterxml.jackson.databind.JsonNode} → any value).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface Param {

  /** The property name the model uses (Java keeps no parameter names at run time). */
  String name();

  /** What the parameter means, for the model. */
  String description() default "";

  /**
   * Whether the model must give it. An optional parameter the model leaves out is {@code null}, so
   * it needs a reference type ({@code Integer}, not {@code int}).
   */
  boolean required() default true;
}
