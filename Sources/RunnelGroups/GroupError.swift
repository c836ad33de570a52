/// The Kafka error codes the group coordinator answers with, by name, with their wire numbers.
public enum GroupError: Int16, Sendable, Hashable {
    /// Also answers a commit beyond `offsetsPerGroupMax`, a limit Kafka lacks a code for.
    case unknownServerError = -1
    case none = 0
    case offsetMetadataTooLarge = 12
    case coordinatorNotAvailable = 15
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupID = 24
    case unknownMemberID = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    /// A field the coordinator would have to persist does not fit the records' int16 string length.
    case invalidRequest = 42
    case nonEmptyGroup = 68
    case groupIDNotFound = 69
    case memberIDRequired = 79
    case groupMaxSizeReached = 81
    case fencedInstanceID = 82

    public var code: Int16 { rawValue }
}
