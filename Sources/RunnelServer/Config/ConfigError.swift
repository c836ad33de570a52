/// A configuration problem, worded for the operator who typed the value.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
