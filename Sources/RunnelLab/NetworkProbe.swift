#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a TCP connect from this host to an address came to.
public enum ConnectOutcome: Equatable, Sendable {
    case connected
    case refused
    case timedOut
    case failed(errno: Int32)

    public var isReachable: Bool { self == .connected }
}

/// Direct probes of a node from the host (no client library, no docker): whether its address accepts a
/// TCP connection, and whether the broker behind it answers an ApiVersions request in time.
public enum NetworkProbe {
    public static func connect(host: String, port: UInt16, timeoutMs: Int) -> ConnectOutcome {
        let (outcome, fd) = openConnection(host: host, port: port, timeoutMs: timeoutMs)
        if fd >= 0 { close(fd) }
        return outcome
    }

    /// True when the broker answers an ApiVersions v0 request with our correlation id within `timeoutMs`.
    public static func answersApiVersions(host: String, port: UInt16, timeoutMs: Int) -> Bool {
        let start = nowMs()
        let (outcome, fd) = openConnection(host: host, port: port, timeoutMs: timeoutMs)
        guard outcome == .connected, fd >= 0 else { return false }
        defer { close(fd) }
        let correlationID: Int32 = 0x52_4E_4C_01
        let request = apiVersionsRequest(correlationID: correlationID, clientID: "runnel-lab-probe")
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return false }
        // The size and the correlation id: eight bytes are enough to know the broker answered us.
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while response.count < 8 {
            let left = timeoutMs - (nowMs() - start)
            guard left > 0, waitFor(fd, events: Int16(POLLIN), timeoutMs: left) else { return false }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            response += buffer[0..<n]
        }
        let answered = response[4..<8].reduce(Int32(0)) { ($0 << 8) | Int32($1) }
        return answered == correlationID
    }

    /// Request header v1 (api key 18, version 0, correlation id, client id) and an empty v0 body.
    static func apiVersionsRequest(correlationID: Int32, clientID: String) -> [UInt8] {
        var body: [UInt8] = []
        func int16(_ v: Int16) { body += [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
        func int32(_ v: Int32) { for shift in stride(from: 24, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: v >> shift)) } }
        int16(18)
        int16(0)
        int32(correlationID)
        int16(Int16(clientID.utf8.count))
        body += Array(clientID.utf8)
        let size = Int32(body.count)
        return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: size >> $0) } + body
    }

    private static func openConnection(host: String, port: UInt16, timeoutMs: Int) -> (ConnectOutcome, Int32) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return (.failed(errno: EINVAL), -1) }
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return (.failed(errno: errno), -1) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started == 0 { return (.connected, fd) }
        guard errno == EINPROGRESS else {
            let code = errno
            close(fd)
            return (code == ECONNREFUSED ? .refused : .failed(errno: code), -1)
        }
        guard waitFor(fd, events: Int16(POLLOUT), timeoutMs: timeoutMs) else {
            close(fd)
            return (.timedOut, -1)
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error == 0 { return (.connected, fd) }
        close(fd)
        return (error == ECONNREFUSED ? .refused : error == ETIMEDOUT ? .timedOut : .failed(errno: error), -1)
    }

    private static func waitFor(_ fd: Int32, events: Int16, timeoutMs: Int) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let ready = poll(&entry, 1, Int32(max(0, timeoutMs)))
        return ready == 1
    }

    private static func nowMs() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
