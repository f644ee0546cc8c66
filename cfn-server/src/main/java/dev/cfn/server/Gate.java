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
import dev.cfn.server.auth.ClientCertificate;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.TokenStore;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain every call of a route goes through, in this order, each link refusing with a problem
 * before the next runs: readiness (503) → authentication of the bearer token, or of the client
 * certificate the TLS handshake verified (mTLS, see {@link #admit}) (401, audited) → the token's
 * rate limit (429 with {@code Retry-After}) → the route's role (403, audited) → the body: media
 * type (415), size (413), JSON syntax (400), JSON Schema (422) → the route's action (whose scope
 * checks refuse with 403, audited) → the answer, and for a privileged route its audit event. Since
 * every refusal comes before the action runs, a refused call changes nothing.
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
  private final boolean clientCertificates;

  Gate(
      TokenStore tokens,
      RateLimiter limiter,
      RateLimiter failures,
      AuditTrail audit,
      RequestSchemas schemas,
      int maxBodyBytes,
      Clock clock,
      BooleanSupplier ready,
      Runnable auditFailed,
      boolean clientCertificates) {
    this.auditFailed = auditFailed;
    this.clientCertificates = clientCertificates;
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
        token = admit(route.label(), route.role(), ctx.req(), ctx.res());
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

  /**
   * The links of the chain before the body, for the call {@code label} that needs {@code role}:
   * readiness (503) → authentication (401, audited) → the principal's rate limit (429) → its role
   * (403, audited). Shared by the REST routes and {@link McpEndpoint}.
   *
   * @return who makes the call
   * @throws Problem the refusal, with its headers ({@code Retry-After}, {@code WWW-Authenticate})
   *     already set on {@code res}
   */
  ApiToken admit(String label, Role role, HttpServletRequest req, HttpServletResponse res) {
    if (!ready.getAsBoolean()) {
      res.setHeader("Retry-After", "1");
      throw new Problem(
          503, "Not ready", "the node is starting or stopping; try again in a moment");
    }
    ApiToken token = authenticate(label, req, res);
    limit(limiter, token.id(), res);
    if (!token.role().includes(role)) {
      audit(
          AuditEvent.Kind.AUTHORIZATION_DENIAL,
          token.id(),
          label,
          "-",
          AuditEvent.Outcome.DENIED,
          "role " + token.role().label() + " is below " + role.label());
      throw Problem.forbidden(
          "this route needs the role "
              + role.label()
              + " or above; "
              + principal(token)
              + " has "
              + token.role().label()
              + " (fix: use "
              + (certificate(token) ? "a certificate issued" : "a token created")
              + " with --role "
              + role.label()
              + ")");
    }
    return token;
  }

  /** The servlet request attribute that holds the client's certificate chain (mTLS). */
  static final String CLIENT_CERTIFICATES = "jakarta.servlet.request.X509Certificate";

  /** True when {@code principal} authenticated with a client certificate, not a bearer token. */
  static boolean certificate(ApiToken principal) {
    return principal.id().startsWith(TokenStore.CERTIFICATE_PREFIX);
  }

  /** "token tok_..." or "client certificate crt_...": who, and how they authenticated. */
  static String principal(ApiToken principal) {
    return (certificate(principal) ? "client certificate " : "token ") + principal.id();
  }

  /**
   * Who makes the call: the bearer token of the {@code Authorization} header when there is one;
   * else the client certificate the TLS handshake verified the client holds the key of (mutual TLS,
   * when the server asks for one); else no one. A refusal is audited with the principal when it is
   * known (its id says how it authenticated: {@code tok_} or {@code crt_}), the client's address
   * otherwise.
   */
  private ApiToken authenticate(String label, HttpServletRequest req, HttpServletResponse res) {
    String header = req.getHeader("Authorization");
    X509Certificate[] chain =
        req.getAttribute(CLIENT_CERTIFICATES) instanceof X509Certificate[] c && c.length > 0
            ? c
            : null;
    String why;
    String actor = null;
    TokenStore.Check check = null;
    String fix =
        " (fix: send Authorization: Bearer TOKEN with a token from cfn token create that has not"
            + " expired or been revoked"
            + (clientCertificates
                ? ", or present a client certificate from cfn cert issue or cfn cert trust)"
                : ")");
    if (header != null && !header.isBlank()) {
      if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
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
              case DAMAGED ->
                  "the token's record in the node's token file fails its checksum (the file is"
                      + " damaged or was edited; cfn token check lists the damaged records)";
            };
      }
    } else if (chain != null) {
      check = tokens.authenticateCertificate(chain[0]);
      String fingerprint = ClientCertificate.fingerprintOf(chain[0]);
      why =
          switch (check.verdict()) {
            case ACCEPTED -> null;
            case MALFORMED, UNKNOWN ->
                "the client certificate (SHA-256 " + fingerprint + ") is not trusted by this node";
            case EXPIRED -> "the client certificate has expired or is not valid yet";
            case REVOKED -> "the client certificate was revoked";
            case DAMAGED ->
                "the client certificate's record in the node's token file fails its checksum (the"
                    + " file is damaged or was edited; cfn token check lists the damaged records)";
          };
      actor = "certificate " + fingerprint.substring(0, 23) + "@" + req.getRemoteAddr();
      fix =
          " (fix: present a certificate from cfn cert issue, or one trusted with cfn cert trust,"
              + " that has not expired or been revoked; or send Authorization: Bearer TOKEN)";
    } else {
      why = "no Authorization header" + (clientCertificates ? " and no client certificate" : "");
    }
    if (why == null) {
      return check.token();
    }
    if (check != null && check.token() != null) {
      actor = check.token().id();
    } else if (actor == null) {
      actor = "anonymous@" + req.getRemoteAddr();
    }
    audit(
        AuditEvent.Kind.AUTHENTICATION_FAILURE, actor, label, "-", AuditEvent.Outcome.DENIED, why);
    limit(failures, "ip:" + req.getRemoteAddr(), res); // refused calls are throttled per address
    res.setHeader("WWW-Authenticate", "Bearer realm=\"cfn\"");
    throw Problem.unauthorized(why + fix);
  }

  private static void limit(RateLimiter bucket, String caller, HttpServletResponse res) {
    long waitNanos = bucket.acquire(caller);
    if (waitNanos > 0) {
      long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + 999_999_999L));
      res.setHeader("Retry-After", Long.toString(seconds));
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
      // with a Content-Length (at most the limit, checked above) the server delivers exactly that
      // many bytes: read them in one go, without a read past the end to see it
      bytes = declared >= 0 ? in.readNBytes((int) declared) : in.readNBytes(maxBodyBytes + 1);
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

  /**
   * Answers below this size are written straight to the servlet's output stream with their length,
   * rather than handed to Javalin as a result (which wraps them in a stream and copies them through
   * a buffer: a visible share of a small call's CPU). It is Javalin's threshold for compressing an
   * answer, so what the client receives is the same either way.
   */
  static final int DIRECT_WRITE_BELOW = 1500;

  static void respond(Context ctx, int status, Object result) throws IOException {
    ctx.status(status);
    ctx.contentType("application/json");
    write(ctx, JSON.writeValueAsBytes(result));
  }

  private static void write(Context ctx, byte[] body) throws IOException {
    if (body.length < DIRECT_WRITE_BELOW) {
      HttpServletResponse res = ctx.res();
      res.setContentLength(body.length);
      res.getOutputStream().write(body);
    } else {
      ctx.result(body);
    }
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
