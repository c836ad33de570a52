import Foundation
import XCTest

/// Runs a scenario script in the etcd datadriven style: each block is a command line, `----`, and the
/// expected output up to a blank line. With RUNNEL_REWRITE=1 the expected outputs are regenerated into the
/// source tree instead of compared.
struct ScriptBlock {
    var comments: [String]
    var command: String
    var expected: [String]
    var line: Int
}

enum ScriptRunner {
    static var rewriting: Bool { ProcessInfo.processInfo.environment["RUNNEL_REWRITE"] == "1" }

    static func parse(_ text: String) -> [ScriptBlock] {
        let lines = text.components(separatedBy: "\n")
        var blocks: [ScriptBlock] = []
        var comments: [String] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                i += 1
                continue
            }
            if line.hasPrefix("#") {
                comments.append(line)
                i += 1
                continue
            }
            let commandLine = i + 1
            var expected: [String] = []
            i += 1
            if i < lines.count && lines[i] == "----" {
                i += 1
                while i < lines.count && !lines[i].isEmpty {
                    expected.append(lines[i])
                    i += 1
                }
            }
            blocks.append(ScriptBlock(comments: comments, command: line, expected: expected, line: commandLine))
            comments = []
        }
        return blocks
    }

    static func run(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "testdata"),
            "missing testdata/\(name).txt", file: file, line: line)
        let text = try String(contentsOf: url, encoding: .utf8)
        var harness = ClusterHarness()
        var rewritten: [String] = []
        for block in parse(text) {
            let output: [String]
            do {
                output = try harness.execute(block.command)
            } catch {
                XCTFail("\(name).txt:\(block.line): `\(block.command)` failed: \(error)", file: file, line: line)
                return
            }
            let actual = output.isEmpty ? ["ok"] : output
            if rewriting {
                rewritten.append(contentsOf: block.comments)
                rewritten.append(block.command)
                rewritten.append("----")
                rewritten.append(contentsOf: actual)
                rewritten.append("")
            } else if actual != block.expected {
                XCTFail(
                    "\(name).txt:\(block.line): `\(block.command)`\n--- expected\n\(block.expected.joined(separator: "\n"))\n--- actual\n\(actual.joined(separator: "\n"))",
                    file: file, line: line)
                return
            }
        }
        if rewriting {
            let source = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent()
                .appendingPathComponent("testdata").appendingPathComponent("\(name).txt")
            try rewritten.joined(separator: "\n").write(to: source, atomically: true, encoding: .utf8)
        }
    }
}
