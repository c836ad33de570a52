import RunnelChecksum
import RunnelStorage

/// The small per-partition checkpoint files, each written whole with `writeAtomically` (temporary file,
/// fsync, rename, directory fsync), so a crash leaves the old or the new content.
/// Layout: magic "RNCK" (4), version u16, kind u8, count u32, entries, CRC-32C of everything before (4).
enum CheckpointFile {
    static let highWatermark = "high-watermark-checkpoint"
    static let logStartOffset = "log-start-offset-checkpoint"
    /// An offset everything below which was synced (the flushed offset when last written): recovery trusts
    /// the segments wholly below it and reports damage below it as corruption instead of cutting it.
    /// Files of older versions hold the active segment's base offset, a lower bound of the same.
    static let recoveryPoint = "recovery-point-checkpoint"
    static let leaderEpochs = "leader-epoch-checkpoint"
    /// Written by a clean close with the active segment's size (after syncing it and its indexes), and
    /// removed by the next open before anything is written: while it matches, the last segment need not
    /// be scanned.
    static let cleanShutdown = "clean-shutdown"
    /// The first offset the cleaner has not compacted yet (Kafka's cleaner-offset-checkpoint, per log here).
    static let cleanerOffset = "cleaner-offset-checkpoint"

    private static let magic: UInt32 = 0x524E_434B
    private static let version: UInt16 = 1
    private static let kindOffset: UInt8 = 1
    private static let kindEpochs: UInt8 = 2
    private static let entriesMax = 1 << 20

    static func encode(offset: Int64) -> [UInt8] {
        var bytes = header(kind: kindOffset, count: 1)
        bytes.appendBigEndian(offset)
        return sealed(bytes)
    }

    static func encode(epochs: [EpochEntry]) -> [UInt8] {
        var bytes = header(kind: kindEpochs, count: epochs.count)
        for entry in epochs {
            bytes.appendBigEndian(entry.epoch)
            bytes.appendBigEndian(entry.startOffset)
        }
        return sealed(bytes)
    }

    /// nil when the bytes are not an intact offset checkpoint.
    static func decodeOffset(_ bytes: [UInt8]) -> Int64? {
        guard let (count, body) = verified(bytes, kind: kindOffset), count == 1, body.count == 8 else { return nil }
        return body.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(fromByteOffset: 0, as: Int64.self)) }
    }

    /// nil when the bytes are not an intact, monotonic epoch checkpoint.
    static func decodeEpochs(_ bytes: [UInt8]) -> [EpochEntry]? {
        guard let (count, body) = verified(bytes, kind: kindEpochs), body.count == count * 12 else { return nil }
        let entries = body.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count, by: 12).map { at in
                EpochEntry(epoch: Int32(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)),
                           startOffset: Int64(bigEndian: raw.loadUnaligned(fromByteOffset: at + 4, as: Int64.self)))
            }
        }
        guard entries.allSatisfy({ $0.epoch >= 0 && $0.startOffset >= 0 }), LeaderEpochCache.isMonotonic(entries) else {
            return nil
        }
        return entries
    }

    static func read(_ path: String, fileSystem: any FileSystem) throws -> [UInt8]? {
        guard fileSystem.fileExists(path) else { return nil }
        let file = try fileSystem.openFile(path, options: [])
        defer { file.close() }
        return try file.readAll()
    }

    private static func header(kind: UInt8, count: Int) -> [UInt8] {
        precondition(count <= entriesMax)
        var bytes: [UInt8] = []
        bytes.appendBigEndian(magic)
        bytes.appendBigEndian(version)
        bytes.append(kind)
        bytes.appendBigEndian(UInt32(count))
        return bytes
    }

    private static func sealed(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        bytes.appendBigEndian(CRC32C.checksum(bytes))
        return bytes
    }

    /// The entry count and the entry bytes; nil if the magic, version, kind, count or CRC is off.
    private static func verified(_ bytes: [UInt8], kind: UInt8) -> (count: Int, body: [UInt8])? {
        let headerBytes = 4 + 2 + 1 + 4
        guard bytes.count >= headerBytes + 4 else { return nil }
        let stored = bytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)) }
        guard CRC32C.checksum(bytes[..<(bytes.count - 4)]) == stored else { return nil }
        return bytes.withUnsafeBytes { raw -> (count: Int, body: [UInt8])? in
            guard UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic,
                UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) == version,
                raw[6] == kind
            else { return nil }
            let count = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 7, as: UInt32.self))
            guard count <= entriesMax else { return nil }
            return (Int(count), Array(bytes[headerBytes..<(bytes.count - 4)]))
        }
    }
}
