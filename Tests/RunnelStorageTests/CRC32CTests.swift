import RunnelChecksum
import XCTest

final class CRC32CTests: XCTestCase {
    func testKnownCheckValue() {
        // The CRC-32C check value of "123456789" from the catalogue of parametrised CRC algorithms.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
    }

    func testHardwarePathAgreesWithTablePathAtEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 1000, 4000] {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    XCTAssertEqual(CRC32C.checksum(slice), CRC32C.softwareChecksum(slice), "start \(start) length \(length)")
                }
            }
        }
    }

    func testChecksumExtendsAcrossPieces() {
        let whole = Array("hello, runnel".utf8)
        let first = CRC32C.checksum(whole[0..<5])
        XCTAssertEqual(CRC32C.checksum(whole[5...], extending: first), CRC32C.checksum(whole))
    }
}
