import Foundation
import RunnelWire
import XCTest

/// Hostile input at the connection level: frames that are not Kafka requests at all.
final class HostileConnectionTests: XCTestCase {
    func testGarbageFramesCloseOnlyTheirConnection() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let garbage: [[UInt8]] = [
            [0x7F, 0xFF, 0xFF, 0xFF],                              // a size of Int32.max
            [0xFF, 0xFF, 0xFF, 0xFF],                              // a negative size
            [0, 0, 0, 6, 0x7F, 0xFF, 0, 0, 0, 1],                  // an unknown API key
            [0, 0, 0, 8, 0, 0, 0x7F, 0xFF, 0, 0, 0, 1],            // an unknown version
        ]
        for bytes in garbage {
            let client = try HostileClient(port: broker.port, receiveTimeoutSeconds: 5)
            client.send(bytes)
            _ = client.receiveFrame()
            broker.assertStillServes("garbage \(bytes)")
        }
    }
}
