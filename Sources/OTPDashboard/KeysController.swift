import Foundation
import Hummingbird
import OTPCore
import OTPHTTP

/// `GET|POST /dashboard/keys` and `POST /dashboard/keys/{id}/revoke`. A new key's secret is on the
/// page that answers the POST and nowhere else, ever.
struct KeysController {
    let administration: any AccountAdministration
    let sessions: SessionCookies

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("keys", use: list)
        group.post("keys", use: create)
        group.post("keys/:id/revoke", use: revoke)
    }

    @Sendable func list(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        return try await page(who, created: nil, error: nil, status: .ok)
    }

    @Sendable func create(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let owned = Set(try await administration.apps(accountID: who.user.accountID).map(\.id))
        let chosen = form.all("apps").filter(owned.contains)
        guard !chosen.isEmpty, chosen.count == form.all("apps").count else {
            return try await page(
                who, created: nil, error: "Choose at least one app for the key.", status: .unprocessableContent)
        }
        let key = try await administration.createKey(
            accountID: who.user.accountID, appIDs: chosen, by: who.user.caller(ip: context.ip))
        return try await page(who, created: key, error: nil, status: .ok)
    }

    @Sendable func revoke(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let id = context.parameters.get("id") ?? ""
        guard
            try await administration.revokeKey(
                id: id, accountID: who.user.accountID, by: who.user.caller(ip: context.ip))
        else { throw DashboardError.notFound }
        return Pages.redirect(to: "/dashboard/keys")
    }

    private func page(
        _ who: SignedIn, created: (keyID: String, secret: String)?, error: String?, status: HTTPResponse.Status
    ) async throws -> Response {
        let apps = try await administration.apps(accountID: who.user.accountID)
        let names = Dictionary(apps.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let keys = try await administration.keys(accountID: who.user.accountID).reversed()
        var model: [String: Any] = [
            "keys": keys.map { key -> [String: Any] in
                [
                    "key_id": key.keyID, "created_at": DisplayTime.format(key.createdAt),
                    "apps": (key.appIDs ?? apps.map(\.id)).map { names[$0] ?? $0 }.joined(separator: ", "),
                    "active": key.revokedAt == nil, "state": key.revokedAt == nil ? "active" : "revoked",
                    "revoked_at": key.revokedAt.map(DisplayTime.format) ?? "",
                ]
            },
            "apps": apps.map { ["appid": $0.id, "name": $0.name, "only": apps.count == 1] },
        ]
        if let error { model["error"] = error }
        guard let created else { return Pages.render("keys", title: "API keys", model, who: who, status: status) }
        model["new_key_id"] = created.keyID
        model["new_key_secret"] = created.secret
        return Pages.render("key_created", title: "New API key", model, who: who, status: status)
    }
}

/// Times on pages: UTC, to the second, as the API's lists and the reports count days in UTC.
enum DisplayTime {
    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}
