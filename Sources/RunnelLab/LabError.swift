/// A lab step that did not happen as required (a client that would not start, a fault that did not take).
public struct LabError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
