import Foundation
import Hummingbird
import OTPCore
import OTPHTTP

/// `GET /dashboard/fraud`: what the fraud guard refused and flagged for the account's apps: the
/// scopes over their line in the last hour, newest first, with their conversion, and a chart of
/// the last 24 hours.
struct FraudController {
    let dependencies: DashboardDependencies
    let sessions: SessionCookies

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("fraud", use: page)
    }

    @Sendable func page(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        let names = Dictionary(apps.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let activity = try await dependencies.management.fraudActivity(appIDs: apps.map(\.id))
        let hours = activity.hours
        let chart = Charts.columns(
            title: "Sends the fraud guard refused and flagged, last 24 hours (UTC)",
            labels: hours.map { Self.hour($0.start) },
            series: [
                .init(name: "refused", values: hours.map { Double($0.blocked) }),
                .init(name: "flagged", values: hours.map { Double($0.flagged) }),
            ])
        let model: [String: Any] = [
            "scopes": activity.scopes.map { scope -> [String: Any] in
                [
                    "app": names[scope.appID] ?? scope.appID, "appid": scope.appID, "rule": scope.rule,
                    "scope": scope.scope, "blocked": scope.blocked, "flagged": scope.flagged,
                    "sent": scope.sentLastHour, "verified": scope.verifiedLastHour,
                    "conversion": String(format: "%.0f %%", scope.conversion * 100),
                    "latest": ISO8601DateFormatter().string(from: scope.latest),
                ]
            },
            "modes": apps.map { ["app": $0.name, "appid": $0.id, "mode": $0.policy.fraud.mode.rawValue] },
            "chart": chart,
        ]
        return Pages.render("fraud", title: "Fraud", model, who: who)
    }

    static func hour(_ start: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH"
        return formatter.string(from: start) + "h"
    }
}
