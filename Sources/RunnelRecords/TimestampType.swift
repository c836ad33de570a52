/// Whose clock stamped a batch: the producer's (CreateTime) or the leader's at append (LogAppendTime).
public enum TimestampType: Sendable, Hashable {
    case createTime
    case logAppendTime
}
