package dev.cfn.server;

import dev.cfn.server.auth.Role;

/**
 * One route of the API, as the route table declares it: everything {@link Gate} needs to guard it
 * and {@link OpenApiDocument} needs to describe it. The table ({@link Routes}) is the one source
 * the router and the API document are both built from.
 *
 * @param method {@code GET}, {@code POST}, {@code PUT} or {@code DELETE}
 * @param path the path, with {@code {name}} parameters, such as {@code /v1/agents/{type}/{key}}
 * @param role the least role that may call it ({@code null}: anyone, for {@code /health/*} only)
 * @param privileged true when every call is an audited privileged action
 * @param schema the JSON Schema resource its body must match ({@code null}: no body)
 * @param summary one line for the API document
 * @param action what it does once the call is admitted
 */
record ApiRoute(
    String method,
    String path,
    Role role,
    boolean privileged,
    String schema,
    String summary,
    Action action) {

  /** What a route does with an admitted call; returns the response body (a JSON value). */
  @FunctionalInterface
  interface Action {
    Object handle(Call call) throws Exception;
  }

  /** {@code GET /v1/agents}: how the audit log and the problems name the route. */
  String label() {
    return method + " " + path;
  }
}
