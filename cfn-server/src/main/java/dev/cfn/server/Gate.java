package dev.cfn.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.audit.AuditTrail;
import dev.cfn.server.auth.ApiToken;
import dev.cfn.server.auth.TokenStore;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain every call of a route goes through, in this order, each link refusing with a problem
 * before the next runs: readiness (503) → authentication of the bearer token (401, audited) → the
 * token's rate limit (429 with {@code Retry-After}) → the route's role (403, audited) → the body:
 * media type (415), size (413), JSON syntax (400), JSON Schema (422) → the route's action (whose
 * scope checks refuse with 403, audited) → the answer, and for a privileged route its audit event.
 * Since every refusal comes before the action runs, a refused call changes nothing.
 */
final class Gate {
  private static final Logger log = LoggerFactory.getLogger(Gate.class);

  static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /** What a route that wrote its own response (a stream) returns: nothing more is sent. */
  static final Object STREAMED = new Object();

  private final TokenStore tokens;
  private final RateLimiter limiter;
  private final RateLimiter failures; // per client address, for refused tokens
  private final AuditTrail audit;
  private final RequestSchemas schemas;
  private final int maxBodyBytes;
  private final Clock clock;
  private final BooleanSupplier ready;
  private final Runnable auditFailed;

  Gate(
      TokenStore tokens,
      RateLimiter limiter,
      RateLimiter failures,
      AuditTrail audit,
      RequestSchemas schemas,
      int maxBodyBytes,
      Clock clock,
      BooleanSupplier ready,
      Runnable auditFailed) {
    this.auditFailed = auditFailed;
    this.tokens = tokens;
    this.limiter = limiter;
    this.failures = failures;
    this.audit = audit;
    this.schemas = schemas;
    this.maxBodyBytes = maxBodyBytes;
    this.clock = clock;
    this.ready = ready;
  }

  /** The Javalin handler of {@code route}: the whole chain. */
  Handler handler(ApiRoute route) {
    return ctx -> run(route, ctx);
  }

  private void run(ApiRoute route, Context ctx) {
    ApiToken token = null;
    Call call = null;
    boolean admitted = false;
    try {
      if (route.role() != null) {
        if (!ready.getAsBoolean()) {
          ctx.header("Retry-After", "1");
          throw new Problem(
              503, "Not ready", "the node is starting or stopping; try again in a moment");
        }
        token = authenticate(route, ctx);
        limit(limiter, token.id(), ctx);
        if (!token.role().includes(route.role())) {
          audit(
              AuditEvent.Kind.AUTHORIZATION_DENIAL,
              token.id(),
              route.label(),
              "-",
              AuditEvent.Outcome.DENIED,
              "role " + token.role().label() + " is below " + route.role().label());
          throw Problem.forbidden(
              "this route needs the role "
                  + route.role().label()
                  + " or above; token "
                  + token.id()
                  + " has "
                  + token.role().label()
                  + " (fix: use a token created with --role "
                  + route.role().label()
                  + ")");
        }
      }
      JsonNode body = route.schema() == null ? null : readBody(route, ctx);
      call = new Call(route, ctx, token, body, this);
      admitted = true;
      Object result = route.action().handle(call);
      if (route.privileged()) {
        audit(
            AuditEvent.Kind.PRIVILEGED_ACTION,
            token.id(),
            route.label(),
            call.target(),
            AuditEvent.Outcome.SUCCESS,
            "done");
      }
      if (result != STREAMED) {
        respond(ctx, call.status(), result);
      }
    } catch (Problem p) {
      if (admitted && route.privileged() && p.status != 403) {
        audit(
            AuditEvent.Kind.PRIVILEGED_ACTION,
            token.id(),
            route.label(),
            call.target(),
            AuditEvent.Outcome.FAILED,
            p.title);
      }
      problem(ctx, p);
    } catch (Exception e) {
      log.warn("{} failed", route.label(), e);
      if (admitted && route.privileged()) {
        audit(
            AuditEvent.Kind.PRIVILEGED_ACTION,
            token.id(),
            route.label(),
            call.target(),
            AuditEvent.Outcome.FAILED,
            e.getClass().getSimpleName());
      }
      problem(
          ctx,
          new Problem(
              500,
              "Internal error",
              "the node failed to answer ("
                  + e.getClass().getSimpleName()
                  + "); its log says more"));
    }
  }

  private ApiToken authenticate(ApiRoute route, Context ctx) {
    String header = ctx.header("Authorization");
    String why;
    TokenStore.Check check = null;
    if (header == null || header.isBlank()) {
      why = "no Authorization header";
    } else if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      why = "the Authorization header is not a Bearer token";
    } else {
      check = tokens.authenticate(header.substring(7).strip());
      why =
          switch (check.verdict()) {
            case ACCEPTED -> null;
            case MALFORMED -> "the token is not a cfn token";
            case UNKNOWN -> "the token is unknown";
            case EXPIRED -> "the token has expired";
            case REVOKED -> "the token was revoked";
          };
    }
    if (why == null) {
      return check.token();
    }
    String actor =
        check != null && check.token() != null ? check.token().id() : "anonymous@" + ctx.ip();
    audit(
        AuditEvent.Kind.AUTHENTICATION_FAILURE,
        actor,
        route.label(),
        "-",
        AuditEvent.Outcome.DENIED,
        why);
    limit(failures, "ip:" + ctx.ip(), ctx); // refused calls are throttled per address
    ctx.header("WWW-Authenticate", "Bearer realm=\"cfn\"");
    throw Problem.unauthorized(
        why
            + " (fix: send Authorization: Bearer TOKEN with a token from cfn token create that"
            + " has not expired or been revoked)");
  }

  private static void limit(RateLimiter bucket, String caller, Context ctx) {
    long waitNanos = bucket.acquire(caller);
    if (waitNanos > 0) {
      long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + 999_999_999L));
      ctx.header("Retry-After", Long.toString(seconds));
      throw new Problem(
          429,
          "Too many requests",
          "this caller is over its rate limit; retry after " + seconds + " s");
    }
  }

  private JsonNode readBody(ApiRoute route, Context ctx) throws IOException {
    String type = ctx.header("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).strip().startsWith("application/json")) {
      throw new Problem(
          415,
          "Unsupported media type",
          "the body must be JSON (fix: send Content-Type: application/json)");
    }
    long declared = ctx.req().getContentLengthLong();
    if (declared > maxBodyBytes) {
      throw tooLarge();
    }
    byte[] bytes;
    try (InputStream in = ctx.req().getInputStream()) {
      bytes = in.readNBytes(maxBodyBytes + 1);
    }
    if (bytes.length > maxBodyBytes) {
      throw tooLarge();
    }
    JsonNode body;
    try {
      body = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr();
      throw Problem.badRequest(
          "the body is not valid JSON" + where + ": " + e.getOriginalMessage());
    }
    if (body == null || body.isMissingNode()) {
      throw Problem.badRequest("the body is empty (fix: send a JSON object)");
    }
    List<String> errors = schemas.check(route.schema(), body);
    if (!errors.isEmpty()) {
      throw new Problem(
              422,
              "Invalid body",
              "the body does not match the schema of "
                  + route.label()
                  + ": "
                  + String.join("; ", errors)
                  + " (fix: see /openapi.json)")
          .with("errors", errors);
    }
    return body;
  }

  private Problem tooLarge() {
    return new Problem(
        413,
        "Content too large",
        "the body is larger than " + maxBodyBytes + " bytes (fix: send less)");
  }

  void audit(
      AuditEvent.Kind kind,
      String actor,
      String action,
      String target,
      AuditEvent.Outcome outcome,
      String detail) {
    try {
      audit.record(new AuditEvent(clock.instant(), kind, actor, action, target, outcome, detail));
    } catch (RuntimeException e) {
      auditFailed.run();
      log.error("the audit trail refused an event ({} {} {})", kind, action, outcome, e);
    }
  }

  static void respond(Context ctx, int status, Object result) throws JsonProcessingException {
    ctx.status(status);
    ctx.contentType("application/json");
    ctx.result(JSON.writeValueAsBytes(result));
  }

  static void problem(Context ctx, Problem p) {
    ctx.status(p.status);
    ctx.contentType(Problem.MEDIA_TYPE);
    try {
      ctx.result(JSON.writeValueAsBytes(p.body(ctx.path())));
    } catch (JsonProcessingException e) {
      ctx.result("{\"title\":\"" + p.title + "\",\"status\":" + p.status + "}");
    }
  }
}
