import RunnelStorage

/// `partition.metadata` in a partition's directory: which topic id the log belongs to, in Kafka's
/// format (`version: 0`, then `topic_id: <base64url id>`), so the directory name can be Kafka's
/// `<topic>-<partition>` and a recreated topic still never meets the old topic's files.
enum PartitionMetadataFile {
    static let name = "partition.metadata"
    static let version = 0

    static func encode(_ id: TopicUUID) -> [UInt8] {
        Array("version: \(version)\ntopic_id: \(id.base64)".utf8)
    }

    /// The topic id, or nil for anything but a version-0 file with one.
    static func decode(_ bytes: [UInt8]) -> TopicUUID? {
        var values: [Substring: Substring] = [:]
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            values[line[..<colon]] = line[line.index(after: colon)...].drop(while: { $0 == " " })
        }
        guard values["version"] == "\(version)", let id = values["topic_id"] else { return nil }
        return TopicUUID(base64: id)
    }

    /// The id in `directory`'s file; nil when there is none, or it is unreadable.
    static func read(directory: String, fileSystem: any FileSystem) throws -> TopicUUID? {
        let path = Path.join(directory, name)
        guard fileSystem.fileExists(path) else { return nil }
        let file = try fileSystem.openFile(path, options: [])
        defer { file.close() }
        return decode(try file.readAll())
    }

    /// Writes the file durably (temporary file, fsync, rename, fsync of the directory).
    static func write(_ id: TopicUUID, directory: String, fileSystem: any FileSystem) throws {
        try fileSystem.writeAtomically(encode(id), to: Path.join(directory, name))
    }
}
