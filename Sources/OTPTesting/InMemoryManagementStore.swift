import Foundation
import OTPCore

/// The management lists over the in-memory verification store: verifications with the filters of
/// `/otp/list`, its events as the audit log, and the report parts of its verifications.
package struct InMemoryManagementStore: ManagementStore {
    let verifications: InMemoryVerificationStore

    package init(verifications: InMemoryVerificationStore) { self.verifications = verifications }

    package func verifications(_ scope: ListScope, _ filter: VerificationFilter) async throws -> Page<
        VerificationReport
    > {
        let now = verifications.clock.now
        let matching = verifications.verifications.reversed()
            .map { InMemoryVerificationStore.report($0, now: now) }
            .filter { report in
                scope.appIDs.contains(report.appID) && (filter.status.map { $0 == report.status } ?? true)
                    && (filter.channel.map { $0 == report.channel } ?? true)
                    && (filter.recipient.map { $0 == report.recipient } ?? true)
                    && (scope.from.map { report.createdAt >= $0 } ?? true)
                    && (scope.to.map { report.createdAt <= $0 } ?? true)
            }
        return try Page(paging: matching, limit: scope.limit, cursor: scope.cursor)
    }

    package func events(_ scope: ListScope, verificationID: String?, event: String?) async throws -> Page<AuditEvent> {
        let all = verifications.events.enumerated().reversed().compactMap { index, recorded -> AuditEvent? in
            guard scope.appIDs.contains(recorded.appID), verificationID.map({ $0 == recorded.verificationID }) ?? true,
                event.map({ $0 == recorded.kind.rawValue }) ?? true
            else { return nil }
            let details = (try? JSONEncoder().encode(recorded.details)).map { String(decoding: $0, as: UTF8.self) }
            return AuditEvent(
                id: Int64(index + 1), at: recorded.at, event: recorded.kind.rawValue, appID: recorded.appID,
                verificationID: recorded.verificationID, actor: recorded.actor.keyID, ip: recorded.actor.ip,
                details: details ?? "{}")
        }
        return try Page(paging: all, limit: scope.limit, cursor: scope.cursor)
    }

    /// The in-memory store keeps no provider or verify attempt rows: always an empty page.
    package func attempts(_ scope: ListScope, verificationID: String?, recipient: String?, kind: AttemptRecord.Kind?)
        async throws -> Page<AttemptRecord>
    {
        try Page(paging: [], limit: scope.limit, cursor: scope.cursor)
    }

    /// Nor any messages a provider carried: no parts by provider.
    package func providerReportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart] { [] }

    package func reportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart] {
        let now = verifications.clock.now
        return verifications.verifications.compactMap { stored in
            let day = UTCDay.format(stored.createdAt)
            // Test numbers stay out of reports.
            guard appIDs.contains(stored.new.appID), !stored.new.test, day >= from, day <= to else { return nil }
            let status = stored.snapshot.effectiveStatus(now: now)
            var part = ReportPart(day: day, channel: stored.channel.rawValue, country: stored.new.country)
            part.numbers.verifications = 1
            part.numbers.verified = status == .verified ? 1 : 0
            part.numbers.expired = status == .expired ? 1 : 0
            part.numbers.locked = status == .locked ? 1 : 0
            return part
        }
    }

    /// From the guard's events, as the PostgreSQL store reads them.
    package func fraudActivity(appIDs: [String]) async throws -> FraudActivity {
        let now = verifications.clock.now
        let decisions = verifications.events.filter {
            appIDs.contains($0.appID) && [.fraudBlocked, .fraudFlagged].contains($0.kind)
        }
        var scopes: [String: FraudActivity.Scope] = [:]
        for event in decisions where event.at > now.addingTimeInterval(-3600) {
            let rule = event.details["rule"] ?? "", scope = event.details["scope"] ?? ""
            var entry =
                scopes["\(event.appID) \(rule) \(scope)"]
                ?? .init(
                    appID: event.appID, rule: rule, scope: scope, blocked: 0, flagged: 0, sentLastHour: 0,
                    verifiedLastHour: 0, latest: event.at)
            if event.kind == .fraudBlocked { entry.blocked += 1 } else { entry.flagged += 1 }
            (entry.sentLastHour, entry.verifiedLastHour, entry.latest) = (
                Int(event.details["sent_1h"] ?? "") ?? 0, Int(event.details["verified_1h"] ?? "") ?? 0, event.at
            )
            scopes["\(event.appID) \(rule) \(scope)"] = entry
        }
        let thisHour = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        let hours = (0..<24).reversed().map { back -> FraudActivity.Hour in
            let start = Date(timeIntervalSince1970: thisHour - Double(back) * 3600)
            let inHour = decisions.filter { $0.at >= start && $0.at < start.addingTimeInterval(3600) }
            return .init(
                start: start, blocked: inHour.filter { $0.kind == .fraudBlocked }.count,
                flagged: inHour.filter { $0.kind == .fraudFlagged }.count)
        }
        return FraudActivity(scopes: scopes.values.sorted { $0.latest > $1.latest }, hours: hours)
    }
}
