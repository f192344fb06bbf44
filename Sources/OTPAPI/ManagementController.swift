import Foundation
import Hummingbird
import NIOCore
import OTPCore
import OTPHTTP

/// `GET /otp/list`, `/otp/logs`, `/otp/attempts`, `/otp/reports`: scoped to the apps the key may use.
struct ManagementController {
    let store: any ManagementStore
    let access: AppAccess
    let numbers: any PhoneNumberParser

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("list", use: list)
        group.get("logs", use: logs)
        group.get("attempts", use: attempts)
        group.get("reports", use: reports)
    }

    @Sendable func list(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = QueryReader(request)
        let scope = try await self.scope(query, context: context)
        let filter = VerificationFilter(
            status: try query.enumeration("status", VerificationStatus.self),
            channel: try query.enumeration("channel", MessageChannel.self),
            recipient: try query.string("recipient").map { numbers.parse($0)?.e164 ?? $0 })
        let page = try await store.verifications(scope, filter)
        return try jsonResponse(ListResponse(items: page.items.map(StatusResponse.init), nextCursor: page.nextCursor))
    }

    @Sendable func logs(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = QueryReader(request)
        let page = try await store.events(
            try await scope(query, context: context), verificationID: try query.string("verification_id"),
            event: try query.string("event"))
        return try jsonResponse(ListResponse(items: page.items.map(EventItem.init), nextCursor: page.nextCursor))
    }

    @Sendable func attempts(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = QueryReader(request)
        let page = try await store.attempts(
            try await scope(query, context: context), verificationID: try query.string("verification_id"),
            recipient: try query.string("recipient").map { numbers.parse($0)?.e164 ?? $0 },
            kind: try query.enumeration("kind", AttemptRecord.Kind.self))
        return try jsonResponse(ListResponse(items: page.items.map(AttemptItem.init), nextCursor: page.nextCursor))
    }

    @Sendable func reports(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = QueryReader(request)
        let appIDs = try await access.usableApps(query.string("appid"), context: context)
        let today = Date()
        let to = try query.day("to") ?? UTCDay.format(today)
        let from = try query.day("from") ?? UTCDay.format(today.addingTimeInterval(-6 * 86_400))
        guard from <= to else { throw APIError.validation("from", "from must not be after to") }
        let groupBy = try query.enumeration("group_by", ReportGrouping.self) ?? .day
        let parts = try await store.reportParts(appIDs: appIDs, from: from, to: to)
        var (rows, totals) = Reports.group(parts, by: groupBy)
        if groupBy == .provider {
            // The totals stay the verifications' own: a provider's row counts what it carried.
            rows =
                Reports.group(try await store.providerReportParts(appIDs: appIDs, from: from, to: to), by: .provider)
                .rows
            totals = Reports.group(parts, by: .day).totals
        }
        switch try query.enumeration("format", ReportFormat.self) ?? .json {
        case .json:
            return try jsonResponse(ReportResponse(groupBy: groupBy, rows: rows, totals: totals))
        case .csv:
            return Response(
                status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ReportCSV.render(groupBy: groupBy, rows: rows))))
        }
    }

    enum ReportFormat: String { case json, csv }

    private func scope(_ query: QueryReader, context: OTPRequestContext) async throws -> ListScope {
        let limit = try query.integer("limit") ?? 50
        guard (1...1000).contains(limit) else { throw APIError.validation("limit", "limit must be 1 to 1000") }
        return ListScope(
            appIDs: try await access.usableApps(query.string("appid"), context: context), from: try query.time("from"),
            to: try query.time("to"), limit: limit, cursor: try query.string("cursor"))
    }
}

/// Reads query parameters, refusing bad values with a `VALIDATION_ERROR` that names the parameter.
struct QueryReader {
    let parameters: [String: String]

    init(_ request: Request) {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where parameters[String(key)] == nil {
            parameters[String(key)] = String(value)
        }
        self.parameters = parameters
    }

    func string(_ name: String) throws -> String? {
        guard let value = parameters[name], !value.isEmpty else { return nil }
        guard value.utf8.count <= 512 else { throw APIError.validation(name, "\(name) is too long") }
        return value
    }

    /// A parameter the document bounds (a number, a time, one of a list): an empty value is none
    /// of them, so `?limit=` is refused where a free-text parameter left empty counts as absent.
    private func bounded(_ name: String) throws -> String? {
        guard let value = parameters[name] else { return nil }
        guard !value.isEmpty else { throw APIError.validation(name, "\(name) is empty") }
        return try string(name)
    }

    func integer(_ name: String) throws -> Int? {
        guard let text = try bounded(name) else { return nil }
        guard let value = Int(text) else { throw APIError.validation(name, "\(name) must be an integer") }
        return value
    }

    func enumeration<Value: RawRepresentable>(_ name: String, _: Value.Type) throws -> Value?
    where Value.RawValue == String {
        guard let text = try bounded(name) else { return nil }
        guard let value = Value(rawValue: text) else { throw APIError.validation(name, "\(name) has no value \(text)") }
        return value
    }

    func time(_ name: String) throws -> Date? {
        guard let text = try bounded(name) else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw APIError.validation(name, "\(name) must be an RFC 3339 time such as 2026-01-31T23:59:59Z")
        }
        return date
    }

    func day(_ name: String) throws -> String? {
        guard let text = try bounded(name) else { return nil }
        guard UTCDay.parse(text) != nil else { throw APIError.validation(name, "\(name) must be YYYY-MM-DD") }
        return text
    }
}

enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
