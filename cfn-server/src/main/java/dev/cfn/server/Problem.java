package dev.cfn.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A refusal or failure answered as an RFC 9457 problem ({@code application/problem+json}): the
 * status, a short title, and a detail that says what is wrong and how to fix it. Thrown by any
 * stage of a call; {@link Gate} answers it. Never carries a secret or a request body.
 */
final class Problem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The media type of a problem body. */
  static final String MEDIA_TYPE = "application/problem+json";

  final int status;
  final String title;
  final transient Map<String, Object> extra = new LinkedHashMap<>();

  Problem(int status, String title, String detail) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
  }

  static Problem badRequest(String detail) {
    return new Problem(400, "Bad request", detail);
  }

  static Problem notFound(String detail) {
    return new Problem(404, "Not found", detail);
  }

  static Problem conflict(String detail) {
    return new Problem(409, "Conflict", detail);
  }

  static Problem unauthorized(String detail) {
    return new Problem(401, "Unauthorized", detail);
  }

  static Problem forbidden(String detail) {
    return new Problem(403, "Forbidden", detail);
  }

  /** Adds a member to the problem body (such as {@code errors}). */
  Problem with(String name, Object value) {
    extra.put(name, value);
    return this;
  }

  /** The body: {@code type}, {@code title}, {@code status}, {@code detail}, then the extras. */
  Map<String, Object> body(String instance) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", "about:blank");
    m.put("title", title);
    m.put("status", status);
    m.put("detail", getMessage());
    m.put("instance", instance);
    m.putAll(extra);
    return m;
  }
}
