import Foundation

/// One libFuzzer binary for every entry point that takes bytes from the network or the disk. The
/// environment variable RUNNEL_FUZZ_TARGET names the entry point; each must answer any input with a value
/// or an error, never trap, hang or allocate without bound, and where it can re-encode what it decoded.
/// `RunnelFuzzer --list` prints the targets; `RunnelFuzzer --write-seeds DIR` writes a seed corpus per
/// target under DIR (from the golden client captures in DIR/requestDecoder and the project's encoders).
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void
}

let targets: [FuzzTarget] = [
    FuzzTarget(name: "requestDecoder", run: RequestTargets.decodeRequest),
    FuzzTarget(name: "broker", run: BrokerTarget.handle),
    FuzzTarget(name: "recordBatchValidator", run: RecordTargets.validate),
    FuzzTarget(name: "recordBatchDecoding", run: RecordTargets.decode),
    FuzzTarget(name: "recordScanning", run: RecordTargets.scan),
    FuzzTarget(name: "decompression", run: RecordTargets.decompress),
    FuzzTarget(name: "groupRecordCodec", run: CodecTargets.groupRecord),
    FuzzTarget(name: "metadataRecordCodec", run: CodecTargets.metadataRecord),
    FuzzTarget(name: "checkpointFiles", run: CodecTargets.checkpointFile),
    FuzzTarget(name: "raftWAL", run: RecoveryTargets.raftWAL),
    FuzzTarget(name: "logRecovery", run: RecoveryTargets.logRecovery),
]

/// Chosen once, before libFuzzer starts calling.
nonisolated(unsafe) var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected!.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM links an executable's entry as `<module>_main`; hand it to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("RunnelFuzzer_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    let arguments = (0..<Int(argc)).map { String(cString: argv![$0]!) }
    if arguments.count >= 2, arguments[1] == "--list" {
        for target in targets { print(target.name) }
        return 0
    }
    if arguments.count >= 3, arguments[1] == "--write-seeds" {
        do {
            try Seeds.write(to: arguments[2])
            return 0
        } catch {
            FileHandle.standardError.write(Data("writing seeds failed: \(error)\n".utf8))
            return 1
        }
    }
    let name = ProcessInfo.processInfo.environment["RUNNEL_FUZZ_TARGET"] ?? ""
    guard let target = targets.first(where: { $0.name == name }) else {
        let names = targets.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("set RUNNEL_FUZZ_TARGET to one of: \(names)\n".utf8))
        return 2
    }
    selected = target
    var count = argc
    var argumentVector = argv
    return LLVMFuzzerRunDriver(&count, &argumentVector) { data, size in fuzzOne(data, size) }
}

/// A property a target checks on what it decoded; a failure is a finding, as a trap would be.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}
