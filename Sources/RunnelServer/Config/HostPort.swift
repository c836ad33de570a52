/// A `HOST:PORT` pair as typed on a command line; IPv6 hosts are written in brackets (`[::1]:9092`).
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        precondition((0...65535).contains(port), "port out of range: \(port)")
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (empty host: every interface).
    /// `what` names the setting in error messages.
    public static func parse(_ text: String, what: String) throws(ConfigError) -> HostPort {
        let trimmed = text.trimmingWhitespace()
        let host: Substring
        let portText: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw ConfigError("\(what): '\(text)' opens an IPv6 address with '[' but never closes it")
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ConfigError("\(what): '\(text)' needs ':PORT' after the IPv6 address")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else {
                throw ConfigError("\(what): '\(text)' is not HOST:PORT")
            }
            host = trimmed[..<colon]
            if host.contains(":") {
                throw ConfigError("\(what): '\(text)' looks like an IPv6 address; write it as [ADDRESS]:PORT")
            }
            portText = trimmed[trimmed.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigError("\(what): '\(text)' has port '\(portText)'; expected a number from 0 to 65535")
        }
        if host.contains(where: { $0 == " " || $0 == "/" }) {
            throw ConfigError("\(what): '\(text)' has an invalid host '\(host)'")
        }
        return HostPort(host: String(host), port: port)
    }

    /// True for hosts that mean "every interface" when binding.
    public var isWildcard: Bool {
        host.isEmpty || host == "0.0.0.0" || host == "::"
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return s
    }
}
