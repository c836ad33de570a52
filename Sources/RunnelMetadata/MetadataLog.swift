import RunnelChecksum
import RunnelStorage
import Synchronization

/// Where metadata changes become durable and ordered. The broker depends only on this: a local file
/// implements it on one node; the Raft-replicated `__meta` log implements it in a cluster.
public protocol MetadataLog: Sendable {
    /// The newest applied image.
    var image: MetadataImage { get }
    /// Runs `decide` against the newest image — serially, so decisions never race — makes its records
    /// durable, applies them, and returns the image after them.
    func submit(_ decide: @Sendable (MetadataImage) throws -> [MetadataRecord]) async throws -> MetadataImage
    /// Registers an observer called after each applied batch, in order.
    func observe(_ observer: @escaping @Sendable (_ image: MetadataImage, _ applied: [MetadataRecord]) -> Void)
}

public enum MetadataLogError: Error, Equatable, CustomStringConvertible {
    case corrupt(path: String, reason: String)
    public var description: String {
        switch self { case .corrupt(let path, let reason): return "metadata log \(path) is corrupt: \(reason)" }
    }
}

/// The one-node metadata log: after each change the whole image is written as a snapshot of records
/// (crash-safe through `writeAtomically`), which on one node is the same as a log of them and keeps
/// recovery trivial. Metadata is small and changes rarely.
public final class LocalMetadataLog: MetadataLog {
    struct State {
        var image: MetadataImage
        var observers: [@Sendable (MetadataImage, [MetadataRecord]) -> Void] = []
    }

    private let fileSystem: any FileSystem
    private let path: String
    private let state: Mutex<State>
    static let magic = Array("RNLMETA1".utf8)

    public init(fileSystem: any FileSystem, directory: String) throws {
        self.fileSystem = fileSystem
        self.path = Path.join(directory, "metadata.snapshot")
        var image = MetadataImage()
        if fileSystem.fileExists(path) {
            for record in try Self.read(try fileSystem.openFile(path, options: []).readAll(), path: path) {
                image.apply(record)
            }
        }
        state = Mutex(State(image: image))
    }

    public var image: MetadataImage { state.withLock { $0.image } }

    public func observe(_ observer: @escaping @Sendable (MetadataImage, [MetadataRecord]) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    public func submit(_ decide: @Sendable (MetadataImage) throws -> [MetadataRecord]) async throws -> MetadataImage {
        // Deciding, persisting and applying under one lock: the local log's "consensus" is this lock.
        let (image, records, observers) = try state.withLock { s throws in
            let records = try decide(s.image)
            guard !records.isEmpty else { return (s.image, records, [@Sendable (MetadataImage, [MetadataRecord]) -> Void]()) }
            var next = s.image
            for record in records { next.apply(record) }
            try fileSystem.writeAtomically(Self.encode(next.snapshotRecords), to: path)
            s.image = next
            return (next, records, s.observers)
        }
        if !records.isEmpty { for observer in observers { observer(image, records) } }
        return image
    }

    static func encode(_ records: [MetadataRecord]) -> [UInt8] {
        var out = magic
        for record in records {
            let payload = MetadataRecordCodec.encode(record)
            append(UInt32(payload.count), to: &out)
            append(CRC32C.checksum(payload), to: &out)
            out += payload
        }
        return out
    }

    static func read(_ bytes: [UInt8], path: String) throws -> [MetadataRecord] {
        guard bytes.starts(with: magic) else { throw MetadataLogError.corrupt(path: path, reason: "bad magic") }
        var position = magic.count
        var records: [MetadataRecord] = []
        while position < bytes.count {
            guard bytes.count - position >= 8 else { throw MetadataLogError.corrupt(path: path, reason: "truncated frame") }
            let length = Int(uint32(bytes, position)), crc = uint32(bytes, position + 4)
            position += 8
            guard bytes.count - position >= length else { throw MetadataLogError.corrupt(path: path, reason: "truncated record") }
            let payload = Array(bytes[position..<position + length])
            guard CRC32C.checksum(payload) == crc else { throw MetadataLogError.corrupt(path: path, reason: "checksum mismatch") }
            records.append(try MetadataRecordCodec.decode(payload))
            position += length
        }
        return records
    }

    static func append(_ value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
