import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RunnelClient
import RunnelCompression
import RunnelRecords

struct Produce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Produce one record per line read from stdin (like kcat -P).")

    @OptionGroup var client: ClientOptions
    @Option(name: [.short, .long], help: "Topic.") var topic: String
    @Option(name: [.short, .long], help: "Partition.") var partition: Int32 = 0
    @Option(name: .customShort("K"), help: "Key separator: text before its first occurrence is the key.")
    var keySeparator: String?
    @Option(help: "Acknowledgements: all (-1), 1 or 0.") var acks: String = "all"
    @Option(name: [.customShort("z"), .long], help: "none, gzip, snappy, lz4 or zstd.") var compression: String = "none"
    @Option(help: "Records per batch.") var batchRecords: Int = 1000

    func run() async throws {
        let acksValue: Int16
        switch acks.lowercased() {
        case "all", "-1": acksValue = -1
        case "1": acksValue = 1
        case "0": acksValue = 0
        default: throw fail("--acks '\(acks)' must be all, -1, 1 or 0", code: 2)
        }
        guard let codec = CompressionCodec(name: compression) else {
            throw fail("--compression '\(compression)' must be none, gzip, snappy, lz4 or zstd", code: 2)
        }
        guard batchRecords >= 1 else { throw fail("--batch-records must be at least 1", code: 2) }
        if let keySeparator, keySeparator.isEmpty { throw fail("-K must not be empty", code: 2) }

        let produced = try await withClient(client) { client -> Int in
            var total = 0
            var builder = RecordBatchBuilder(codec: codec)
            func flush() async throws {
                guard !builder.isEmpty else { return }
                let batch = try builder.build()
                let count = builder.records.count
                builder = RecordBatchBuilder(codec: codec)
                let answer = try await client.produce(topic: topic, partition: partition, records: batch, acks: acksValue)
                if let answer, let error = kafkaError(answer.errorCode, message: answer.errorMessage) {
                    throw fail("produce to \(topic)-\(partition) failed: \(error)", code: 1)
                }
                total += count
            }
            while let line = readLine(strippingNewline: true) {
                let (key, value) = split(line)
                builder.append(key: key, value: value, timestampMs: Int64(Date().timeIntervalSince1970 * 1000))
                if builder.records.count >= batchRecords {
                    try await flush()
                }
            }
            try await flush()
            return total
        }
        printError("produced \(produced) record(s) to \(topic)-\(partition)")
    }

    private func split(_ line: String) -> (key: [UInt8]?, value: [UInt8]) {
        guard let keySeparator, let range = line.firstRange(of: keySeparator) else {
            return (nil, Array(line.utf8))
        }
        return (Array(line[..<range.lowerBound].utf8), Array(line[range.upperBound...].utf8))
    }
}
