import Foundation
import OTPCore

/// The report of one UTC day for `otp report`: a CSV of its parts and a self-contained HTML page
/// (inline stylesheet and SVG charts, no script, no outside resource). Both depend only on the
/// numbers, so a rerun on the same rollups gives the same bytes.
package enum DailyReport {
    /// One line per channel and country, then the day's total.
    package static func csv(day: String, parts: [ReportPart]) -> String {
        let names =
            ["day", "channel", "country"] + ReportCSV.numbers(ReportRow(key: "")).map(\.0) + [
                "cost", "conversion_rate",
            ]
        var lines = [names.joined(separator: ",")]
        func line(_ channel: String, _ country: String, _ row: ReportRow) -> String {
            let values = ReportCSV.numbers(row).map { $0.1.map(String.init) ?? "" }
            return ([day, channel, country] + values + ["\(row.cost)", String(format: "%.4f", row.conversionRate)])
                .joined(separator: ",")
        }
        let groups = Dictionary(grouping: parts.filter { $0.day == day }) { "\($0.channel),\($0.country)" }
        for key in groups.keys.sorted() {
            let group = groups[key] ?? []
            let row = Reports.group(group, by: .day).totals
            lines.append(line(group[0].channel, group[0].country, row))
        }
        lines.append(line("all", "all", Reports.group(parts.filter { $0.day == day }, by: .day).totals))
        return lines.joined(separator: "\n") + "\n"
    }

    package static func html(day: String, scope: String, parts: [ReportPart]) -> String {
        let dayParts = parts.filter { $0.day == day }
        let total = Reports.group(dayParts, by: .day).totals
        let byChannel = Reports.group(dayParts, by: .channel).rows.sorted { $0.key < $1.key }
        let byCountry = Reports.group(dayParts, by: .country).rows.sorted {
            ($0.verifications, $1.key) > ($1.verifications, $0.key)
        }
        var charts = [
            Charts.columns(
                title: "Sends, deliveries and verifications by channel", labels: byChannel.map(\.key),
                series: [
                    .init(name: "sends", values: byChannel.map { Double($0.verifications) }),
                    .init(name: "delivered", values: byChannel.map { Double($0.delivered) }),
                    .init(name: "verified", values: byChannel.map { Double($0.verified) }),
                ]),
            Charts.columns(
                title: "Conversion by channel", labels: byChannel.map(\.key),
                series: [.init(name: "verified / sends", values: byChannel.map(\.conversionRate))], unit: .percent),
            Charts.columns(
                title: "Conversion by country", labels: byCountry.prefix(20).map(\.key),
                series: [.init(name: "verified / sends", values: byCountry.prefix(20).map(\.conversionRate))],
                unit: .percent),
        ]
        charts.append(
            Charts.columns(
                title: "Delivery latency by channel", labels: byChannel.map(\.key),
                series: [
                    .init(name: "p50", values: byChannel.map { Double($0.latencyP50 ?? 0) }),
                    .init(name: "p95", values: byChannel.map { Double($0.latencyP95 ?? 0) }),
                ], unit: .milliseconds))
        let summary = [
            ("Sends", String(total.verifications)), ("Accepted by a provider", String(total.sent)),
            ("Delivered", String(total.delivered)), ("Failed", String(total.failed)),
            ("Verified", String(total.verified)), ("Expired", String(total.expired)), ("Locked", String(total.locked)),
            ("Conversion", Charts.Unit.percent.format(total.conversionRate)),
            (
                "Delivery latency p50 / p95",
                "\(total.latencyP50.map { "\($0) ms" } ?? "–") / \(total.latencyP95.map { "\($0) ms" } ?? "–")"
            ),
        ].map { "<dt>\($0.0)</dt><dd>\(MarkupEscaping.escaped($0.1))</dd>" }.joined()
        let title = MarkupEscaping.escaped("otp report \(day) (\(scope))")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(title)</title>
            <style>\(stylesheet)</style>
            </head>
            <body>
            <main>
            <h1>\(title)</h1>
            <p>UTC day \(MarkupEscaping.escaped(day)), from the daily rollups.</p>
            <dl class="summary">\(summary)</dl>
            <section class="charts">\(charts.joined(separator: "\n"))</section>
            </main>
            </body>
            </html>

            """
    }

    /// The dashboard's chart and table styles, inline: the file stands alone.
    static let stylesheet = """
        body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1d2330;background:#f4f6f9}\
        main{max-width:1100px;margin:0 auto;padding:1.5rem}\
        dl.summary{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem}dt{color:#5b6475}dd{margin:0;font-weight:600}\
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1rem;margin-top:1rem}\
        figure.chart{margin:0;background:#fff;border:1px solid #d9dde5;border-radius:6px;padding:.8rem}\
        figcaption{font-weight:600}svg{width:100%;height:auto;display:block}\
        .grid{stroke:#d9dde5}.tick{fill:#5b6475;font-size:10px}\
        rect.s0{fill:#2f5bd3}rect.s1{fill:#1c9a6c}rect.s2{fill:#d9822b}polyline.line{fill:none;stroke-width:2}\
        polyline.s0{stroke:#2f5bd3}polyline.s1{stroke:#1c9a6c}polyline.s2{stroke:#d9822b}\
        ul.legend{list-style:none;display:flex;gap:1rem;padding:0;font-size:.85rem}\
        .key{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem}\
        .key.s0{background:#2f5bd3}.key.s1{background:#1c9a6c}.key.s2{background:#d9822b}\
        table{border-collapse:collapse;font-size:.8rem;background:#fff}th,td{text-align:left;padding:.2rem .5rem;\
        border-bottom:1px solid #d9dde5}
        """
}
