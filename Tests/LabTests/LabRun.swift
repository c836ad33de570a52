import Foundation
import RunnelLab
import Synchronization

/// The summaries of this test run's scenarios, printed and written when the scenario class finishes.
final class LabRun: Sendable {
    static let shared = LabRun()

    private let summaries = Mutex<[ScenarioSummary]>([])

    func add(_ summary: ScenarioSummary) {
        summaries.withLock { $0.append(summary) }
    }

    var report: LabReport {
        let createdAt = ISO8601DateFormatter().string(from: Date())
        return LabReport(
            createdAt: createdAt, librdkafkaVersion: Librdkafka.version,
            scenarios: summaries.withLock { $0 }.sorted { $0.name < $1.name })
    }

    static var reportDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".lab/reports")
    }

    /// Prints the table and the closing line; writes the JSON and HTML reports.
    func finish() {
        let report = report
        guard !report.scenarios.isEmpty else { return }
        print("\n" + ReportRenderer.text(report))
        // A run with no lab writes nothing, so it never replaces the report of a run that had one.
        guard report.executedCount > 0 || report.blockedCount > 0 else { return }
        do {
            let (json, html) = try ReportWriter.write(report, to: Self.reportDirectory)
            print("lab report: \(json.path)\nlab report: \(html.path)")
        } catch {
            print("lab report not written: \(error)")
        }
    }
}
