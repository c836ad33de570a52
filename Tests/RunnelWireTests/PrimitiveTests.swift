import NIOCore
import XCTest
@testable import RunnelWire

final class PrimitiveTests: XCTestCase {
    private func bytes(_ write: (inout ByteBuffer) throws -> Void) rethrows -> [UInt8] {
        var buffer = ByteBuffer()
        try write(&buffer)
        return Array(buffer.readableBytesView)
    }

    func testUnsignedVarintUsesSevenBitGroupsAtTheBoundaries() throws {
        let cases: [(UInt32, [UInt8])] = [
            (0, [0x00]), (1, [0x01]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]),
            (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xFF, 0xFF, 0x7F]),
            (2_097_152, [0x80, 0x80, 0x80, 0x01]), (UInt32.max, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(bytes { $0.writeUnsignedVarint(value) }, expected, "\(value)")
            var buffer = ByteBuffer(bytes: expected)
            XCTAssertEqual(try buffer.readUnsignedVarint(), value)
            XCTAssertEqual(buffer.readableBytes, 0)
        }
    }

    func testUnsignedVarintLongerThanFiveBytesOrOverflowingIsRejected() {
        var tooLong = ByteBuffer(bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
        XCTAssertThrowsError(try tooLong.readUnsignedVarint()) { XCTAssertEqual($0 as? WireError, .varintTooLong) }
        var overflow = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x1F])
        XCTAssertThrowsError(try overflow.readUnsignedVarint()) { XCTAssertEqual($0 as? WireError, .varintTooLong) }
        var unterminated = ByteBuffer(bytes: [0x80, 0x80])
        XCTAssertThrowsError(try unterminated.readUnsignedVarint())
    }

    func testZigzagVarintMapsSmallMagnitudesToShortEncodings() throws {
        let cases: [(Int32, [UInt8])] = [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]), (64, [0x80, 0x01]),
            (Int32.max, [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]), (Int32.min, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(bytes { $0.writeVarint(value) }, expected, "\(value)")
            var buffer = ByteBuffer(bytes: expected)
            XCTAssertEqual(try buffer.readVarint(), value)
        }
    }

    func testZigzagVarlongCoversTheFullInt64Range() throws {
        let cases: [(Int64, [UInt8])] = [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]),
            (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(bytes { $0.writeVarlong(value) }, expected, "\(value)")
            var buffer = ByteBuffer(bytes: expected)
            XCTAssertEqual(try buffer.readVarlong(), value)
        }
        var overflow = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        XCTAssertThrowsError(try overflow.readVarlong()) { XCTAssertEqual($0 as? WireError, .varintTooLong) }
    }

    func testNullAndEmptyStringsAreDistinctInClassicAndCompactForms() throws {
        XCTAssertEqual(try bytes { try $0.writeKafkaNullableString(nil, compact: false) }, [0xFF, 0xFF])
        XCTAssertEqual(try bytes { try $0.writeKafkaNullableString("", compact: false) }, [0x00, 0x00])
        XCTAssertEqual(try bytes { try $0.writeKafkaNullableString(nil, compact: true) }, [0x00])
        XCTAssertEqual(try bytes { try $0.writeKafkaNullableString("", compact: true) }, [0x01])
        XCTAssertEqual(try bytes { try $0.writeKafkaString("ab", compact: false) }, [0x00, 0x02, 0x61, 0x62])
        XCTAssertEqual(try bytes { try $0.writeKafkaString("ab", compact: true) }, [0x03, 0x61, 0x62])

        var classicNull = ByteBuffer(bytes: [0xFF, 0xFF])
        XCTAssertNil(try classicNull.readKafkaNullableString(compact: false))
        var classicEmpty = ByteBuffer(bytes: [0x00, 0x00])
        XCTAssertEqual(try classicEmpty.readKafkaNullableString(compact: false), "")
        var compactNull = ByteBuffer(bytes: [0x00])
        XCTAssertNil(try compactNull.readKafkaNullableString(compact: true))
        var compactEmpty = ByteBuffer(bytes: [0x01])
        XCTAssertEqual(try compactEmpty.readKafkaNullableString(compact: true), "")
    }

    func testNullWhereAStringIsRequiredIsRejected() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF])
        XCTAssertThrowsError(try buffer.readKafkaString(compact: false, field: "x")) {
            XCTAssertEqual($0 as? WireError, .unexpectedNull(field: "x"))
        }
    }

    func testNegativeOrOversizedLengthsAreRejected() {
        var negative = ByteBuffer(bytes: [0xFF, 0xFE])
        XCTAssertThrowsError(try negative.readKafkaNullableString(compact: false)) {
            XCTAssertEqual($0 as? WireError, .invalidLength(-2))
        }
        var beyondInput = ByteBuffer(bytes: [0x00, 0x05, 0x61])
        XCTAssertThrowsError(try beyondInput.readKafkaNullableString(compact: false)) {
            XCTAssertEqual($0 as? WireError, .truncated(neededBytes: 5, readableBytes: 1))
        }
        var compactBeyond = ByteBuffer(bytes: [0x10, 0x61])
        XCTAssertThrowsError(try compactBeyond.readKafkaNullableBytes(compact: true))
        let long = String(repeating: "x", count: Int(Int16.max) + 1)
        var out = ByteBuffer()
        XCTAssertThrowsError(try out.writeKafkaString(long, compact: false, field: "s")) {
            XCTAssertEqual($0 as? WireError, .valueTooLong(field: "s", length: Int(Int16.max) + 1))
        }
        XCTAssertNoThrow(try out.writeKafkaString(long, compact: true))
    }

    func testBytesUseInt32LengthsClassicAndVarintCompact() throws {
        XCTAssertEqual(try bytes { try $0.writeKafkaNullableBytes(nil, compact: false) }, [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(try bytes { try $0.writeKafkaNullableBytes(nil, compact: true) }, [0x00])
        XCTAssertEqual(try bytes { try $0.writeKafkaBytes([9], compact: false) }, [0x00, 0x00, 0x00, 0x01, 0x09])
        XCTAssertEqual(try bytes { try $0.writeKafkaBytes([9], compact: true) }, [0x02, 0x09])
        var slice = ByteBuffer(bytes: [0x04, 0xAA, 0xBB, 0xCC])
        XCTAssertEqual(try slice.readKafkaNullableBytesSlice(compact: true), ByteBuffer(bytes: [0xAA, 0xBB, 0xCC]))
    }

    func testGarbageArrayLengthsFailWithoutAllocating() {
        var huge = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x00])
        XCTAssertThrowsError(try huge.readKafkaArrayCount(compact: false)) {
            XCTAssertEqual($0 as? WireError, .arrayTooLarge(count: Int(Int32.max)))
        }
        var compactHuge = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00])
        XCTAssertThrowsError(try compactHuge.readKafkaArrayCount(compact: true))
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE])
        XCTAssertThrowsError(try negative.readKafkaArrayCount(compact: false)) {
            XCTAssertEqual($0 as? WireError, .invalidLength(-2))
        }
        var null = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertNil(try null.readKafkaArrayCount(compact: false))
        var compactNull = ByteBuffer(bytes: [0x00])
        XCTAssertNil(try compactNull.readKafkaArrayCount(compact: true))

        // A 10 MB frame claiming 2^31 topics fails at the first length.
        var request = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF])
        request.writeRepeatingByte(0, count: 10_000)
        XCTAssertThrowsError(try ProduceRequest(from: &request, version: 3)) {
            XCTAssertEqual($0 as? WireError, .arrayTooLarge(count: Int(Int32.max)))
        }
    }

    func testTaggedFieldSectionWithUnknownTagsIsSkipped() throws {
        // Two unknown tags (5 and 9) and then a trailing byte that must stay unread.
        var buffer = ByteBuffer(bytes: [0x02, 0x05, 0x01, 0xAA, 0x09, 0x02, 0xBB, 0xCC, 0x42])
        try buffer.skipTaggedFields()
        XCTAssertEqual(buffer.readableBytes, 1)
        XCTAssertEqual(try buffer.readKafkaInt8(), 0x42)
    }

    func testTaggedFieldCountLargerThanInputIsRejected() {
        var buffer = ByteBuffer(bytes: [0x7F, 0x00])
        XCTAssertThrowsError(try buffer.skipTaggedFields())
    }

    func testFixedWidthIntegersAreBigEndian() throws {
        XCTAssertEqual(bytes { $0.writeKafkaInt16(0x0102) }, [0x01, 0x02])
        XCTAssertEqual(bytes { $0.writeKafkaInt32(-2) }, [0xFF, 0xFF, 0xFF, 0xFE])
        XCTAssertEqual(bytes { $0.writeKafkaInt64(1) }, [0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(bytes { $0.writeKafkaFloat64(1.0) }, [0x3F, 0xF0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(bytes { $0.writeKafkaBool(true) }, [0x01])
        var buffer = ByteBuffer(bytes: [0x02])
        XCTAssertEqual(try buffer.readKafkaBool(), true)
        var short = ByteBuffer(bytes: [0x00, 0x00, 0x01])
        XCTAssertThrowsError(try short.readKafkaInt32()) {
            XCTAssertEqual($0 as? WireError, .truncated(neededBytes: 4, readableBytes: 3))
        }
    }

    func testUUIDIsSixteenBigEndianBytesAndPrintsAsKafkaBase64() throws {
        let uuid = KafkaUUID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
        XCTAssertEqual(bytes { $0.writeKafkaUUID(uuid) }, Array(1...16))
        var buffer = ByteBuffer(bytes: Array(1...16))
        XCTAssertEqual(try buffer.readKafkaUUID(), uuid)
        XCTAssertEqual(KafkaUUID.zero.description, "AAAAAAAAAAAAAAAAAAAAAA")
        // base64url of 0x01..0x10 without padding.
        XCTAssertEqual(uuid.description, "AQIDBAUGBwgJCgsMDQ4PEA")
    }

    func testErrorCodesCarryKafkaNumbersNamesAndRetriability() {
        XCTAssertEqual(ErrorCode.noError.rawValue, 0)
        XCTAssertEqual(ErrorCode.notLeaderOrFollower.rawValue, 6)
        XCTAssertEqual(ErrorCode.notLeaderOrFollower.name, "NOT_LEADER_OR_FOLLOWER")
        XCTAssertTrue(ErrorCode.notLeaderOrFollower.isRetriable)
        XCTAssertTrue(ErrorCode.unknownTopicOrPartition.isRetriable)
        XCTAssertFalse(ErrorCode.topicAuthorizationFailed.isRetriable)
        XCTAssertEqual(ErrorCode.unsupportedVersion.rawValue, 35)
        XCTAssertEqual(ErrorCode.invalidRegularExpression.rawValue, 128)
        XCTAssertNil(ErrorCode(rawValue: 99).name)
        XCTAssertFalse(ErrorCode(rawValue: 9999).isRetriable)
        XCTAssertEqual(ErrorCode.allKnown.count, 129)
        XCTAssertEqual(ErrorCode.allKnown.first, .unknownServerError)
        XCTAssertEqual(WireError.truncated(neededBytes: 1, readableBytes: 0).errorCode, .invalidRequest)
    }
}
