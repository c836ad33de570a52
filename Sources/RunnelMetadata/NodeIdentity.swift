import RunnelStorage

/// Who owns a data directory: the cluster, the node and the directory's own id, kept in
/// `meta.properties` (Kafka's name). A broker refuses a directory of another node or cluster, and a
/// wiped directory gets a new directory id, so it can never pass for the replica it replaced.
public struct NodeIdentity: Hashable, Sendable {
    public var clusterID: String
    public var nodeID: BrokerID
    public var directoryID: UUID128

    public enum Mismatch: Error, Equatable, CustomStringConvertible {
        case otherNode(found: BrokerID, expected: BrokerID)
        case otherCluster(found: String, expected: String)
        case unreadable(String)
        public var description: String {
            switch self {
            case .otherNode(let found, let expected):
                return "the data directory belongs to node \(found), not to node \(expected)"
            case .otherCluster(let found, let expected):
                return "the data directory belongs to cluster \(found), not to cluster \(expected)"
            case .unreadable(let reason):
                return "meta.properties is unreadable: \(reason)"
            }
        }
    }

    /// Reads the directory's identity, or writes a new one when the directory has none.
    /// `clusterID` nil accepts whatever cluster the directory names (or makes one when new).
    public static func loadOrCreate<G: RandomNumberGenerator>(
        fileSystem: any FileSystem, directory: String, nodeID: BrokerID, clusterID: String?, using generator: inout G
    ) throws -> NodeIdentity {
        let path = Path.join(directory, "meta.properties")
        try fileSystem.createDirectory(directory)
        if fileSystem.fileExists(path) {
            let text = String(decoding: try fileSystem.openFile(path, options: []).readAll(), as: UTF8.self)
            var values: [String: String] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            guard let cluster = values["cluster.id"], let node = values["node.id"].flatMap({ BrokerID($0) }),
                let directory = values["directory.id"].flatMap({ UUID128(base64: $0) })
            else { throw Mismatch.unreadable(path) }
            guard node == nodeID else { throw Mismatch.otherNode(found: node, expected: nodeID) }
            if let clusterID, clusterID != cluster { throw Mismatch.otherCluster(found: cluster, expected: clusterID) }
            return NodeIdentity(clusterID: cluster, nodeID: node, directoryID: directory)
        }
        let identity = NodeIdentity(
            clusterID: clusterID ?? UUID128.random(using: &generator).base64, nodeID: nodeID,
            directoryID: UUID128.random(using: &generator))
        let text = "#Written by Runnel; do not edit.\nversion=1\ncluster.id=\(identity.clusterID)\nnode.id=\(nodeID)\ndirectory.id=\(identity.directoryID.base64)\n"
        try fileSystem.writeAtomically(Array(text.utf8), to: path)
        return identity
    }
}
