package dev.cfn.certify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a certification's report: {@value #JSON} (every figure, for scripts), {@value #MARKDOWN}
 * (the seed's layout: summary, results table, per-check detail, known limitations) and {@value
 * #HTML} (the same with inline SVG charts; no script, nothing downloaded).
 */
public final class ReportFiles {
  /** The JSON report's file name. */
  public static final String JSON = "certification.json";

  /** The Markdown report's file name. */
  public static final String MARKDOWN = "certification.md";

  /** The HTML report's file name. */
  public static final String HTML = "certification.html";

  private ReportFiles() {}

  /** Writes the three files into {@code dir} (created if needed), each through a temp file. */
  public static void write(CertificationReport report, Path dir) throws IOException {
    Files.createDirectories(dir);
    replace(dir.resolve(JSON), json(report));
    replace(dir.resolve(MARKDOWN), MarkdownReport.render(report));
    replace(dir.resolve(HTML), HtmlReport.render(report));
  }

  private static void replace(Path target, String text) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The report as JSON: level, score, checks (each with its figures), environment. */
  public static String json(CertificationReport report) throws IOException {
    return new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsString(asMap(report))
        + "\n";
  }

  static Map<String, Object> asMap(CertificationReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("level", r.level().name());
    m.put("score", r.score());
    m.put(
        "scoreFormula",
        "100 x (sum of the weights of the checks passed) / (sum of all weights); weight 2 for a"
            + " critical check, 1 otherwise (18 in all); a failed or unavailable check earns 0");
    m.put(
        "levelRules",
        "FULL: every critical check and >= 90 % of all pass; PARTIAL: >= 80 % of critical and"
            + " >= 70 % of all; else FAILED. A check not available counts as failed.");
    m.put("profile", r.profile());
    m.put("started", r.started().toString());
    m.put("finished", r.finished().toString());
    m.put("selected", r.selected().stream().map(CheckId::key).toList());
    m.put("passed", r.passedCount());
    m.put("total", r.checks().size());
    List<Map<String, Object>> checks = new ArrayList<>();
    for (CheckResult c : r.checks()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("number", c.id().number());
      x.put("name", c.id().key());
      x.put("title", c.id().title());
      x.put("critical", c.id().critical());
      x.put("target", c.target());
      x.put("targetText", c.id().describeTarget(c.target()));
      x.put("measured", Double.isNaN(c.measured()) ? null : c.measured());
      x.put("unit", c.id().unit());
      x.put("passed", c.passed());
      x.put("available", c.available());
      x.put("status", c.status());
      x.put("seedClaim", c.id().seedClaim());
      x.put("method", c.method());
      x.put("verdict", c.verdict());
      x.put("figures", c.figures());
      checks.add(x);
    }
    m.put("checks", checks);
    m.put("environment", r.environment().asMap());
    m.put("notTested", r.notTested());
    return m;
  }
}
