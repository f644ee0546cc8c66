package dev.cfn.certify;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report as one HTML page with inline SVG charts (latency histogram, throughput over time,
 * recovery times, uptime timeline when measured): no script, no style sheet or font downloaded.
 */
final class HtmlReport {
  private HtmlReport() {}

  static String render(CertificationReport r) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    b.append("<title>cfn certification: ").append(r.level()).append("</title>");
    b.append(
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
            + "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;"
            + "text-align:left}.PASS{color:#060}.FAIL{color:#a00}.NA{color:#777}"
            + "svg{background:#fafafa;border:1px solid #ddd}</style></head><body>\n");
    b.append("<h1>Production Certification: ").append(esc(r.level().name())).append("</h1>\n");
    b.append("<p>Score <b>")
        .append(Figures.format(r.score()))
        .append(" %</b>, ")
        .append(r.passedCount())
        .append(" of ")
        .append(r.checks().size())
        .append(" checks passed. Profile ")
        .append(esc(r.profile()))
        .append(", finished ")
        .append(esc(r.finished().toString()))
        .append(".<br>")
        .append(esc(r.environment().describe()))
        .append("<br>cfn ")
        .append(esc(r.environment().cfnVersion()))
        .append(", commit ")
        .append(esc(r.environment().gitCommit()))
        .append("</p>\n");
    b.append(
        "<p>Every figure was measured on this machine; the seed's published claims (simulated)"
            + " are shown beside them for comparison only.</p>\n");
    b.append(
        "<table><tr><th>#</th><th>Check</th><th>Critical</th><th>Target</th><th>Measured</th>"
            + "<th>Status</th><th>Seed's claim</th></tr>\n");
    for (CheckResult c : r.checks()) {
      String cls = !c.available() ? "NA" : c.passed() ? "PASS" : "FAIL";
      b.append("<tr><td>")
          .append(c.id().number())
          .append("</td><td>")
          .append(esc(c.id().title()))
          .append("</td><td>")
          .append(c.id().critical() ? "yes" : "no")
          .append("</td><td>")
          .append(esc(c.id().describeTarget(c.target())))
          .append("</td><td>")
          .append(esc(c.measuredText()))
          .append("</td><td class=\"")
          .append(cls)
          .append("\">")
          .append(esc(c.status()))
          .append("</td><td>")
          .append(esc(c.id().seedClaim()))
          .append("</td></tr>\n");
    }
    b.append("</table>\n<h2>Charts</h2>\n");
    b.append(latencyChart(r.result(CheckId.LATENCY)));
    b.append(throughputChart(r.result(CheckId.THROUGHPUT)));
    b.append(recoveryChart(r.result(CheckId.RECOVERY)));
    b.append(uptimeChart(r.result(CheckId.UPTIME)));
    b.append("<h2>Check details</h2>\n");
    for (CheckResult c : r.checks()) {
      b.append("<h3>")
          .append(c.id().number())
          .append(". ")
          .append(esc(c.id().title()))
          .append(": ")
          .append(esc(c.status()))
          .append("</h3><p>")
          .append(esc(c.verdict()))
          .append("</p><p><i>Method:</i> ")
          .append(esc(c.method()))
          .append("</p>\n");
      List<String> items = MarkdownReport.itemLines(c);
      if (!items.isEmpty()) {
        b.append("<details><summary>").append(items.size()).append(" items</summary><ul>\n");
        for (String item : items) {
          b.append("<li>").append(esc(item)).append("</li>\n");
        }
        b.append("</ul></details>\n");
      }
    }
    b.append("<h2>Not tested</h2><ul>\n");
    for (String s : r.notTested()) {
      b.append("<li>").append(esc(s)).append("</li>\n");
    }
    b.append("</ul>\n<h2>Environment</h2><ul>\n");
    for (Map.Entry<String, Object> e : r.environment().asMap().entrySet()) {
      b.append("<li>")
          .append(esc(e.getKey()))
          .append(": ")
          .append(esc(String.valueOf(e.getValue())))
          .append("</li>\n");
    }
    b.append("</ul>\n</body></html>\n");
    return b.toString();
  }

  private static String latencyChart(CheckResult c) {
    List<double[]> points = points(c.figures().get("histogram"));
    if (points.isEmpty()) {
      return "<h3>Latency histogram</h3><p>not measured</p>\n";
    }
    List<String> labels = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    for (double[] p : points) {
      labels.add("≤ " + Figures.format(p[0]) + " ms");
      values.add(p[1]);
    }
    return "<h3>Latency histogram (messages per bucket, upper bound in ms)</h3>\n"
        + bars(labels, values, "#3a6ea5");
  }

  private static String throughputChart(CheckResult c) {
    List<double[]> points = points(c.figures().get("series"));
    if (points.isEmpty()) {
      return "<h3>Throughput over time</h3><p>not measured</p>\n";
    }
    int w = 640;
    int h = 200;
    double maxX = points.get(points.size() - 1)[0];
    double maxY = 1;
    for (double[] p : points) {
      maxY = Math.max(maxY, p[1]);
    }
    StringBuilder poly = new StringBuilder();
    for (double[] p : points) {
      poly.append(
          String.format(
              Locale.ROOT,
              "%.1f,%.1f ",
              40 + (w - 50) * p[0] / maxX,
              h - 20 - (h - 40) * p[1] / maxY));
    }
    double target = c.target();
    double ty = h - 20 - (h - 40) * Math.min(target, maxY) / maxY;
    return "<h3>Throughput over time (msg/s; dashed: target)</h3>\n"
        + String.format(
            Locale.ROOT,
            "<svg width=\"%d\" height=\"%d\" role=\"img\"><polyline fill=\"none\" stroke=\"#3a6ea5\""
                + " stroke-width=\"2\" points=\"%s\"/><line x1=\"40\" x2=\"%d\" y1=\"%.1f\""
                + " y2=\"%.1f\" stroke=\"#a00\" stroke-dasharray=\"4\"/><text x=\"2\" y=\"14\""
                + " font-size=\"11\">%s</text><text x=\"%d\" y=\"%d\" font-size=\"11\">%s s</text>"
                + "</svg>%n",
            w,
            h,
            poly,
            w - 10,
            ty,
            ty,
            esc(Figures.format(Math.round(maxY))),
            w - 40,
            h - 4,
            esc(Figures.format(maxX)));
  }

  private static String recoveryChart(CheckResult c) {
    Object summary = c.figures().get("recoverySeconds");
    if (!(summary instanceof Map<?, ?> m) || !(m.get("values") instanceof List<?> list)) {
      return "<h3>Recovery times</h3><p>not measured</p>\n";
    }
    List<String> labels = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      labels.add("kill " + (i + 1));
      values.add(((Number) list.get(i)).doubleValue());
    }
    return "<h3>Recovery times (s, SIGKILL to first message handled)</h3>\n"
        + bars(labels, values, "#5a8f3a");
  }

  private static String uptimeChart(CheckResult c) {
    List<double[]> points = points(c.figures().get("timeline"));
    if (points.isEmpty() || !(c.figures().get("probes") instanceof Number probes)) {
      return "<h3>Uptime timeline</h3><p>"
          + esc(c.available() ? "no timeline recorded" : c.verdict())
          + "</p>\n";
    }
    double end = probes.doubleValue() / 10.0;
    int w = 640;
    StringBuilder s = new StringBuilder();
    s.append("<h3>Uptime timeline (green: ready; red: not ready; grey: deliberate SIGKILL)</h3>\n");
    s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"50\" role=\"img\">", w));
    for (int i = 0; i < points.size(); i++) {
      double from = points.get(i)[0];
      double to = i + 1 < points.size() ? points.get(i + 1)[0] : end;
      int state = (int) points.get(i)[1];
      String color = state == 1 ? "#5a8f3a" : state == 2 ? "#999" : "#a00";
      s.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"5\" width=\"%.1f\" height=\"25\" fill=\"%s\"/>",
              10 + (w - 20) * from / end,
              Math.max(1, (w - 20) * (to - from) / end),
              color));
    }
    s.append(
        String.format(
            Locale.ROOT,
            "<text x=\"10\" y=\"45\" font-size=\"11\">0 s</text><text x=\"%d\" y=\"45\""
                + " font-size=\"11\">%s s</text></svg>%n",
            w - 50,
            esc(Figures.format(end))));
    return s.toString();
  }

  private static String bars(List<String> labels, List<Double> values, String color) {
    int n = values.size();
    int w = Math.max(320, Math.min(900, n * 40 + 60));
    int h = 220;
    double max = 0;
    for (double v : values) {
      max = Math.max(max, v);
    }
    if (max <= 0) {
      max = 1;
    }
    double bw = (w - 60.0) / n;
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" role=\"img\">", w, h));
    for (int i = 0; i < n; i++) {
      double bh = (h - 70) * values.get(i) / max;
      double x = 40 + i * bw;
      s.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                  + "<title>%s: %s</title></rect>",
              x + 1,
              h - 50 - bh,
              Math.max(1, bw - 2),
              bh,
              color,
              esc(labels.get(i)),
              esc(Figures.format(values.get(i)))));
      s.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" transform=\"rotate(45 %.1f %d)\">%s</text>",
              x + 2,
              h - 45,
              x + 2,
              h - 45,
              esc(labels.get(i))));
    }
    s.append(
        String.format(
            Locale.ROOT,
            "<text x=\"2\" y=\"14\" font-size=\"11\">%s</text></svg>%n",
            esc(Figures.format(max))));
    return s.toString();
  }

  private static List<double[]> points(Object series) {
    List<double[]> out = new ArrayList<>();
    if (series instanceof List<?> list) {
      for (Object o : list) {
        if (o instanceof List<?> p && p.size() == 2) {
          out.add(
              new double[] {((Number) p.get(0)).doubleValue(), ((Number) p.get(1)).doubleValue()});
        }
      }
    }
    return out;
  }

  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(ch);
      }
    }
    return b.toString();
  }
}
