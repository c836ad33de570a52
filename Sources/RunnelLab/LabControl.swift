import Foundation

/// Drives the lab's containers through the `docker` CLI and checks that each fault took effect before
/// it counts: a killed node's container is not running, a paused one answers no ApiVersions, a
/// disconnected one's client address accepts no TCP connection from the host.
public struct LabControl: Sendable {
    public let docker: String
    /// How long a probe waits for an answer before it calls the node silent.
    public var probeTimeoutMs = 1_000
    public var healthyTimeoutMs = 60_000

    /// `RUNNEL_DOCKER` overrides the docker client found on PATH.
    public static func locate() -> LabControl? {
        if let explicit = ProcessInfo.processInfo.environment["RUNNEL_DOCKER"] { return LabControl(docker: explicit) }
        return CommandRunner.which("docker").map { LabControl(docker: $0) }
    }

    public init(docker: String) { self.docker = docker }

    // MARK: State

    public struct ContainerState: Sendable, Equatable {
        public let running: Bool
        public let paused: Bool
        /// docker's health status ("healthy", "starting", "unhealthy"), or "none" without a health check.
        public let health: String
        /// Network name → IPv4 address, for every network the container is attached to (the address is
        /// empty while the container is stopped).
        public let networks: [String: String]

        /// The Go template for `docker inspect -f` whose output `init(inspectLine:)` reads.
        public static let inspectFormat =
            "{{.State.Running}}|{{.State.Paused}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|"
            + "{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};{{end}}"

        public init(running: Bool, paused: Bool, health: String, networks: [String: String]) {
            self.running = running
            self.paused = paused
            self.health = health
            self.networks = networks
        }

        /// Reads one line printed with `inspectFormat`; nil when it has another shape.
        public init?(inspectLine line: String) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, ["true", "false"].contains(fields[0]), ["true", "false"].contains(fields[1]) else {
                return nil
            }
            var networks: [String: String] = [:]
            for entry in fields[3].split(separator: ";") {
                let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                if pair.count == 2 { networks[pair[0]] = pair[1] }
            }
            self.init(running: fields[0] == "true", paused: fields[1] == "true", health: fields[2], networks: networks)
        }

        public var clientNetwork: (network: String, address: String)? {
            networks.sorted { $0.key < $1.key }.first { $0.value.hasPrefix(LabNode.clientSubnetPrefix) }
                .map { ($0.key, $0.value) }
        }
    }

    /// The container's state, or nil when it does not exist.
    public func state(_ node: LabNode) throws -> ContainerState? {
        let output = try docker(["inspect", "-f", ContainerState.inspectFormat, node.container], check: false)
        guard output.status == 0 else { return nil }
        guard let state = ContainerState(inspectLine: output.trimmed) else {
            throw LabError("docker inspect \(node.container): unexpected '\(output.trimmed)'")
        }
        return state
    }

    /// Nil when all three nodes exist, run, are healthy and answer on their client addresses; else why not.
    public func whyNotUp() -> String? {
        for node in LabNode.all {
            let current: ContainerState?
            do { current = try state(node) } catch { return "\(error)" }
            guard let current else { return "container \(node.container) does not exist" }
            guard current.running, !current.paused else { return "\(node.container) is not running" }
            guard current.health == "healthy" || current.health == "none" else {
                return "\(node.container) is \(current.health)"
            }
            guard NetworkProbe.answersApiVersions(host: node.clientHost, port: LabNode.kafkaPort, timeoutMs: probeTimeoutMs)
            else { return "\(node.bootstrap) does not answer ApiVersions from this host" }
        }
        return nil
    }

    // MARK: Faults, each verified

    /// SIGKILL; returns once docker reports the container stopped.
    public func kill(_ node: LabNode) throws {
        try docker(["kill", "-s", "KILL", node.container])
        try waitUntil("\(node.container) stops running after SIGKILL", timeoutMs: 10_000) {
            try state(node).map { !$0.running } ?? false
        }
    }

    /// `docker start`, then waits until the node is healthy and answers on its client address.
    public func start(_ node: LabNode) throws {
        try docker(["start", node.container])
        try waitHealthy(node)
    }

    /// Freezes the node; returns once its client address no longer answers ApiVersions.
    public func pause(_ node: LabNode) throws {
        try docker(["pause", node.container])
        try waitUntil("\(node.container) is paused and silent", timeoutMs: 10_000) {
            guard try state(node)?.paused == true else { return false }
            return !NetworkProbe.answersApiVersions(host: node.clientHost, port: LabNode.kafkaPort, timeoutMs: probeTimeoutMs)
        }
    }

    public func unpause(_ node: LabNode) throws {
        try docker(["unpause", node.container])
        try waitHealthy(node)
    }

    /// Detaches the node from the client network; returns that network and the address to restore once
    /// a TCP connect from the host to the address no longer succeeds.
    @discardableResult
    public func disconnect(_ node: LabNode) throws -> (network: String, address: String) {
        guard let attachment = try state(node)?.clientNetwork else {
            throw LabError("\(node.container) is not on a network with addresses \(LabNode.clientSubnetPrefix)*")
        }
        try docker(["network", "disconnect", attachment.network, node.container])
        try waitUntil("\(node.clientHost) unreachable after disconnect", timeoutMs: 10_000) {
            !NetworkProbe.connect(host: node.clientHost, port: LabNode.kafkaPort, timeoutMs: probeTimeoutMs).isReachable
        }
        return attachment
    }

    /// Reattaches the node with the same address and waits until it answers there again.
    public func connect(_ node: LabNode, network: String, address: String) throws {
        try docker(["network", "connect", "--ip", address, network, node.container])
        try waitUntil("\(node.container) back at \(address)", timeoutMs: 10_000) {
            try state(node)?.networks[network] == address
        }
        try waitHealthy(node)
    }

    /// docker reports the node healthy (or has no health check) and it answers ApiVersions on its
    /// client address from this host.
    public func waitHealthy(_ node: LabNode) throws {
        try waitUntil("\(node.container) healthy and answering at \(node.bootstrap)", timeoutMs: healthyTimeoutMs) {
            guard let current = try state(node), current.running, !current.paused else { return false }
            guard current.health == "healthy" || current.health == "none" else { return false }
            return NetworkProbe.answersApiVersions(host: node.clientHost, port: LabNode.kafkaPort, timeoutMs: probeTimeoutMs)
        }
    }

    /// Undoes whatever an earlier, interrupted scenario left behind: unpause, reattach to the client
    /// network at the contract's address, start; then waits until every node is healthy.
    public func heal() throws {
        var states: [LabNode: ContainerState] = [:]
        for node in LabNode.all {
            guard let current = try state(node) else { throw LabError("container \(node.container) does not exist") }
            states[node] = current
        }
        let clientNetwork = states.values.compactMap { $0.clientNetwork?.network }.sorted().first ?? "runnel-client"
        for node in LabNode.all {
            let current = states[node]!
            if current.paused { try docker(["unpause", node.container]) }
            if current.networks[clientNetwork] == nil {
                try docker(["network", "connect", "--ip", node.clientHost, clientNetwork, node.container])
            }
            if !current.running { try docker(["start", node.container]) }
        }
        for node in LabNode.all { try waitHealthy(node) }
    }

    // MARK: Plumbing

    @discardableResult
    func docker(_ arguments: [String], check: Bool = true) throws -> CommandOutput {
        let output = try CommandRunner.run(docker, arguments, timeoutMs: 60_000)
        if check && output.status != 0 {
            throw LabError("docker \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)")
        }
        return output
    }

    private func waitUntil(_ what: String, timeoutMs: Int, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        var roundsMax = 100_000
        while Date() < deadline && roundsMax > 0 {
            roundsMax -= 1
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw LabError("not true after \(timeoutMs) ms: \(what)")
    }
}
