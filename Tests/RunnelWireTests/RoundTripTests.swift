import NIOCore
import XCTest
@testable import RunnelWire

final class RoundTripTests: XCTestCase {
    func testEveryMessageRoundTripsInEveryVersionWithAllFieldsSet() throws {
        for type in allSampledMessageTypes {
            try assertRoundTrips(type, nulls: false)
        }
    }

    func testEveryMessageRoundTripsInEveryVersionWithNullableFieldsNull() throws {
        for type in allSampledMessageTypes {
            try assertRoundTrips(type, nulls: true)
        }
    }

    func testEveryMessageRoundTripsWithDefaultValues() throws {
        for type in allSampledMessageTypes {
            try assertDefaultRoundTrips(type)
        }
    }

    func testEveryApiHasRequestAndResponseWithTheSameVersions() {
        XCTAssertEqual(allSampledMessageTypes.count, 2 * ApiKey.allCases.count)
        for type in allSampledMessageTypes {
            XCTAssertEqual(type.apiKey.versions, type.versions, "\(type)")
            XCTAssertEqual(type.apiKey.flexibleVersions?.lowerBound, type.flexibleVersions?.lowerBound, "\(type)")
        }
    }

    func testVersionsOutsideTheRangeAreRejected() {
        var buffer = ByteBuffer()
        XCTAssertThrowsError(try ProduceRequest().encode(into: &buffer, version: 10)) { error in
            XCTAssertEqual(error as? WireError, .unsupportedVersion(apiKey: .produce, version: 10))
        }
        XCTAssertThrowsError(try FetchRequest().encode(into: &buffer, version: 3))
        var input = ByteBuffer(bytes: [0, 0, 0, 0])
        XCTAssertThrowsError(try OffsetFetchRequest(from: &input, version: 8)) { error in
            XCTAssertEqual(error as? WireError, .unsupportedVersion(apiKey: .offsetFetch, version: 8))
        }
    }

    func testNonIgnorableFieldSetInVersionWithoutItIsAnEncodeError() {
        let request = ProduceRequest(transactionalId: "txn", acks: -1, timeoutMs: 1000)
        var buffer = ByteBuffer()
        XCTAssertThrowsError(try request.encode(into: &buffer, version: 2)) { error in
            XCTAssertEqual(
                error as? WireError, .fieldNotInVersion(field: "ProduceRequest.transactionalId", version: 2))
            XCTAssertEqual((error as? WireError)?.errorCode, .unsupportedVersion)
        }
        XCTAssertNoThrow(try request.encode(into: &buffer, version: 3))
    }

    func testIgnorableFieldSetInVersionWithoutItIsDropped() throws {
        // ThrottleTimeMs is ignorable and absent in ApiVersions v0.
        var response = ApiVersionsResponse()
        response.throttleTimeMs = 100
        var buffer = ByteBuffer()
        try response.encode(into: &buffer, version: 0)
        let decoded = try ApiVersionsResponse(from: &buffer, version: 0)
        XCTAssertEqual(decoded.throttleTimeMs, 0)
    }

    func testNullInNonNullableVersionIsAnEncodeError() {
        // MetadataRequestTopic.name becomes nullable only in v10.
        var request = MetadataRequest()
        request.topics = [MetadataRequest.MetadataRequestTopic(topicId: .zero, name: nil)]
        var buffer = ByteBuffer()
        XCTAssertThrowsError(try request.encode(into: &buffer, version: 9)) { error in
            XCTAssertEqual(error as? WireError, .unexpectedNull(field: "MetadataRequestTopic.name"))
        }
        XCTAssertNoThrow(try request.encode(into: &buffer, version: 10))
    }

    private func assertRoundTrips<Message: SampledMessage>(_ type: Message.Type, nulls: Bool) throws {
        for version in Message.versions {
            let original = Message.sample(version: version, nulls: nulls)
            var buffer = ByteBuffer()
            try original.encode(into: &buffer, version: version)
            let encoded = buffer
            let decoded = try Message(from: &buffer, version: version)
            XCTAssertEqual(decoded, original, "\(Message.self) v\(version) nulls=\(nulls)")
            XCTAssertEqual(buffer.readableBytes, 0, "\(Message.self) v\(version) left bytes unread")
            var again = ByteBuffer()
            try decoded.encode(into: &again, version: version)
            XCTAssertEqual(again, encoded, "\(Message.self) v\(version) re-encodes differently")
        }
    }

    private func assertDefaultRoundTrips<Message: SampledMessage>(_ type: Message.Type) throws {
        for version in Message.versions {
            var buffer = ByteBuffer()
            try Message().encode(into: &buffer, version: version)
            let decoded = try Message(from: &buffer, version: version)
            XCTAssertEqual(decoded, Message(), "\(Message.self) v\(version)")
            XCTAssertEqual(buffer.readableBytes, 0)
        }
    }
}
