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
}
