import XCTest

@testable import RunnelServer

final class ConfigTests: XCTestCase {
    func testListenersParseNamesHostsAndPorts() throws {
        let listeners = try Listener.parseList("CLIENT://0.0.0.0:9092, internal://[::1]:9192,EMPTY://:9300", what: "listeners")
        XCTAssertEqual(listeners, [
            Listener(name: "CLIENT", host: "0.0.0.0", port: 9092),
            Listener(name: "INTERNAL", host: "::1", port: 9192),
            Listener(name: "EMPTY", host: "", port: 9300),
        ])
    }

    func testBadListenersAreRejectedWithTheOffendingText() {
        let cases: [(String, String)] = [
            ("0.0.0.0:9092", "is not NAME://HOST:PORT"),
            ("CLIENT://localhost", "is not HOST:PORT"),
            ("CLIENT://localhost:99999", "expected a number from 0 to 65535"),
            ("CLIENT://localhost:abc", "has port 'abc'"),
            ("CLIENT://::1:9092", "write it as [ADDRESS]:PORT"),
            ("CLIENT://[::1:9092", "never closes it"),
            ("CLIENT://a:1,,B://b:2", "empty entry"),
            ("CLIENT://a:1,client://b:2", "appears twice"),
            ("CL IENT://a:1", "invalid listener name"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Listener.parseList(text, what: "listeners"), text) { error in
                let message = (error as? ConfigError)?.message ?? ""
                XCTAssertTrue(message.contains(expected), "\(text): \(message)")
                XCTAssertTrue(message.hasPrefix("listeners"), message)
            }
        }
    }

    func testWildcardListenerIsAdvertisedAsTheMachineNameOrLoopback() throws {
        let listeners = try Listener.parseList("CLIENT://0.0.0.0:9092,INTERNAL://10.0.0.5:9192", what: "l")
        XCTAssertEqual(
            NetworkConfig.resolveAdvertised(listeners: listeners, explicit: [], hostName: "box1"),
            [Listener(name: "CLIENT", host: "box1", port: 9092), Listener(name: "INTERNAL", host: "10.0.0.5", port: 9192)])
        XCTAssertEqual(
            NetworkConfig.resolveAdvertised(listeners: listeners, explicit: [], hostName: "")[0],
            Listener(name: "CLIENT", host: "127.0.0.1", port: 9092))
        let explicit = try Listener.parseList("CLIENT://kafka.example:19092", what: "a")
        XCTAssertEqual(
            NetworkConfig.resolveAdvertised(listeners: listeners, explicit: explicit, hostName: "box1")[0],
            Listener(name: "CLIENT", host: "kafka.example", port: 19092))
    }

    func testAdvertisedListenerWithoutABoundListenerFailsValidation() throws {
        let listeners = try Listener.parseList("CLIENT://0.0.0.0:9092", what: "l")
        let explicit = try Listener.parseList("OTHER://h:1", what: "a")
        let config = NetworkConfig(
            listeners: listeners,
            advertisedListeners: NetworkConfig.resolveAdvertised(listeners: listeners, explicit: explicit, hostName: "h"))
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertTrue("\(error)".contains("OTHER is not one of the listeners"), "\(error)")
        }
    }

    func testTwoListenersOnOnePortFailValidation() throws {
        let listeners = try Listener.parseList("A://0.0.0.0:9092,B://127.0.0.1:9092", what: "l")
        let config = NetworkConfig(
            listeners: listeners, advertisedListeners: NetworkConfig.resolveAdvertised(listeners: listeners, explicit: [], hostName: "h"))
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual("\(error)", "listeners: A and B both use port 9092")
        }
    }

    func testTopicDefaultsOutOfRangeFailValidation() {
        XCTAssertThrowsError(try TopicDefaults(partitionCount: 0).validate())
        XCTAssertThrowsError(try TopicDefaults(segmentBytes: 10).validate())
        XCTAssertThrowsError(try TopicDefaults(retentionMs: -2).validate())
        XCTAssertNoThrow(try TopicDefaults(retentionMs: -1).validate())
        XCTAssertThrowsError(try TopicDefaults(minInsyncReplicas: 0).validate())
    }

    func testAdvertisedLookupByListenerName() throws {
        let listeners = try Listener.parseList("CLIENT://0.0.0.0:9092,INTERNAL://0.0.0.0:9192", what: "l")
        let config = NetworkConfig(
            listeners: listeners, advertisedListeners: NetworkConfig.resolveAdvertised(listeners: listeners, explicit: [], hostName: "n1"))
        XCTAssertNoThrow(try config.validate())
        XCTAssertEqual(config.advertised(forListener: "INTERNAL")?.port, 9192)
        XCTAssertNil(config.advertised(forListener: "NOPE"))
    }
}

final class SettingResolutionTests: XCTestCase {
    func testFlagWinsOverEnvironmentWhichWinsOverDefault() throws {
        let values = SettingValues(
            flags: [.nodeId: "3"],
            environment: ["RUNNEL_NODE_ID": "9", "RUNNEL_NUM_PARTITIONS": "6", "RUNNEL_DATA_DIR": ""])
        let config = try BrokerConfig.resolve(values, hostName: "box")
        XCTAssertEqual(config.nodeId, 3)
        XCTAssertEqual(config.topicDefaults.partitionCount, 6)
        XCTAssertEqual(config.dataDir, "./runnel-data", "an empty variable counts as unset")
        XCTAssertEqual(config.network.listeners, [Listener(name: "CLIENT", host: "0.0.0.0", port: 9092)])
        XCTAssertEqual(config.network.advertisedListeners, [Listener(name: "CLIENT", host: "box", port: 9092)])
    }

    func testSingleKafkaListenerConvenience() throws {
        let values = SettingValues(
            flags: [.kafkaListener: "127.0.0.1:19092"],
            environment: ["RUNNEL_ADVERTISED_KAFKA_LISTENER": "localhost:29092", "RUNNEL_METRICS_LISTENER": ":9100"])
        let config = try BrokerConfig.resolve(values, hostName: "box")
        XCTAssertEqual(config.network.listeners, [Listener(name: "CLIENT", host: "127.0.0.1", port: 19092)])
        XCTAssertEqual(config.network.advertisedListeners, [Listener(name: "CLIENT", host: "localhost", port: 29092)])
        XCTAssertEqual(config.network.metricsListener, HostPort(host: "", port: 9100))
    }

    func testBadValuesNameTheFlagAndTheVariable() {
        let cases: [(SettingValues, String)] = [
            (SettingValues(flags: [:], environment: ["RUNNEL_NODE_ID": "one"]), "--node-id (RUNNEL_NODE_ID): 'one' is not an integer"),
            (SettingValues(flags: [.autoCreateTopicsEnable: "maybe"], environment: [:]), "--auto-create-topics-enable (RUNNEL_AUTO_CREATE_TOPICS_ENABLE): 'maybe' is not true or false"),
            (SettingValues(flags: [.listeners: "A://h:1", .kafkaListener: "h:2"], environment: [:]), "cannot both be given"),
            (SettingValues(flags: [.minInsyncReplicas: "0"], environment: [:]), "min insync replicas: 0 must be at least 1"),
            (SettingValues(flags: [.listeners: "CLIENT://h:99999"], environment: [:]), "--listeners (RUNNEL_LISTENERS) CLIENT"),
        ]
        for (values, expected) in cases {
            XCTAssertThrowsError(try BrokerConfig.resolve(values, hostName: "box")) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
