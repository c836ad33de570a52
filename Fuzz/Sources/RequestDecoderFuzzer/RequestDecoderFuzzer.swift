import NIOCore
import RunnelWire

/// libFuzzer's entry: any bytes as a request frame payload. Decoding must answer with a request or an
/// error, never crash, hang or allocate without bound; a decoded request must re-encode.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let payload = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    guard let decoded = try? RequestFrame.decode(payload: payload) else { return 0 }
    var out = ByteBuffer()
    do {
        try decoded.request.encode(into: &out, version: decoded.header.apiVersion)
    } catch {
        fatalError("decoded \(decoded.header.apiKey) v\(decoded.header.apiVersion) but could not re-encode it: \(error)")
    }
    return 0
}

/// SwiftPM links an executable's entry as `<module>_main`; hand it to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("RequestDecoderFuzzer_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
