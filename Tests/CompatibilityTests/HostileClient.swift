import Foundation
import NIOCore
import RunnelWire
import XCTest

/// A client that sends whatever bytes it is given to a `runnel serve` process over a plain blocking
/// socket, for the hostile-input suite (`Hostile*Tests`): each test sends a raw or doctored request,
/// then `assertStillServes` checks that the process is alive and answers, and, for anything the request
/// could have persisted, `assertRestartsAndServes` that it starts again on the same data directory.
final class HostileClient {
    private let fd: Int32
    private var correlation: Int32 = 0

    init(port: Int, receiveTimeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw Failure("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Encodes a request frame (size prefix included) the way a real client would.
    func frame<Request: KafkaRequestMessage>(_ request: Request, version: Int16, clientId: String? = "hostile") throws -> [UInt8] {
        correlation += 1
        var buffer = ByteBuffer()
        try RequestFrame.encode(request, version: version, correlationId: correlation, clientId: clientId, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Writes all of `bytes`; false when the broker closed the connection first.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a broker that died must fail the test, not kill the test process with SIGPIPE.
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// The next response frame's payload (size prefix removed), or nil when the connection closed or
    /// nothing came within the receive timeout.
    func receiveFrame() -> ByteBuffer? {
        guard let size = readExactly(4) else { return nil }
        let length = Int(Int32(bigEndian: size.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard length >= 0, length <= 256 * 1024 * 1024, let body = readExactly(length) else { return nil }
        return ByteBuffer(bytes: body)
    }

    /// Sends a request and decodes its response; nil when the broker answered nothing (closed).
    func call<Request: KafkaRequestMessage>(_ request: Request, version: Int16, clientId: String? = "hostile") throws -> Request.Response? {
        guard send(try frame(request, version: version, clientId: clientId)), let payload = receiveFrame() else { return nil }
        return try ResponseFrame.decode(Request.Response.self, version: version, payload: payload).message
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var read = 0
        while read < count {
            let n = bytes[read...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            read += n
        }
        return bytes
    }
}

extension BrokerProcess {
    /// The process is running and answers ApiVersions on a new connection.
    func assertStillServes(_ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
        guard let process, process.isRunning else {
            XCTFail("the broker died (\(message())); log:\n\(log.suffix(4000))", file: file, line: line)
            return
        }
        do {
            let client = try HostileClient(port: port)
            let response = try client.call(ApiVersionsRequest(), version: 3)
            XCTAssertEqual(response?.errorCode, 0, "ApiVersions after \(message())", file: file, line: line)
        } catch {
            XCTFail("the broker does not answer (\(message())): \(error); log:\n\(log.suffix(4000))", file: file, line: line)
        }
    }

    /// SIGKILLs the broker, starts it again on the same data directory and checks that it serves.
    func assertRestartsAndServes(_ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
        kill()
        do {
            try start()
        } catch {
            XCTFail("the broker does not start again (\(message())): \(error)", file: file, line: line)
            return
        }
        assertStillServes(message(), file: file, line: line)
    }
}

/// The requests the hostile-input suite builds again and again, built one way: topics of RF 1, and one
/// batch produced to one partition.
enum HostileRequests {
    static func createTopics(_ names: [String], partitions: Int32 = 1, configs: [String: String] = [:]) -> CreateTopicsRequest {
        var request = CreateTopicsRequest()
        request.topics = names.map { name in
            var topic = CreateTopicsRequest.CreatableTopic()
            topic.name = name
            topic.numPartitions = partitions
            topic.replicationFactor = 1
            topic.configs = configs.sorted { $0.key < $1.key }.map { key, value in
                var config = CreateTopicsRequest.CreatableTopicConfig()
                config.name = key
                config.value = value
                return config
            }
            return topic
        }
        request.timeoutMs = 30_000
        return request
    }

    static func produce(topic: String, partition: Int32 = 0, records: ByteBuffer, acks: Int16 = -1) -> ProduceRequest {
        var data = ProduceRequest.PartitionProduceData()
        data.index = partition
        data.records = records
        var topicData = ProduceRequest.TopicProduceData()
        topicData.name = topic
        topicData.partitionData = [data]
        var request = ProduceRequest()
        request.acks = acks
        request.timeoutMs = 10_000
        request.topicData = [topicData]
        return request
    }
}
