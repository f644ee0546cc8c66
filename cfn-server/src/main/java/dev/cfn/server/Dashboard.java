package dev.cfn.server;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * The dashboard: a handful of static files in the jar ({@code /dev/cfn/server/ui}) served at
 * {@value #PATH}, and the uPlot chart library from its WebJar at {@code /webjars/uplot/}. The page
 * holds no data: it signs in with an API token and reads the node through the same authenticated
 * routes as any client ({@code /v1/*}, {@code /metrics}, the {@code /v1/events} stream), so it
 * needs no route, role or session of its own.
 *
 * <p>A servlet with a fixed list of files, read once at start, rather than a static-file handler:
 * no request path is ever resolved against a folder (nothing to traverse), and the API's routes
 * never pass through a resource lookup. Every file carries a strict Content-Security-Policy
 * (scripts and styles from this origin only, no framing), which also keeps an injected string from
 * running as script.
 */
final class Dashboard {
  /** Where the dashboard is served. */
  static final String PATH = "/ui";

  static final String UPLOT = "/webjars/uplot/1.6.30/dist/";

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

  private record File(String type, byte[] bytes) {}

  private static final Map<String, File> FILES = new LinkedHashMap<>();

  static {
    String ui = "/dev/cfn/server/ui/";
    String uplot = "/META-INF/resources" + UPLOT;
    FILES.put(PATH + "/", file("text/html;charset=utf-8", ui + "index.html"));
    FILES.put(PATH + "/index.html", FILES.get(PATH + "/"));
    FILES.put(PATH + "/dashboard.js", file("text/javascript;charset=utf-8", ui + "dashboard.js"));
    FILES.put(
        PATH + "/dashboard-flows.js",
        file("text/javascript;charset=utf-8", ui + "dashboard-flows.js"));
    FILES.put(PATH + "/dashboard.css", file("text/css;charset=utf-8", ui + "dashboard.css"));
    FILES.put(
        PATH + "/dashboard-ops.js", file("text/javascript;charset=utf-8", ui + "dashboard-ops.js"));
    FILES.put(
        UPLOT + "uPlot.iife.min.js",
        file("text/javascript;charset=utf-8", uplot + "uPlot.iife.min.js"));
    FILES.put(UPLOT + "uPlot.min.css", file("text/css;charset=utf-8", uplot + "uPlot.min.css"));
  }

  private Dashboard() {}

  private static File file(String type, String resource) {
    try (InputStream in = Dashboard.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the dashboard's " + resource + " is missing from the jar");
      }
      return new File(type, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Mounts the dashboard's servlet on {@code context}. */
  static void mount(ServletContextHandler context) {
    ServletHolder holder = new ServletHolder("cfn-dashboard", new Files());
    context.addServlet(holder, PATH);
    context.addServlet(holder, PATH + "/*");
    context.addServlet(holder, "/webjars/uplot/*");
  }

  /** Answers GET and HEAD for the listed files; 404 for anything else under its paths. */
  static final class Files extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse res) throws IOException {
      String path = req.getRequestURI();
      if (PATH.equals(path)) {
        res.setStatus(HttpServletResponse.SC_MOVED_PERMANENTLY);
        res.setHeader("Location", PATH + "/");
        return;
      }
      File f = FILES.get(path);
      HEADERS.forEach(res::setHeader);
      if (f == null) {
        res.setStatus(HttpServletResponse.SC_NOT_FOUND);
        res.setContentType("text/plain;charset=utf-8");
        res.getOutputStream()
            .write("no such dashboard file\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return;
      }
      res.setStatus(HttpServletResponse.SC_OK);
      res.setContentType(f.type());
      res.setContentLength(f.bytes().length);
      res.getOutputStream().write(f.bytes());
    }
  }
}
