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
 * #HTML} (the same with inline SVG charts; no script, nothing downloaded); and the latest report of
 * a home, {@code HOME/.cfn/certify/certification.json} ({@link #latest}), which every {@code cfn
 * certify} run replaces and the dashboard and {@code GET /v1/certify/latest} read.
 */
public final class ReportFiles {
  /** The JSON report's file name. */
  public static final String JSON = "certification.json";

  /** The Markdown report's file name. */
  public static final String MARKDOWN = "certification.md";

  /** The HTML report's file name. */
  public static final String HTML = "certification.html";

  /** The folder of the latest report under a home, as in {@code HOME/.cfn/certify}. */
  public static final String LATEST_DIR = ".cfn/certify";

  private ReportFiles() {}

  /**
   * Where the latest report of {@code home} is: {@code HOME/.cfn/certify/certification.json}, the
   * text {@link #json} gave (what {@code cfn certify --json} prints). The dashboard and {@code GET
   * /v1/certify/latest} read this file: keep the path.
   */
  public static Path latest(Path home) {
    return home.resolve(LATEST_DIR).resolve(JSON);
  }

  /**
   * Saves {@code json} (the report as {@link #json} rendered it) as the latest report of {@code
   * home}, creating the folder; atomically (a temp file beside it, then a move), so that a reader
   * sees the previous report or this one, never half of one. Returns the file.
   */
  public static Path saveLatest(String json, Path home) throws IOException {
    Path file = latest(home);
    Files.createDirectories(folderOf(file));
    replace(file, json);
    return file;
  }

  /** Writes the three files into {@code dir} (created if needed), each through a temp file. */
  public static void write(CertificationReport report, Path dir) throws IOException {
    Files.createDirectories(dir);
    replace(dir.resolve(JSON), json(report));
    replace(dir.resolve(MARKDOWN), MarkdownReport.render(report));
    replace(dir.resolve(HTML), HtmlReport.render(report));
  }

  /** Replaces {@code target} by {@code text} through a temp file of its own, moved atomically. */
  private static void replace(Path target, String text) throws IOException {
    Path tmp = Files.createTempFile(folderOf(target), target.getFileName() + ".", ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static Path folderOf(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null) {
      throw new IOException(file + " has no folder to write in");
    }
    return dir;
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
