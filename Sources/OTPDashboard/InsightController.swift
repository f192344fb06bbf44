import Foundation
import Hummingbird
import NIOCore
import OTPCore
import OTPHTTP

/// `GET /dashboard/` (the overview) and `/dashboard/reports` (+ `.csv`): the same rollups as
/// `/otp/reports`, drawn as charts with their tables.
struct InsightController {
    let dependencies: DashboardDependencies
    let sessions: SessionCookies

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get(use: overview)
        group.get("reports", use: reports)
        group.get("reports.csv", use: csv)
    }

    @Sendable func overview(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let appIDs = try await dependencies.administration.apps(accountID: who.user.accountID).map(\.id)
        let today = UTCDay.format(Date())
        let from = UTCDay.format(Date().addingTimeInterval(-29 * 86_400))
        let parts = try await dependencies.management.reportParts(appIDs: appIDs, from: from, to: today)
        let days = Self.days(from: from, to: today)
        let byDay = Reports.group(parts, by: .day)
        let todays = Reports.group(parts.filter { $0.day == today }, by: .day).totals
        let depth = try await dependencies.administration.queueDepth(appIDs: appIDs)
        let model: [String: Any] = [
            "apps": appIDs.count,
            "queue_depth": depth,
            "today": Self.totals(todays),
            "month": Self.totals(byDay.totals),
            "charts": Self.charts(days: days, parts: parts),
        ]
        return Pages.render("overview", title: "Overview", model, who: who)
    }

    @Sendable func reports(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let query = FormData.query(request)
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        let (appIDs, from, to) = try Self.range(query, apps: apps)
        let parts = try await dependencies.management.reportParts(appIDs: appIDs, from: from, to: to)
        var csvQuery = "from=\(from)&to=\(to)"
        if let app = query["appid"] { csvQuery += "&appid=" + FormData.encode(app) }
        let model: [String: Any] = [
            "from": from, "to": to,
            "apps": apps.map { ["appid": $0.id, "name": $0.name, "selected": $0.id == query["appid"]] },
            "totals": Self.totals(Reports.group(parts, by: .day).totals),
            "charts": Self.charts(days: Self.days(from: from, to: to), parts: parts),
            "csv_day": "/dashboard/reports.csv?group_by=day&" + csvQuery,
            "csv_channel": "/dashboard/reports.csv?group_by=channel&" + csvQuery,
            "csv_country": "/dashboard/reports.csv?group_by=country&" + csvQuery,
        ]
        return Pages.render("reports", title: "Reports", model, who: who)
    }

    @Sendable func csv(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let query = FormData.query(request)
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        let (appIDs, from, to) = try Self.range(query, apps: apps)
        guard let grouping = ReportGrouping(rawValue: query["group_by"] ?? "day") else {
            throw DashboardError.badInput("group_by must be day, channel or country")
        }
        let (rows, _) = Reports.group(
            try await dependencies.management.reportParts(appIDs: appIDs, from: from, to: to), by: grouping)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"otp-report-\(from)-\(to)-\(grouping.rawValue).csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: ReportCSV.render(groupBy: grouping, rows: rows))))
    }

    /// The apps and days a report covers: one app of the account or all of them; the last 30 days
    /// unless `from` and `to` say otherwise (at most a year).
    private static func range(_ query: FormData, apps: [App]) throws -> ([String], String, String) {
        var appIDs = apps.map(\.id)
        if let appID = query["appid"] {
            guard appIDs.contains(appID) else { throw DashboardError.notFound }
            appIDs = [appID]
        }
        let to = query["to"] ?? UTCDay.format(Date())
        let from = query["from"] ?? UTCDay.format(Date().addingTimeInterval(-29 * 86_400))
        guard let first = UTCDay.parse(from), let last = UTCDay.parse(to) else {
            throw DashboardError.badInput("from and to must be days written YYYY-MM-DD")
        }
        guard first <= last, last.timeIntervalSince(first) <= 366 * 86_400 else {
            throw DashboardError.badInput("from must not be after to, and a report covers at most a year")
        }
        return (appIDs, from, to)
    }

    static func days(from: String, to: String) -> [String] {
        guard var day = UTCDay.parse(from), let last = UTCDay.parse(to) else { return [] }
        var days: [String] = []
        while day <= last {
            days.append(UTCDay.format(day))
            day = day.addingTimeInterval(86_400)
        }
        return days
    }

    static func totals(_ row: ReportRow) -> [String: Any] {
        [
            "verifications": row.verifications, "sent": row.sent, "delivered": row.delivered, "verified": row.verified,
            "failed": row.failed,
            "delivery_rate": row.sent == 0 ? "–" : Charts.Unit.percent.format(Double(row.delivered) / Double(row.sent)),
            "conversion": row.verifications == 0 ? "–" : Charts.Unit.percent.format(row.conversionRate),
            "p50": row.latencyP50.map { "\($0) ms" } ?? "–", "p95": row.latencyP95.map { "\($0) ms" } ?? "–",
            "cost": "\(row.cost)", "fraud_blocked": row.fraudBlocked, "fraud_flagged": row.fraudFlagged,
        ]
    }

    /// The charts of a span of days: volumes and conversion by day, latency by day, conversion by
    /// country and by channel.
    static func charts(days: [String], parts: [ReportPart]) -> [[String: String]] {
        let byDay = Dictionary(
            Reports.group(parts, by: .day).rows.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = days.map { byDay[$0] ?? ReportRow(key: $0) }
        let labels = days.map { String($0.suffix(5)) }
        var charts = [
            Charts.columns(
                title: "Sends, deliveries and verifications by day", labels: labels,
                series: [
                    .init(name: "sends", values: rows.map { Double($0.verifications) }),
                    .init(name: "delivered", values: rows.map { Double($0.delivered) }),
                    .init(name: "verified", values: rows.map { Double($0.verified) }),
                ]),
            Charts.lines(
                title: "Conversion by day", labels: labels,
                series: [.init(name: "verified / sends", values: rows.map(\.conversionRate))], unit: .percent),
            Charts.lines(
                title: "Delivery latency by day", labels: labels,
                series: [
                    .init(name: "p50", values: rows.map { Double($0.latencyP50 ?? 0) }),
                    .init(name: "p95", values: rows.map { Double($0.latencyP95 ?? 0) }),
                ], unit: .milliseconds),
        ]
        for (grouping, title) in [
            (ReportGrouping.country, "Conversion by country"), (.channel, "Conversion by channel"),
        ] {
            let groups = Reports.group(parts, by: grouping).rows.sorted { $0.verifications > $1.verifications }.prefix(
                12)
            charts.append(
                Charts.columns(
                    title: title, labels: groups.map(\.key),
                    series: [.init(name: "verified / sends", values: groups.map(\.conversionRate))], unit: .percent))
        }
        return charts.map { ["svg": $0] }
    }
}
