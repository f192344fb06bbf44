import Foundation
import OTPCore

/// Charts drawn on the server as inline SVG: readable with no script, each with a title for
/// screen readers and the same numbers in a table under it.
package enum Charts {
    package struct Series: Sendable {
        package var name: String
        package var values: [Double]

        package init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    /// How a chart's numbers read: counts, fractions shown as percent, or milliseconds.
    package enum Unit: Sendable {
        case count, percent, milliseconds

        func format(_ value: Double) -> String {
            switch self {
            case .count: String(Int(value.rounded()))
            case .percent: String(format: "%.1f%%", value * 100)
            case .milliseconds: "\(Int(value.rounded())) ms"
            }
        }
    }

    static let width = 640.0
    static let height = 220.0
    static let margin = (left: 48.0, right: 12.0, top: 12.0, bottom: 36.0)

    /// Columns side by side for each label, one colour per series.
    package static func columns(title: String, labels: [String], series: [Series], unit: Unit = .count) -> String {
        let top = niceMaximum(series.flatMap(\.values).max() ?? 0, unit: unit)
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        let slot = labels.isEmpty ? plotWidth : plotWidth / Double(labels.count)
        let barWidth = max(1, slot * 0.8 / Double(max(series.count, 1)))
        var marks = ""
        for (seriesIndex, one) in series.enumerated() {
            for (index, value) in one.values.enumerated() where index < labels.count {
                let barHeight = top == 0 ? 0 : plotHeight * value / top
                let x = margin.left + slot * Double(index) + slot * 0.1 + barWidth * Double(seriesIndex)
                marks += """
                    <rect class="s\(seriesIndex)" x="\(f(x))" y="\(f(margin.top + plotHeight - barHeight))" \
                    width="\(f(barWidth))" height="\(f(barHeight))"><title>\(escape(labels[index])) \
                    \(escape(one.name)): \(unit.format(value))</title></rect>
                    """
            }
        }
        return figure(title: title, labels: labels, series: series, unit: unit, top: top, marks: marks, slot: slot)
    }

    /// One line per series across the labels.
    package static func lines(title: String, labels: [String], series: [Series], unit: Unit = .count) -> String {
        let top = niceMaximum(series.flatMap(\.values).max() ?? 0, unit: unit)
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        let slot = labels.isEmpty ? plotWidth : plotWidth / Double(labels.count)
        var marks = ""
        for (seriesIndex, one) in series.enumerated() {
            let points = one.values.prefix(labels.count).enumerated().map { index, value in
                let y = margin.top + plotHeight - (top == 0 ? 0 : plotHeight * value / top)
                return "\(f(margin.left + slot * (Double(index) + 0.5))),\(f(y))"
            }
            marks += "<polyline class=\"line s\(seriesIndex)\" points=\"\(points.joined(separator: " "))\"/>"
        }
        return figure(title: title, labels: labels, series: series, unit: unit, top: top, marks: marks, slot: slot)
    }

    private static func figure(
        title: String, labels: [String], series: [Series], unit: Unit, top: Double, marks: String, slot: Double
    ) -> String {
        let plotHeight = height - margin.top - margin.bottom
        var axes = ""
        for step in 0...4 {
            let value = top * Double(step) / 4
            let y = margin.top + plotHeight - plotHeight * Double(step) / 4
            axes += """
                <line class="grid" x1="\(f(margin.left))" y1="\(f(y))" x2="\(f(width - margin.right))" y2="\(f(y))"/>\
                <text class="tick" x="\(f(margin.left - 4))" y="\(f(y + 4))" text-anchor="end">\(unit.format(value))</text>
                """
        }
        // At most about ten labels under the axis, so that they do not overlap.
        let every = max(1, Int((Double(labels.count) / 10).rounded(.up)))
        for (index, label) in labels.enumerated() where index % every == 0 {
            let x = margin.left + slot * (Double(index) + 0.5)
            axes += """
                <text class="tick" x="\(f(x))" y="\(f(height - margin.bottom + 16))" text-anchor="middle">\
                \(escape(label))</text>
                """
        }
        var legend = ""
        for (index, one) in series.enumerated() {
            legend += "<li><span class=\"key s\(index)\"></span>\(escape(one.name))</li>"
        }
        let titleID = "chart-" + String(title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        return """
            <figure class="chart"><figcaption>\(escape(title))</figcaption>\
            <svg role="img" aria-labelledby="\(titleID)" viewBox="0 0 \(f(width)) \(f(height))"><title id="\(titleID)">\(escape(title))</title>\(axes)\(marks)</svg>\
            <ul class="legend">\(legend)</ul><details><summary>The numbers</summary>\
            \(table(title: title, labels: labels, series: series, unit: unit))</details></figure>
            """
    }

    /// The chart's numbers, for reading and for screen readers.
    static func table(title: String, labels: [String], series: [Series], unit: Unit) -> String {
        var html = "<table class=\"chart-data\"><caption>\(escape(title))</caption><thead><tr><th scope=\"col\"></th>"
        for one in series { html += "<th scope=\"col\">\(escape(one.name))</th>" }
        html += "</tr></thead><tbody>"
        for (index, label) in labels.enumerated() {
            html += "<tr><th scope=\"row\">\(escape(label))</th>"
            for one in series {
                html += "<td>\(index < one.values.count ? unit.format(one.values[index]) : "")</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// The top of the axis: four round steps that reach `value` (whole steps for counts).
    static func niceMaximum(_ value: Double, unit: Unit) -> Double {
        if unit == .percent { return 1 }
        guard value > 0 else { return 0 }
        let rough = value / 4
        let magnitude = pow(10, floor(log10(rough)))
        let steps = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.filter { unit != .count || $0 == $0.rounded() }
        let step = max(unit == .count ? 1 : 0, steps.first { $0 >= rough } ?? 10 * magnitude)
        return step * 4
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String { MarkupEscaping.escaped(text) }
}
