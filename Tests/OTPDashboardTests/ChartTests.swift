import OTPDashboard
import Testing

/// The server-drawn charts: accessible, escaped, with their numbers.
@Suite struct ChartTests {
    @Test func aChartHasATitleItsNumbersAndEscapedLabels() {
        let svg = Charts.columns(
            title: "Sends <by> day", labels: ["<b>", "02"],
            series: [.init(name: "sends", values: [3, 40]), .init(name: "verified", values: [1, 30])])
        #expect(svg.contains(#"<svg role="img""#))
        #expect(svg.contains("<title id=\"chart-sends--by--day\">Sends &lt;by&gt; day</title>"))
        #expect(!svg.contains("<b>"))
        #expect(svg.contains("<table class=\"chart-data\">"))
        #expect(svg.contains("<td>40</td><td>30</td>"))
        // Four whole steps up to at least the largest value: 0, 10, 20, 30, 40.
        #expect(svg.contains(">40</text>") && svg.contains(">10</text>"))
    }

    @Test func percentChartsRunToAHundredPercent() {
        let svg = Charts.lines(
            title: "Conversion", labels: ["a", "b"], series: [.init(name: "rate", values: [0.5, 0.25])],
            unit: .percent)
        #expect(svg.contains(">100.0%</text>"))
        #expect(svg.contains("<td>50.0%</td>"))
        #expect(svg.contains("<polyline"))
    }

    @Test func anEmptyChartStillDraws() {
        let svg = Charts.columns(title: "Nothing yet", labels: [], series: [.init(name: "sends", values: [])])
        #expect(svg.contains("<svg") && svg.contains("</figure>"))
        #expect(!svg.contains("nan"))
    }
}
