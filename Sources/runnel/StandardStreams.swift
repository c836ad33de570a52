#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes all of `bytes` to a file descriptor (1 or 2), retrying short and interrupted writes.
/// Not FileHandle: that is the part of Foundation which would link ICU's 34 MB of data into the
/// static binary (the image must stay small); FoundationEssentials serves the rest.
func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return  // a closed pipe or a full disk: nothing better to do with a diagnostic
            }
        }
    }
}

let standardOutput: Int32 = 1
let standardError: Int32 = 2
