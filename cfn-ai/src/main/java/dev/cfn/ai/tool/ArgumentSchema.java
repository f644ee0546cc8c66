package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tool's input schema, compiled once when the tool is registered, and the check of a call's
 * arguments against it (networknt json-schema-validator).
 *
 * <p>Compiling first validates the schema against its meta-schema (draft 2020-12 unless its {@code
 * $schema} names draft 4, 6, 7 or 2019-09), then builds the validators and resolves every {@code
 * $ref}, so that a broken schema fails registration, not the first call. Remote references are
 * never fetched: a schema must be self-contained (local {@code #/$defs/...} references only); the
 * meta-schemas come from the validator's jar.
 */
final class ArgumentSchema {
  private static final SpecificationVersion DEFAULT_VERSION = SpecificationVersion.DRAFT_2020_12;
  private static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(
          DEFAULT_VERSION, builder -> builder.schemaLoader(l -> l.fetchRemoteResources(false)));
  private static final Map<SpecificationVersion, Schema> META_SCHEMAS = new ConcurrentHashMap<>();

  private final Schema schema;

  private ArgumentSchema(Schema schema) {
    this.schema = schema;
  }

  /**
   * Compiles {@code schemaNode}, the input schema of tool {@code tool}.
   *
   * @throws IllegalArgumentException naming the tool and every problem when the schema is not a
   *     valid JSON Schema or cannot be compiled
   */
  static ArgumentSchema compile(String tool, JsonNode schemaNode) {
    if (schemaNode == null || !schemaNode.isObject()) {
      throw new IllegalArgumentException(
          "the input schema of tool '" + tool + "' must be a JSON object, got " + schemaNode);
    }
    SpecificationVersion version = versionOf(tool, schemaNode);
    List<Error> metaErrors =
        META_SCHEMAS.computeIfAbsent(version, ArgumentSchema::meta).validate(schemaNode);
    if (!metaErrors.isEmpty()) {
      StringBuilder message =
          new StringBuilder("the input schema of tool '")
              .append(tool)
              .append("' is not a valid JSON Schema (")
              .append(version.getDialectId())
              .append("); fix these and register it again:");
      for (Error e : metaErrors) {
        message.append("\n- ").append(describe(e));
      }
      throw new IllegalArgumentException(message.toString());
    }
    try {
      Schema schema = REGISTRY.getSchema(schemaNode);
      schema.initializeValidators();
      return new ArgumentSchema(schema);
    } catch (SchemaException | IllegalStateException e) {
      throw new IllegalArgumentException(
          "the input schema of tool '"
              + tool
              + "' cannot be compiled: "
              + e.getMessage()
              + " (references must point inside the schema; remote schemas are not fetched)",
          e);
    }
  }

  /** The problems of {@code arguments}, one line each; empty when they are valid. */
  List<Problem> check(JsonNode arguments) {
    return schema.validate(arguments).stream()
        .map(e -> new Problem(describe(e), e.getKeyword() + " at " + location(e)))
        .toList();
  }

  /**
   * One reason the arguments are invalid.
   *
   * @param message for the model: where and what, as the validator words it
   * @param summary for logs: the schema keyword and the location only, never the value
   */
  record Problem(String message, String summary) {}

  private static SpecificationVersion versionOf(String tool, JsonNode schemaNode) {
    JsonNode declared = schemaNode.get("$schema");
    if (declared == null) {
      return DEFAULT_VERSION;
    }
    String id = declared.asText();
    Optional<SpecificationVersion> version = SpecificationVersion.fromDialectId(id);
    if (version.isEmpty() && id.endsWith("#")) {
      version = SpecificationVersion.fromDialectId(id.substring(0, id.length() - 1));
    }
    if (version.isEmpty() && !id.endsWith("#")) {
      version = SpecificationVersion.fromDialectId(id + "#");
    }
    return version.orElseThrow(
        () ->
            new IllegalArgumentException(
                "the input schema of tool '"
                    + tool
                    + "' declares $schema '"
                    + id
                    + "', which is not a JSON Schema draft cfn knows; use draft-07 or 2020-12, or"
                    + " leave $schema out"));
  }

  private static Schema meta(SpecificationVersion version) {
    Schema meta = REGISTRY.getSchema(SchemaLocation.of(version.getDialectId()));
    meta.initializeValidators();
    return meta;
  }

  private static String location(Error e) {
    String path = e.getInstanceLocation() == null ? "" : e.getInstanceLocation().toString();
    return path.isEmpty() || path.equals("$") ? "(root)" : path;
  }

  private static String describe(Error e) {
    return location(e) + ": " + e.getMessage();
  }
}
