import CRunnelCRC32C

/// CRC-32C (Castagnoli): the one checksum of Runnel — Kafka record batches, WAL records, checkpoints.
public enum CRC32C {
    /// Extends `crc` (0 for a fresh checksum) with `bytes`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return runnel_crc32c(crc, base, bytes.count)
    }

    @inlinable
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes, extending crc: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8 {
        if let fast = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0), extending: crc) }) {
            return fast
        }
        return Array(bytes).withUnsafeBytes { checksum($0, extending: crc) }
    }

    /// The portable path, for tests that compare it with the hardware path.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return runnel_crc32c_software(crc, base, bytes.count)
    }
}
