import Foundation

/// `format=csv`: a header line, then one line per group, in the JSON's order and names.
package enum ReportCSV {
    package static func numbers(_ row: ReportRow) -> [(String, Int?)] {
        [
            ("verifications", row.verifications), ("sent", row.sent), ("delivered", row.delivered),
            ("failed", row.failed), ("verified", row.verified), ("expired", row.expired), ("locked", row.locked),
            ("delivery_latency_ms_p50", row.latencyP50), ("delivery_latency_ms_p95", row.latencyP95),
            ("fraud_blocked", row.fraudBlocked), ("fraud_flagged", row.fraudFlagged),
        ]
    }

    package static func render(groupBy: ReportGrouping, rows: [ReportRow]) -> String {
        let names = [groupBy.rawValue] + numbers(ReportRow(key: "")).map(\.0) + ["cost", "conversion_rate"]
        var lines = [names.joined(separator: ",")]
        for row in rows {
            let values = numbers(row).map { $0.1.map(String.init) ?? "" }
            lines.append(
                ([row.key] + values + ["\(row.cost)", String(format: "%.4f", row.conversionRate)]).joined(
                    separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
