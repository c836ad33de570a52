@testable import RunnelGroups
@testable import RunnelLog
import RunnelMetadata
@testable import RunnelRaftStorage
import RunnelStorage

/// Codecs of what the broker persists: bytes as read back from disk decode to a value or to nothing,
/// and a decoded value survives its own encoding.
enum CodecTargets {
    /// An offsets-topic record: a u16 key length, the key, then the value (absent when the first byte is even:
    /// a tombstone).
    static func groupRecord(_ bytes: [UInt8]) {
        var reader = InputReader(bytes)
        let hasValue = reader.byte() & 1 == 1
        let keyLength = reader.uint16()
        let rest = reader.rest
        let key = Array(rest.prefix(keyLength))
        let value = hasValue ? Array(rest.dropFirst(keyLength)) : nil
        guard let record = GroupRecord.decode(key: key, value: value) else { return }
        let encoded = record.encoded()
        require(GroupRecord.decode(key: encoded.key, value: encoded.value) == record, "group record does not round-trip: \(record)")
    }

    /// A record of the metadata log.
    static func metadataRecord(_ bytes: [UInt8]) {
        guard let record = try? MetadataRecordCodec.decode(bytes) else { return }
        require((try? MetadataRecordCodec.decode(MetadataRecordCodec.encode(record))) == record, "metadata record does not round-trip: \(record)")
    }

    /// The first byte picks the file: offset checkpoint, leader-epoch checkpoint, producer snapshot, Raft
    /// snapshot, Raft directory identity, or the broker's meta.properties (read as the broker reads it).
    static func checkpointFile(_ bytes: [UInt8]) {
        var reader = InputReader(bytes)
        let kind = reader.byte() % 6
        let file = reader.rest
        switch kind {
        case 0:
            guard let offset = CheckpointFile.decodeOffset(file) else { return }
            require(CheckpointFile.decodeOffset(CheckpointFile.encode(offset: offset)) == offset, "offset checkpoint does not round-trip")
        case 1:
            guard let epochs = CheckpointFile.decodeEpochs(file) else { return }
            require(CheckpointFile.decodeEpochs(CheckpointFile.encode(epochs: epochs)) == epochs, "epoch checkpoint does not round-trip")
        case 2:
            guard let table = ProducerSnapshotFile.decode(file) else { return }
            require(ProducerSnapshotFile.decode(ProducerSnapshotFile.encode(table)) == table, "producer snapshot does not round-trip")
        case 3:
            guard let snapshot = SnapshotFile.decode(file) else { return }
            require(SnapshotFile.decode(SnapshotFile.encode(snapshot)) == snapshot, "Raft snapshot file does not round-trip")
        case 4:
            guard let identity = DirectoryIdentity(decoding: file) else { return }
            require(DirectoryIdentity(decoding: identity.encoded()) == identity, "directory identity does not round-trip")
        default:
            let fileSystem = SimulatedFileSystem()
            var random = SplitMix64(seed: 1)
            do {
                try fileSystem.createDirectory("/data")
                let handle = try fileSystem.openFile("/data/meta.properties", options: [.create])
                try handle.write(file, at: 0)
                handle.close()
            } catch {
                fatalError("the simulated disk refused a write: \(error)")
            }
            _ = try? NodeIdentity.loadOrCreate(fileSystem: fileSystem, directory: "/data", nodeID: 1, clusterID: nil, using: &random)
        }
    }
}
