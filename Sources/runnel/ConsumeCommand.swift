import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RunnelClient
import RunnelRecords
import RunnelWire

struct Consume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print records of one partition (like kcat -C).")

    @OptionGroup var client: ClientOptions
    @Option(name: [.short, .long], help: "Topic.") var topic: String
    @Option(name: [.short, .long], help: "Partition.") var partition: Int32 = 0
    @Option(
        name: [.short, .long], parsing: .unconditional,
        help: "Start: beginning, end, an offset, or -N for N records before the end.")
    var offset: String = "beginning"
    @Option(name: [.short, .long], help: "Stop after this many records.") var count: Int?
    @Flag(name: .short, help: "Exit when the end of the partition is reached.") var exitAtEnd = false
    @Option(
        name: [.short, .long],
        help: "Output format: %s value, %k key, %o offset, %p partition, %t topic, %T timestamp ms, \\n, \\t.")
    var format: String = "%s\\n"

    func run() async throws {
        if let count, count < 0 { throw fail("-c must not be negative", code: 2) }
        let format = OutputFormat(format)
        try await withClient(client) { client in
            var next = try await startOffset(client)
            var printed = 0
            while count.map({ printed < $0 }) ?? true {
                let data = try await client.fetch(topic: topic, partition: partition, offset: next)
                if let error = kafkaError(data.errorCode) {
                    throw fail("fetch from \(topic)-\(partition) at \(next) failed: \(error)", code: 1)
                }
                let batches: [RecordBatch]
                do {
                    batches = try RecordBatch.decodeAll(in: data.records ?? ByteBuffer(), maxUncompressedBytes: 64 * 1024 * 1024)
                } catch {
                    throw fail("cannot decode records of \(topic)-\(partition) at \(next): \(error)", code: 1)
                }
                for batch in batches {
                    // Control batches (transaction markers) carry no user records.
                    if !batch.header.isControl {
                        for record in batch.records where record.offset >= next {
                            if let count, printed >= count { break }
                            format.write(record, topic: topic, partition: partition)
                            printed += 1
                            next = record.offset + 1
                        }
                    }
                    if count.map({ printed >= $0 }) ?? false { break }
                    next = max(next, batch.header.nextOffset)
                }
                if exitAtEnd, next >= data.highWatermark { break }
            }
        }
    }

    private func startOffset(_ client: KafkaClient) async throws -> Int64 {
        func resolve(_ spec: KafkaClient.OffsetSpec) async throws -> Int64 {
            let answer = try await client.listOffsets(topic: topic, partition: partition, spec: spec)
            if let error = kafkaError(answer.errorCode) {
                throw fail("cannot list offsets of \(topic)-\(partition): \(error)", code: 1)
            }
            return answer.offset
        }
        switch offset.lowercased() {
        case "beginning": return try await resolve(.earliest)
        case "end": return try await resolve(.latest)
        default:
            guard let value = Int64(offset) else {
                throw fail("-o '\(offset)' must be beginning, end, an offset or -N", code: 2)
            }
            if value >= 0 { return value }
            let end = try await resolve(.latest)
            let start = try await resolve(.earliest)
            return max(start, end + value)
        }
    }
}

/// A kcat-style output format, parsed once.
struct OutputFormat {
    enum Piece {
        case text(String)
        case value, key, offset, partition, topic, timestamp
    }

    let pieces: [Piece]

    init(_ format: String) {
        var pieces: [Piece] = []
        var text = ""
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%" || character == "\\" else {
                text.append(character)
                continue
            }
            guard let code = iterator.next() else {
                text.append(character)
                break
            }
            let piece: Piece?
            switch (character, code) {
            case ("%", "s"): piece = .value
            case ("%", "k"): piece = .key
            case ("%", "o"): piece = .offset
            case ("%", "p"): piece = .partition
            case ("%", "t"): piece = .topic
            case ("%", "T"): piece = .timestamp
            case ("\\", "n"): text.append("\n"); piece = nil
            case ("\\", "t"): text.append("\t"); piece = nil
            default: text.append(character); text.append(code); piece = nil
            }
            if let piece {
                if !text.isEmpty { pieces.append(.text(text)); text = "" }
                pieces.append(piece)
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        self.pieces = pieces
    }

    func write(_ record: Record, topic: String, partition: Int32) {
        var out: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .text(let text): out += Array(text.utf8)
            case .value: out += record.value ?? []
            case .key: out += record.key ?? []
            case .offset: out += Array(String(record.offset).utf8)
            case .partition: out += Array(String(partition).utf8)
            case .topic: out += Array(topic.utf8)
            case .timestamp: out += Array(String(record.timestampMs).utf8)
            }
        }
        writeAll(out, to: standardOutput)
    }
}

import NIOCore
