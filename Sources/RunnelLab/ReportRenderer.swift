import Foundation

/// Renders a `LabReport` as the text table printed at the end, as JSON, and as one self-contained HTML
/// page (inline CSS and SVG, no external assets). Pure: strings and bytes out, no files.
public enum ReportRenderer {
    public static func closingLine(_ report: LabReport) -> String {
        "lab scenarios: \(report.executedCount) executed, \(report.passedCount) passed, \(report.failedCount) failed, "
            + "\(report.pendingCount) pending, \(report.skippedCount) skipped"
            + (report.blockedCount > 0 ? ", \(report.blockedCount) blocked (lab required but missing)" : "")
    }

    public static func text(_ report: LabReport) -> String {
        let header = ["scenario", "status", "ops", "sends", "acked", "failed", "reads", "lost", "unseen", "dups",
                      "incons", "order", "recover ms"]
        var rows = [header]
        for s in report.scenarios {
            rows.append([
                s.name, s.status.rawValue, "\(s.operations)", "\(s.sends)", "\(s.acknowledged)", "\(s.failedSends)",
                "\(s.reads)", "\(s.lost)", "\(s.unseen)", "\(s.duplicates)", "\(s.inconsistentOffsets)",
                "\(s.orderAnomalies)", s.recoveryMs.map { String(format: "%.0f", $0) } ?? "-",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        for s in report.scenarios where !s.message.isEmpty { lines.append("\(s.name): \(s.message)") }
        lines.append(closingLine(report))
        return lines.joined(separator: "\n")
    }

    public static func json(_ report: LabReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(report)
    }

    public static func html(_ report: LabReport) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Runnel lab report \(escape(report.createdAt))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
            th:first-child,td:first-child{text-align:left}.passed{color:#176f2c}.failed{color:#b00020}
            .pending,.skipped{color:#777}.blocked{color:#b00020}section{margin:2em 0}svg{background:#fafafa;border:1px solid #ddd}
            .legend span{display:inline-block;margin-right:1.5em}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
            </style></head><body>
            <h1>Runnel lab report</h1>
            <p>\(escape(report.createdAt)) · librdkafka \(escape(report.librdkafkaVersion)) · \(escape(closingLine(report)))</p>
            <table><tr><th>scenario</th><th>status</th><th>operations</th><th>sends</th><th>acknowledged</th>
            <th>failed sends</th><th>reads</th><th>lost</th><th>unseen</th><th>duplicates</th><th>inconsistent</th>
            <th>order</th><th>recovery ms</th></tr>

            """
        for s in report.scenarios {
            let cells = [
                "\(s.operations)", "\(s.sends)", "\(s.acknowledged)", "\(s.failedSends)", "\(s.reads)", "\(s.lost)",
                "\(s.unseen)", "\(s.duplicates)", "\(s.inconsistentOffsets)", "\(s.orderAnomalies)",
                s.recoveryMs.map { String(format: "%.0f", $0) } ?? "–",
            ]
            page += "<tr><td>\(escape(s.name))</td><td class=\"\(s.status.rawValue)\">\(s.status.rawValue)</td>"
                + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        page += "</table>\n"
        for s in report.scenarios {
            page += "<section><h2>\(escape(s.name)) <small class=\"\(s.status.rawValue)\">\(s.status.rawValue)</small></h2>\n"
            if !s.message.isEmpty { page += "<p>\(escape(s.message))</p>\n" }
            if s.status.executed {
                page += timelineSVG(s)
                for fault in s.faults {
                    page += "<p>\(fault.kind.rawValue) \(escape(fault.target)): injected at \(seconds(fault.injectedMs)) s, "
                        + "verified at \(seconds(fault.verifiedMs)) s, heal issued at \(fault.healIssuedMs.map(seconds) ?? "–") s, "
                        + "node seen back at \(fault.healedMs.map(seconds) ?? "–") s; first acknowledgement "
                        + "\(fault.recoveryMs.map { String(format: "%.0f ms", $0) } ?? "never") after the heal was issued</p>\n"
                }
                if !s.anomalySample.isEmpty {
                    page += "<ul>" + s.anomalySample.map { "<li>\(escape($0.description))</li>" }.joined() + "</ul>\n"
                }
            }
            page += "</section>\n"
        }
        return page + "</body></html>\n"
    }

    /// Acknowledgements per bucket as green bars, errors as red bars below the axis, fault windows
    /// shaded: light while injecting and while healing, darker while the fault is verified in effect.
    static func timelineSVG(_ s: ScenarioSummary) -> String {
        let width = 900.0, height = 220.0, left = 50.0, right = 10.0, top = 20.0, axisY = 150.0, errorDepth = 40.0
        let timeline = s.timeline
        let buckets = max(1, timeline.acknowledged.count)
        let spanMs = Double(buckets * timeline.bucketMs)
        let plotWidth = width - left - right
        func x(_ ms: Double) -> Double { left + plotWidth * min(ms, spanMs) / spanMs }
        let ackMax = max(1, timeline.acknowledged.max() ?? 1)
        let errorMax = max(1, timeline.errors.max() ?? 1)
        let barWidth = plotWidth / Double(buckets)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"timeline of \(escape(s.name))\">\n"
        for fault in s.faults {
            let issued = fault.healIssuedMs ?? spanMs
            let healed = fault.healedMs ?? spanMs
            svg += rect(x(fault.injectedMs), top, max(1, x(fault.verifiedMs) - x(fault.injectedMs)), axisY - top, "#f9dcc4")
            svg += rect(x(fault.verifiedMs), top, max(1, x(issued) - x(fault.verifiedMs)), axisY - top, "#f08a4b", opacity: 0.45)
            svg += rect(x(issued), top, max(1, x(healed) - x(issued)), axisY - top, "#f9dcc4")
            svg += "<text x=\"\(fmt(x(fault.verifiedMs) + 3))\" y=\"\(fmt(top + 12))\" font-size=\"11\">"
                + "\(fault.kind.rawValue) \(escape(fault.target))</text>\n"
        }
        for (index, count) in timeline.acknowledged.enumerated() where count > 0 {
            let h = (axisY - top - 15) * Double(count) / Double(ackMax)
            svg += rect(left + barWidth * Double(index), axisY - h, max(1, barWidth - 1), h, "#2e9b4f")
        }
        for (index, count) in timeline.errors.enumerated() where count > 0 {
            let h = errorDepth * Double(count) / Double(errorMax)
            svg += rect(left + barWidth * Double(index), axisY, max(1, barWidth - 1), h, "#c62828")
        }
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(axisY))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(axisY))\" stroke=\"#333\"/>\n"
        svg += "<text x=\"4\" y=\"\(fmt(top + 10))\" font-size=\"10\">\(ackMax)/\(timeline.bucketMs / 1000 == 1 ? "s" : "\(timeline.bucketMs) ms")</text>\n"
        svg += "<text x=\"4\" y=\"\(fmt(axisY + errorDepth))\" font-size=\"10\" fill=\"#c62828\">\(errorMax) err</text>\n"
        let tickEveryMs = max(1_000.0, (spanMs / 10 / 1_000).rounded(.up) * 1_000)
        var tick = 0.0
        while tick <= spanMs {
            svg += "<text x=\"\(fmt(x(tick)))\" y=\"\(fmt(height - 5))\" font-size=\"10\" text-anchor=\"middle\">\(Int(tick / 1000)) s</text>\n"
            tick += tickEveryMs
        }
        svg += "</svg>\n"
        let legend = "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#2e9b4f\"></i>acknowledged per bucket</span>"
            + "<span><i class=\"sw\" style=\"background:#c62828\"></i>errors (failed sends, client errors)</span>"
            + "<span><i class=\"sw\" style=\"background:#f08a4b\"></i>fault in effect</span>"
            + "<span><i class=\"sw\" style=\"background:#f9dcc4\"></i>injecting / healing until seen back</span></p>\n"
        return svg + legend
    }

    private static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ fill: String, opacity: Double = 1) -> String {
        "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"\(fill)\""
            + (opacity < 1 ? " fill-opacity=\"\(opacity)\"" : "") + "/>\n"
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
    private static func seconds(_ ms: Double) -> String { String(format: "%.2f", ms / 1000) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Writes a report's JSON and HTML into a directory (created if missing), named by the report's time,
/// plus `latest.json` and `latest.html` copies.
public enum ReportWriter {
    public static func write(_ report: LabReport, to directory: URL) throws -> (json: URL, html: URL) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stem = "lab-" + report.createdAt.replacingOccurrences(of: ":", with: "")
        let json = try ReportRenderer.json(report)
        let html = Data(ReportRenderer.html(report).utf8)
        let jsonURL = directory.appendingPathComponent(stem + ".json")
        let htmlURL = directory.appendingPathComponent(stem + ".html")
        try json.write(to: jsonURL)
        try html.write(to: htmlURL)
        try json.write(to: directory.appendingPathComponent("latest.json"))
        try html.write(to: directory.appendingPathComponent("latest.html"))
        return (jsonURL, htmlURL)
    }
}
