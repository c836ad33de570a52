/// One broker of the lab as LAB-CONTRACT.md fixes it: container `runnel-nodeN`, client address
/// 172.28.1.1N:9092 (reached from the host directly, not through docker's port proxy), cluster address
/// 172.28.2.1N.
public struct LabNode: Hashable, Sendable, CustomStringConvertible {
    public static let all = [LabNode(1), LabNode(2), LabNode(3)]
    public static let clientSubnetPrefix = "172.28.1."
    public static let kafkaPort: UInt16 = 9092

    public let id: Int

    public init(_ id: Int) {
        precondition((1...9).contains(id), "lab nodes are numbered 1 to 9")
        self.id = id
    }

    public var container: String { "runnel-node\(id)" }
    public var clientHost: String { "\(Self.clientSubnetPrefix)1\(id)" }
    public var clusterHost: String { "172.28.2.1\(id)" }
    public var bootstrap: String { "\(clientHost):\(Self.kafkaPort)" }
    public var description: String { "node\(id)" }
}
