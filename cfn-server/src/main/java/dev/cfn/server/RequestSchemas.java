package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON Schemas (draft 2020-12) of the request bodies, read from {@code
 * dev/cfn/server/schemas/NAME.json} and compiled once at start (networknt json-schema-validator, as
 * the tools of cfn-ai use it; remote references are never fetched). The same schemas appear in the
 * API document.
 */
final class RequestSchemas {
  private static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(
          SpecificationVersion.DRAFT_2020_12,
          builder -> builder.schemaLoader(l -> l.fetchRemoteResources(false)));

  private final Map<String, JsonNode> documents = new LinkedHashMap<>();
  private final Map<String, Schema> compiled = new LinkedHashMap<>();

  RequestSchemas(Set<String> names) {
    for (String name : names) {
      try (InputStream in = RequestSchemas.class.getResourceAsStream("schemas/" + name + ".json")) {
        if (in == null) {
          throw new IllegalStateException("no schema resource schemas/" + name + ".json");
        }
        JsonNode doc = Gate.JSON.readTree(in);
        Schema schema = REGISTRY.getSchema(doc);
        schema.initializeValidators();
        documents.put(name, doc);
        compiled.put(name, schema);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read schema " + name, e);
      }
    }
  }

  /** The problems of {@code body} against schema {@code name}, one line each; empty when valid. */
  List<String> check(String name, JsonNode body) {
    Schema schema = compiled.get(name);
    if (schema == null) {
      throw new IllegalStateException("no schema named " + name);
    }
    return schema.validate(body).stream().map(RequestSchemas::describe).toList();
  }

  /** The schema document {@code name}, for the API document. */
  JsonNode document(String name) {
    return documents.get(name);
  }

  private static String describe(Error e) {
    String path = e.getInstanceLocation() == null ? "" : e.getInstanceLocation().toString();
    return (path.isEmpty() || path.equals("$") ? "(root)" : path) + ": " + e.getMessage();
  }
}
