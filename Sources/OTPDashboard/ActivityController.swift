import Foundation
import Hummingbird
import OTPCore
import OTPHTTP

/// `/dashboard/verifications` (the filters of `/otp/list`), one verification's timeline, and
/// `/dashboard/logs` (the filters of `/otp/logs`). Recipients are masked; no code is ever shown
/// (none is stored in a readable form).
struct ActivityController {
    let dependencies: DashboardDependencies
    let sessions: SessionCookies

    static let pageSize = 50

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("verifications", use: verifications)
        group.get("verifications/:id", use: verification)
        group.get("logs", use: logs)
    }

    @Sendable func verifications(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let query = FormData.query(request)
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        var model = Self.filters(query, apps: apps)
        do {
            let scope = try Self.scope(query, apps: apps)
            let status = try Self.choice(query, "status", VerificationStatus.self)
            let channel = try Self.choice(query, "channel", MessageChannel.self)
            let recipient = query["recipient"].map { dependencies.service.numbers.parse($0)?.e164 ?? $0 }
            let page = try await dependencies.management.verifications(
                scope, VerificationFilter(status: status, channel: channel, recipient: recipient))
            model["verifications"] = page.items.map { item -> [String: Any] in
                [
                    "id": item.id, "appid": item.appID, "status": item.status.rawValue,
                    "channel": item.channel.rawValue,
                    "recipient": PhoneNumber.mask(item.recipient), "delivery": item.deliveryStatus.rawValue,
                    "attempts": item.attempts, "sends": item.sends, "created_at": DisplayTime.format(item.createdAt),
                ]
            }
            model["next"] = page.nextCursor.map { Self.link("/dashboard/verifications", query, cursor: $0) }
            model["statuses"] = Self.options(VerificationStatus.allCases.map(\.rawValue), selected: query["status"])
            model["channels"] = Self.options(MessageChannel.allCases.map(\.rawValue), selected: query["channel"])
            return Pages.render("verifications", title: "Verifications", model, who: who)
        } catch {
            guard let message = Self.filterMessage(error) else { throw error }
            model["error"] = message
            model["statuses"] = Self.options(VerificationStatus.allCases.map(\.rawValue), selected: nil)
            model["channels"] = Self.options(MessageChannel.allCases.map(\.rawValue), selected: nil)
            return Pages.render("verifications", title: "Verifications", model, who: who, status: .badRequest)
        }
    }

    @Sendable func verification(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let id = context.parameters.get("id") ?? ""
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        // Looked up in the account's own apps only: another account's id is not found.
        var found: (App, VerificationReport)?
        for app in apps where found == nil {
            if let report = try await dependencies.service.report(app: app, verificationID: id) {
                found = (app, report)
            }
        }
        guard let (app, report) = found else { throw DashboardError.notFound }
        let scope = ListScope(appIDs: [app.id], from: nil, to: nil, limit: 1000, cursor: nil)
        let events = try await dependencies.management.events(scope, verificationID: id, event: nil).items
        let attempts = try await dependencies.management.attempts(
            scope, verificationID: id, recipient: nil, kind: nil
        ).items
        var timeline: [(at: Date, order: Int64, item: [String: Any])] = events.map { event in
            (
                event.at, event.id,
                [
                    "kind": "event", "at": DisplayTime.format(event.at), "what": event.event,
                    "detail": Self.details(event.details), "actor": event.actor ?? "",
                ]
            )
        }
        for attempt in attempts {
            let item: [String: Any]
            switch attempt.kind {
            case .verify:
                item = [
                    "kind": "verify", "at": DisplayTime.format(attempt.at),
                    "what": attempt.success == true ? "verify: right code" : "verify: refused",
                    "detail": attempt.reason ?? "", "actor": attempt.ip ?? "",
                ]
            case .delivery:
                let parts = [
                    attempt.outcome, attempt.httpStatus.map { "HTTP \($0)" }, attempt.error,
                    attempt.latencyMilliseconds.map { "\($0) ms" },
                ].compactMap { $0 }
                item = [
                    "kind": "delivery", "at": DisplayTime.format(attempt.at),
                    "what": "delivery attempt via \(attempt.provider ?? "?")", "detail": parts.joined(separator: " · "),
                    "actor": attempt.providerMessageID ?? "",
                ]
            case .webhook:
                let parts = [
                    attempt.httpStatus.map { "HTTP \($0)" }, attempt.error,
                    attempt.latencyMilliseconds.map { "\($0) ms" },
                ].compactMap { $0 }
                item = [
                    "kind": "webhook", "at": DisplayTime.format(attempt.at),
                    "what": "webhook \(attempt.event ?? "?") to the app", "detail": parts.joined(separator: " · "),
                    "actor": attempt.url ?? "",
                ]
            }
            timeline.append((attempt.at, attempt.id, item))
        }
        timeline.sort { ($0.at, $0.order) < ($1.at, $1.order) }
        var model: [String: Any] = [
            "id": report.id, "appid": app.id, "app": app.name, "status": report.status.rawValue,
            "channel": report.channel.rawValue, "recipient": PhoneNumber.mask(report.recipient),
            "attempts": report.attempts, "attempts_remaining": report.attemptsRemaining, "sends": report.sends,
            "delivery": report.deliveryStatus.rawValue, "created_at": DisplayTime.format(report.createdAt),
            "expires_at": DisplayTime.format(report.expiresAt),
            "verified_at": report.verifiedAt.map(DisplayTime.format) ?? "–",
            "timeline": timeline.map(\.item),
        ]
        if let transaction = report.transaction {
            model["transaction"] = [
                "amount": transaction.formattedAmount(locale: "en"), "currency": transaction.currency,
                "payees": transaction.payeeText,
            ]
        }
        return Pages.render("verification", title: "Verification", model, who: who)
    }

    @Sendable func logs(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let query = FormData.query(request)
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        var model = Self.filters(query, apps: apps)
        model["events"] = Self.options(EventKind.allCases.map(\.rawValue), selected: query["event"])
        do {
            let scope = try Self.scope(query, apps: apps)
            if let event = query["event"], EventKind(rawValue: event) == nil {
                throw FilterProblem(message: "there is no event \(event)")
            }
            let page = try await dependencies.management.events(
                scope, verificationID: query["verification_id"], event: query["event"])
            model["rows"] = page.items.map { event -> [String: Any] in
                [
                    "at": DisplayTime.format(event.at), "event": event.event, "appid": event.appID ?? "",
                    "verification_id": event.verificationID ?? "", "actor": event.actor ?? "", "ip": event.ip ?? "",
                    "details": Self.details(event.details),
                ]
            }
            model["next"] = page.nextCursor.map { Self.link("/dashboard/logs", query, cursor: $0) }
            return Pages.render("logs", title: "Audit log", model, who: who)
        } catch {
            guard let message = Self.filterMessage(error) else { throw error }
            model["error"] = message
            return Pages.render("logs", title: "Audit log", model, who: who, status: .badRequest)
        }
    }

    struct FilterProblem: Error { var message: String }

    /// What a filter the page can show again did wrong; nil for any other failure.
    static func filterMessage(_ error: any Error) -> String? {
        switch error {
        case let problem as FilterProblem: problem.message
        case is CursorError: "that page link is not one this dashboard made"
        default: nil
        }
    }

    /// The filter form's values and the account's apps, for the form.
    private static func filters(_ query: FormData, apps: [App]) -> [String: Any] {
        var model: [String: Any] = [
            "apps": apps.map { ["appid": $0.id, "name": $0.name, "selected": $0.id == query["appid"]] }
        ]
        for name in ["recipient", "from", "to", "verification_id"] { model["filter_" + name] = query[name] ?? "" }
        return model
    }

    /// The account's apps (or the one chosen) and the time range the filters name.
    private static func scope(_ query: FormData, apps: [App]) throws -> ListScope {
        var appIDs = apps.map(\.id)
        if let appID = query["appid"] {
            guard appIDs.contains(appID) else {
                throw FilterProblem(message: "there is no app \(appID) in your account")
            }
            appIDs = [appID]
        }
        return ListScope(
            appIDs: appIDs, from: try time(query, "from"), to: try time(query, "to"), limit: pageSize,
            cursor: query["cursor"])
    }

    /// One of a list's values, nil when not given.
    static func choice<Value: RawRepresentable>(_ query: FormData, _ name: String, _: Value.Type) throws -> Value?
    where Value.RawValue == String {
        guard let text = query[name] else { return nil }
        guard let value = Value(rawValue: text) else { throw FilterProblem(message: "\(name) has no value \(text)") }
        return value
    }

    static func time(_ query: FormData, _ name: String) throws -> Date? {
        guard let text = query[name] else { return nil }
        if let day = UTCDay.parse(text) { return name == "to" ? day.addingTimeInterval(86_399) : day }
        if let time = try? Date(text, strategy: .iso8601) { return time }
        throw FilterProblem(message: "\(name) must be a day (YYYY-MM-DD) or an RFC 3339 time")
    }

    static func options(_ values: [String], selected: String?) -> [[String: Any]] {
        values.map { ["value": $0, "selected": $0 == selected] }
    }

    /// The same filters with the next page's cursor.
    static func link(_ path: String, _ query: FormData, cursor: String) -> String {
        var parts: [String] = []
        for name in ["appid", "status", "channel", "recipient", "from", "to", "event", "verification_id"] {
            if let value = query[name] { parts.append(name + "=" + FormData.encode(value)) }
        }
        parts.append("cursor=" + FormData.encode(cursor))
        return path + "?" + parts.joined(separator: "&")
    }

    /// An event's details object as `key: value` text.
    static func details(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return json
        }
        return object.keys.sorted().map { "\($0): \(object[$0].map { "\($0)" } ?? "")" }.joined(separator: ", ")
    }
}
