#ifndef RUNNEL_CRC32C_H
#define RUNNEL_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Extends `crc` (0 for a fresh checksum) with `length` bytes at `data`: CRC-32C (Castagnoli),
/// as Kafka record batches and Runnel's write-ahead files use. SSE4.2 when the CPU has it.
uint32_t runnel_crc32c(uint32_t crc, const void *data, size_t length);

/// The portable table path, exposed so that tests can compare it with the hardware path.
uint32_t runnel_crc32c_software(uint32_t crc, const void *data, size_t length);

#endif
