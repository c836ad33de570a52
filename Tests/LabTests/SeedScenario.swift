import Foundation
import RunnelLab

/// The scenario the project's seed report could not run (../shared/seed/): 50 records through node 1,
/// SIGKILL node 1, wait, 50 more through node 2 to the same topic, then all 100 read from node 2. It
/// needs the topic replicated across nodes, so it runs only once the cluster issue lands.
struct SeedScenario {
    let lab: LabControl
    var waitAfterKillMs = 15_000
    var recordsPerPhase = 50

    func run(name: String) throws -> [String] {
        let recorder = HistoryRecorder()
        let partition = TopicPartition("chaos-test-\(Int(Date().timeIntervalSince1970))", 0)
        let first = LabNode(1), second = LabNode(2)
        var problems: [String] = []
        defer { try? lab.heal() }

        try produce(range: 0..<recordsPerPhase, through: first, to: partition, recorder: recorder, problems: &problems)
        let injectedNs = recorder.nowNs()
        try lab.kill(first)
        let verifiedNs = recorder.nowNs()
        Thread.sleep(forTimeInterval: Double(waitAfterKillMs) / 1000)
        try produce(range: recordsPerPhase..<(2 * recordsPerPhase), through: second, to: partition, recorder: recorder,
                    problems: &problems)

        let consumer = try LabConsumer(
            clientID: ClientID("consumer-\(name)"), settings: ConsumerSettings(bootstrap: second.bootstrap), recorder: recorder)
        try consumer.assignFromBeginning([partition])
        let read = consumer.readToEnd(partition, timeoutMs: 30_000)
        consumer.close()
        let healIssuedNs = recorder.nowNs()
        try lab.start(first)
        recorder.record(.fault(FaultOperation(
            kind: .kill, target: first.description, injectedNs: injectedNs, verifiedNs: verifiedNs,
            healIssuedNs: healIssuedNs, healedNs: recorder.nowNs())))

        let history = recorder.snapshot
        let check = HistoryChecker.check(history)
        let values = Set(history.polls.flatMap(\.records).map(\.value))
        let expected = Set((0..<(2 * recordsPerPhase)).map { "msg-\($0)" })
        if values != expected { problems.append("read \(values.intersection(expected).count) of \(expected.count) values") }
        if read.readCount != expected.count { problems.append("read \(read.readCount) records, want \(expected.count)") }
        if !check.isClean { problems.append("anomalies: \(check.anomalies.prefix(5).map(\.description))") }
        LabRun.shared.add(ScenarioSummary.make(
            name: name, status: problems.isEmpty ? .passed : .failed, message: problems.joined(separator: " | "),
            history: history, check: check))
        return problems
    }

    private func produce(range: Range<Int>, through node: LabNode, to partition: TopicPartition, recorder: HistoryRecorder,
                         problems: inout [String]) throws {
        let producer = try LabProducer(
            clientID: ClientID("producer-\(node)"), settings: ProducerSettings(bootstrap: node.bootstrap), recorder: recorder)
        for index in range { producer.send("msg-\(index)", to: partition) }
        if !producer.drain(timeoutMs: 30_000) { problems.append("\(producer.pendingCount) sends through \(node) unreported") }
        producer.close()
    }
}
