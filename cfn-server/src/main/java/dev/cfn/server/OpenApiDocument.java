package dev.cfn.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /openapi.json}: an OpenAPI 3.1 document generated from the route table, so that it lists
 * exactly the routes the router serves (a test compares the two), with each route's least role, its
 * body schema (the one the server validates with) and its problem answers.
 */
final class OpenApiDocument {
  private static final Pattern PARAM = Pattern.compile("\\{([A-Za-z]+)}");

  /** Supplies the document to its own route (built after the table). */
  @FunctionalInterface
  interface Source {
    Object get();
  }

  private OpenApiDocument() {}

  static ObjectNode build(List<ApiRoute> routes, RequestSchemas schemas, String version) {
    ObjectNode doc = Gate.JSON.createObjectNode();
    doc.put("openapi", "3.1.0");
    ObjectNode info = doc.putObject("info");
    info.put("title", "cfn node API");
    info.put("version", version);
    info.put(
        "description",
        "Every route except /health/* needs Authorization: Bearer TOKEN (cfn token create)."
            + " Problems are RFC 9457 application/problem+json.");
    ObjectNode components = doc.putObject("components");
    ObjectNode security = components.putObject("securitySchemes");
    security.putObject("bearer").put("type", "http").put("scheme", "bearer");
    ObjectNode problem = components.putObject("schemas").putObject("Problem");
    problem.put("type", "object");
    ObjectNode props = problem.putObject("properties");
    for (String s : List.of("type", "title", "detail", "instance")) {
      props.putObject(s).put("type", "string");
    }
    props.putObject("status").put("type", "integer");
    ObjectNode paths = doc.putObject("paths");
    for (ApiRoute r : routes) {
      ObjectNode path =
          paths.has(r.path()) ? (ObjectNode) paths.get(r.path()) : paths.putObject(r.path());
      ObjectNode op = path.putObject(r.method().toLowerCase(Locale.ROOT));
      op.put("summary", r.summary());
      op.put("operationId", operationId(r));
      if (r.role() == null) {
        op.putArray("security");
      } else {
        op.putArray("security").addObject().putArray("bearer");
        op.put("x-cfn-role", r.role().label());
        op.put("x-cfn-privileged", r.privileged());
      }
      Matcher m = PARAM.matcher(r.path());
      ArrayNode params = null;
      while (m.find()) {
        if (params == null) {
          params = op.putArray("parameters");
        }
        ObjectNode p = params.addObject();
        p.put("name", m.group(1));
        p.put("in", "path");
        p.put("required", true);
        p.putObject("schema").put("type", "string");
      }
      if (r.schema() != null) {
        ObjectNode body = op.putObject("requestBody");
        body.put("required", true);
        body.putObject("content")
            .putObject("application/json")
            .set("schema", schemas.document(r.schema()).deepCopy());
      }
      ObjectNode responses = op.putObject("responses");
      responses
          .putObject("2XX")
          .put("description", "Done")
          .putObject("content")
          .putObject("application/json")
          .putObject("schema");
      ObjectNode problemRef = Gate.JSON.createObjectNode();
      problemRef
          .putObject("content")
          .putObject(Problem.MEDIA_TYPE)
          .putObject("schema")
          .put("$ref", "#/components/schemas/Problem");
      problemRef.put("description", "A problem (RFC 9457)");
      responses.set("default", problemRef);
    }
    return doc;
  }

  static String operationId(ApiRoute r) {
    StringBuilder b = new StringBuilder(r.method().toLowerCase(Locale.ROOT));
    for (String part : r.path().split("[/{}.-]")) {
      if (!part.isEmpty()) {
        b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
      }
    }
    return b.toString();
  }
}
