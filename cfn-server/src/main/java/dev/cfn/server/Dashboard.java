package dev.cfn.server;

import io.javalin.config.JavalinConfig;
import io.javalin.http.staticfiles.Location;
import java.util.Map;

/**
 * The dashboard: static files in the jar ({@code /dev/cfn/server/ui}) served at {@value #PATH}, and
 * the uPlot chart library from its WebJar at {@code /webjars/}. The page holds no data: it signs in
 * with an API token and reads the node through the same authenticated routes as any client ({@code
 * /v1/*}, {@code /metrics}, the {@code /v1/events} stream), so it needs no route, role or session
 * of its own. Static files carry a strict Content-Security-Policy (scripts and styles from this
 * origin only, no framing), which also keeps an injected string from running as script.
 */
final class Dashboard {
  /** Where the dashboard is served. */
  static final String PATH = "/ui";

  static final Map<String, String> HEADERS =
      Map.of(
          "Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
              + " connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self';"
              + " frame-ancestors 'none'",
          "X-Content-Type-Options",
          "nosniff",
          "X-Frame-Options",
          "DENY",
          "Referrer-Policy",
          "no-referrer",
          "Cache-Control",
          "no-cache");

  private Dashboard() {}

  static void serve(JavalinConfig config) {
    config.staticFiles.add(
        files -> {
          files.hostedPath = PATH;
          files.directory = "/dev/cfn/server/ui";
          files.location = Location.CLASSPATH;
          files.headers = HEADERS;
        });
    config.staticFiles.add(
        files -> {
          files.hostedPath = "/webjars/uplot";
          files.directory = "/META-INF/resources/webjars/uplot";
          files.location = Location.CLASSPATH;
          files.headers = HEADERS;
        });
  }
}
