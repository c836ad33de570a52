import Foundation
import NIOCore
import XCTest
@testable import RunnelWire

/// Writes every sample encoding (message, version, nulls, hex) to the file named by
/// RUNNEL_WIRE_SAMPLE_DUMP, for tools/codegen/crosscheck.py to compare against another
/// implementation. Skipped when the variable is unset.
final class SampleDumpTests: XCTestCase {
    func testDumpSampleEncodingsForCrossCheck() throws {
        guard let path = ProcessInfo.processInfo.environment["RUNNEL_WIRE_SAMPLE_DUMP"] else {
            throw XCTSkip("set RUNNEL_WIRE_SAMPLE_DUMP=/path to write sample encodings")
        }
        var lines: [String] = []
        for type in allSampledMessageTypes {
            lines += try encodings(type)
        }
        XCTAssertGreaterThan(lines.count, 500)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func encodings<Message: SampledMessage>(_ type: Message.Type) throws -> [String] {
        var lines: [String] = []
        for version in Message.versions {
            for nulls in [false, true] {
                var buffer = ByteBuffer()
                try Message.sample(version: version, nulls: nulls).encode(into: &buffer, version: version)
                let hex = buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
                lines.append("\(Message.self) \(version) \(nulls) \(hex)")
            }
        }
        return lines
    }
}
