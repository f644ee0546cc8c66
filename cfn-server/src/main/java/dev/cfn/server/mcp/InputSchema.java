package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.List;

/**
 * A tool's input schema (JSON Schema draft 2020-12), compiled once when the catalog is built, and
 * the check of a call's arguments against it (networknt json-schema-validator, as cfn-ai's tools).
 * Remote references are never fetched; cfn's own schemas have none.
 */
final class InputSchema {
  private static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(
          SpecificationVersion.DRAFT_2020_12,
          builder -> builder.schemaLoader(l -> l.fetchRemoteResources(false)));

  private final Schema schema;

  private InputSchema(Schema schema) {
    this.schema = schema;
  }

  /** Compiles {@code schemaNode}, failing now rather than at the first call. */
  static InputSchema compile(JsonNode schemaNode) {
    Schema schema = REGISTRY.getSchema(schemaNode);
    schema.initializeValidators();
    return new InputSchema(schema);
  }

  /** What is wrong with {@code arguments}, one line each, naming where; empty when valid. */
  List<String> problems(JsonNode arguments) {
    return schema.validate(arguments).stream().map(InputSchema::describe).toList();
  }

  private static String describe(Error e) {
    String path = e.getInstanceLocation() == null ? "" : e.getInstanceLocation().toString();
    return (path.isEmpty() || path.equals("$") ? "(arguments)" : path) + ": " + e.getMessage();
  }
}
