import Foundation

/// UTC days as `YYYY-MM-DD`, the unit of reports and rollups.
package enum UTCDay {
    package static func parse(_ text: String) -> Date? {
        guard text.utf8.count == 10 else { return nil }
        return formatter().date(from: text).flatMap { format($0) == text ? $0 : nil }
    }

    package static func format(_ date: Date) -> String { formatter().string(from: date) }

    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }
}

/// The numbers of one UTC day for one app, channel and country: a row of the daily rollup, or
/// today's as computed live. Reports are sums of these.
package struct ReportPart: Sendable, Equatable {
    package var day: String
    package var channel: String
    package var country: String
    /// The provider that carried its messages, for the parts of a report by provider ("" otherwise).
    package var provider = ""
    /// Its numbers; the row's key is not used.
    package var numbers = ReportRow(key: "")

    package init(day: String, channel: String, country: String) {
        self.day = day
        self.channel = channel
        self.country = country
    }
}

/// How parts add up to a report's rows and its total.
package enum Reports {
    package static func group(_ parts: [ReportPart], by grouping: ReportGrouping) -> (
        rows: [ReportRow], totals: ReportRow
    ) {
        var groups: [String: Sum] = [:]
        var total = Sum(key: "total")
        for part in parts {
            let key =
                switch grouping {
                case .day: part.day
                case .channel: part.channel
                case .country: part.country
                case .provider: part.provider
                }
            groups[key, default: Sum(key: key)].add(part)
            total.add(part)
        }
        return (groups.values.map(\.row).sorted { $0.key < $1.key }, total.row)
    }

    /// Percentiles do not add up: over several parts, p50 is the sent-weighted mean of the parts'
    /// p50 and p95 the largest p95 (an upper bound).
    private struct Sum {
        var row: ReportRow
        var p50Sum = 0.0
        var weight = 0
        var p95: Int?

        init(key: String) { row = ReportRow(key: key) }

        mutating func add(_ part: ReportPart) {
            let numbers = part.numbers
            row.verifications += numbers.verifications
            row.sent += numbers.sent
            row.delivered += numbers.delivered
            row.failed += numbers.failed
            row.verified += numbers.verified
            row.expired += numbers.expired
            row.locked += numbers.locked
            row.fraudBlocked += numbers.fraudBlocked
            row.fraudFlagged += numbers.fraudFlagged
            row.cost += numbers.cost
            guard let p50 = numbers.latencyP50 else { return }
            p50Sum += Double(p50 * numbers.sent)
            weight += numbers.sent
            p95 = max(p95 ?? 0, numbers.latencyP95 ?? 0)
            guard weight > 0 else { return }
            row.latencyP50 = Int((p50Sum / Double(weight)).rounded())
            row.latencyP95 = p95
        }
    }
}
