/// A named listener as Kafka names them: `CLIENT://0.0.0.0:9092`.
/// Each accepted connection carries the name of the listener it arrived on, so Metadata can answer
/// with that listener's advertised address.
public struct Listener: Hashable, Sendable, CustomStringConvertible {
    /// Upper-cased, as Kafka treats listener names.
    public let name: String
    public let host: String
    public let port: Int

    public init(name: String, host: String, port: Int) {
        precondition(!name.isEmpty, "listener name must not be empty")
        precondition((0...65535).contains(port), "port out of range: \(port)")
        self.name = name
        self.host = host
        self.port = port
    }

    public var hostPort: HostPort { HostPort(host: host, port: port) }

    public var description: String { "\(name)://\(hostPort)" }

    /// Parses a comma-separated list such as `CLIENT://0.0.0.0:9092,INTERNAL://:9192`.
    /// `what` names the setting in error messages. Names must be unique.
    public static func parseList(_ text: String, what: String) throws(ConfigError) -> [Listener] {
        var listeners: [Listener] = []
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingWhitespace()
            if item.isEmpty {
                throw ConfigError("\(what): empty entry in '\(text)'")
            }
            guard let separator = item.range(of: "://") else {
                throw ConfigError("\(what): '\(item)' is not NAME://HOST:PORT")
            }
            let name = item[..<separator.lowerBound].uppercased()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ConfigError("\(what): '\(item)' has an invalid listener name; use letters, digits, '_' or '-'")
            }
            let address = try HostPort.parse(String(item[separator.upperBound...]), what: "\(what) \(name)")
            if listeners.contains(where: { $0.name == name }) {
                throw ConfigError("\(what): listener name \(name) appears twice")
            }
            listeners.append(Listener(name: name, host: address.host, port: address.port))
        }
        return listeners
    }
}

extension Substring {
    fileprivate func range(of needle: String) -> Range<Substring.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) {
                return index..<self.index(index, offsetBy: needle.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
