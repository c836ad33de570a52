import NIOCore
import RunnelCompression
@testable import RunnelLog
import RunnelRecords

/// Record batches as a producer sends them and as segments hold them. The first input byte chooses
/// whether the batches' CRCs are fixed up first (odd) so that the code behind the CRC check is reached.
enum RecordTargets {
    static let uncompressedBytesMax = 1 << 20

    static func batches(_ bytes: [UInt8]) -> ByteBuffer {
        var reader = InputReader(bytes)
        let fixCRCs = reader.byte() & 1 == 1
        var rest = reader.rest
        if fixCRCs { Checksums.fixRecordBatches(&rest) }
        return ByteBuffer(bytes: rest)
    }

    /// What the produce path runs on a client's records: every record of every batch checked (for a
    /// compacted topic, keys required too); what it accepts decodes.
    static func validate(_ bytes: [UInt8]) {
        let buffer = batches(bytes)
        let validator = RecordBatchValidator(maxMessageBytes: uncompressedBytesMax, uncompressedBytesMax: uncompressedBytesMax)
        _ = try? RecordBatchValidator(maxMessageBytes: uncompressedBytesMax, uncompressedBytesMax: uncompressedBytesMax,
                                      requiresKeys: true).validate(buffer)
        guard let headers = try? validator.validate(buffer) else { return }
        require(!headers.isEmpty || buffer.readableBytes == 0, "validation accepted bytes holding no batch")
        require(headers.reduce(0) { $0 + $1.totalSize } == buffer.readableBytes, "validated batches do not cover the buffer")
        require((try? RecordBatch.decodeAll(in: buffer, maxUncompressedBytes: uncompressedBytesMax)) != nil,
                "validation accepted records that do not decode")
        // Accepted batches must take the leader's stamping (what the log does next).
        _ = try? RecordBatchStamping.stampedHeaders(for: buffer, baseOffset: 0, partitionLeaderEpoch: 0, logAppendTimeMs: nil)
    }

    /// What a consumer or the group loader does with fetched records: decode every record, with and
    /// without checksum verification; what decodes rebuilds into a batch that decodes the same.
    static func decode(_ bytes: [UInt8]) {
        let buffer = batches(bytes)
        _ = try? RecordBatch.decodeAll(in: buffer, maxUncompressedBytes: uncompressedBytesMax)
        guard let decoded = try? RecordBatch.decodeAll(in: buffer, maxUncompressedBytes: uncompressedBytesMax, verifyingChecksums: false)
        else { return }
        for batch in decoded where !batch.records.isEmpty {
            // Offsets and timestamps from the wire may break the builder's own preconditions: only the
            // contents are carried over.
            var builder = RecordBatchBuilder()
            for record in batch.records {
                builder.append(key: record.key, value: record.value, headers: record.headers, timestampMs: 0)
            }
            guard let rebuilt = try? builder.build() else { continue }
            guard let again = try? RecordBatch.decodeAll(in: rebuilt, maxUncompressedBytes: uncompressedBytesMax) else {
                fatalError("a batch built from decoded records does not decode")
            }
            require(again.first?.records.map(\.key) == batch.records.map(\.key), "keys changed in a rebuilt batch")
            require(again.first?.records.map(\.value) == batch.records.map(\.value), "values changed in a rebuilt batch")
            require(again.first?.records.map(\.headers) == batch.records.map(\.headers), "headers changed in a rebuilt batch")
        }
    }

    /// The cleaner's view of stored batches (ScannedBatch); a batch rebuilt keeping every record scans
    /// to the same records.
    static func scan(_ bytes: [UInt8]) {
        let buffer = batches(bytes)
        var iterator = RecordBatchIterator(buffer)
        while let entry = try? iterator.next() {
            let stored = entry.bytes.getBytes(at: entry.bytes.readerIndex, length: entry.bytes.readableBytes) ?? []
            guard let scanned = try? ScannedBatch(stored: stored, header: entry.header, maxUncompressedBytes: uncompressedBytesMax)
            else { continue }
            guard let rebuilt = try? scanned.rebuilt(keeping: scanned.records) else { continue }
            guard let header = try? RecordBatchHeader(parsing: ByteBuffer(bytes: rebuilt), at: 0),
                let again = try? ScannedBatch(stored: rebuilt, header: header, maxUncompressedBytes: uncompressedBytesMax)
            else { fatalError("a batch rebuilt keeping every record does not scan") }
            require(again.records.map(\.key) == scanned.records.map(\.key), "keys changed in a rebuilt batch")
            require(again.records.map(\.offset) == scanned.records.map(\.offset), "offsets changed in a rebuilt batch")
            require(again.records.map(\.isTombstone) == scanned.records.map(\.isTombstone), "tombstones changed in a rebuilt batch")
        }
    }

    /// The first byte picks the codec (gzip, snappy, lz4, zstd); the rest is compressed input. Output
    /// stays within the bound, and compressing it again round-trips.
    static func decompress(_ bytes: [UInt8]) {
        var reader = InputReader(bytes)
        let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
        let codec = codecs[Int(reader.byte()) % codecs.count]
        let input = reader.rest
        guard let output = try? Compression.decompress(input, codec: codec, maxOutputBytes: uncompressedBytesMax) else { return }
        require(output.count <= uncompressedBytesMax, "\(codec) inflated past its bound")
        guard let recompressed = try? Compression.compress(output, codec: codec) else {
            fatalError("\(codec) cannot compress what it decompressed")
        }
        require((try? Compression.decompress(recompressed, codec: codec, maxOutputBytes: uncompressedBytesMax)) == output,
                "\(codec) does not round-trip")
    }
}
