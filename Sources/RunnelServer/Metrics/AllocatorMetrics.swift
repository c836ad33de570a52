import CoreMetrics

/// Exports the allocator on `/metrics`: `runnel_allocator_info{allocator,version} 1` and one gauge per
/// statistic the allocator keeps (`runnel_allocator_allocated_bytes`, `…_active_bytes`,
/// `…_resident_bytes`, `…_mapped_bytes`, `…_retained_bytes`), read afresh at every scrape.
public enum AllocatorMetrics {
    public static let infoName = "runnel_allocator_info"

    public static func register(_ reader: any AllocatorReader, on factory: PrometheusMetricsFactory) {
        Meter(label: infoName, dimensions: [("allocator", reader.name), ("version", reader.version)], factory: factory)
            .set(1)
        factory.addCollector { [weak factory] in
            guard let factory, let stats = reader.stats() else { return }
            for sample in stats.samples {
                Meter(label: sample.name, factory: factory).set(Double(sample.bytes))
            }
        }
    }
}
