import Crypto
import Foundation
import Logging
import PostgresNIO

/// The audit trail's hash chain: sealing new events, and checking the chain end to end.
package struct AuditTrail: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Seals events older than 30 s in batches until none are left; returns how many.
    package func seal(batchSize: Int = 5000) async throws -> Int {
        return try await DatabaseFaults.mapping {
            var total = 0
            while true {
                let rows = try await client.query("SELECT otp.seal_events(\(batchSize)::integer)", logger: logger)
                var sealed = 0
                for try await count in rows.decode(Int.self) { sealed = count }
                total += sealed
                if sealed < batchSize { return total }
            }
        }
    }

    package struct Verdict: Sendable, Codable, Equatable {
        /// Sealed events checked.
        package var checked = 0
        /// The first event whose link or hash does not hold, and what is wrong with it.
        package var brokenAt: Int64?
        package var reason: String?

        package var intact: Bool { brokenAt == nil }

        package init(checked: Int = 0, brokenAt: Int64? = nil, reason: String? = nil) {
            self.checked = checked
            self.brokenAt = brokenAt
            self.reason = reason
        }
    }

    /// Walks the sealed events in id order (from `since`, a UTC day, when given) and recomputes
    /// every hash: a row changed, removed or slipped in shows as the first broken link. The links
    /// of rows that retention dropped between kept ones (`otp.event_links_pruned`) are walked too;
    /// with their contents gone, only their place in the chain is checked.
    package func verify(since: String? = nil) async throws -> Verdict {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                WITH kept AS (
                    SELECT e.id, e.chain_prev, e.chain_hash, otp.event_text(e) AS text FROM otp.events e
                    WHERE e.chain_hash IS NOT NULL AND (\(since)::date IS NULL OR e.at >= \(since)::date::timestamptz)
                )
                SELECT id, chain_prev, chain_hash, text FROM kept
                UNION ALL
                SELECT p.id, p.chain_prev, p.chain_hash, NULL FROM otp.event_links_pruned p
                WHERE p.id > (SELECT min(id) FROM kept)
                ORDER BY 1
                """, logger: logger)
            var verdict = Verdict()
            var previousHash: Data? = nil
            var walked = 0
            for try await (id, chainPrev, chainHash, text) in rows.decode((Int64, Data?, Data, Data?).self) {
                if walked > 0, chainPrev != previousHash {
                    return Verdict(
                        checked: verdict.checked, brokenAt: id, reason: "does not follow the event before it")
                }
                walked += 1
                previousHash = chainHash
                guard let text else { continue }
                var message = chainPrev ?? Data()
                message.append(text)
                guard Data(SHA256.hash(data: message)) == chainHash else {
                    return Verdict(checked: verdict.checked, brokenAt: id, reason: "its contents do not match its hash")
                }
                verdict.checked += 1
            }
            if let problem = try await unsealedProblem() {
                return Verdict(checked: verdict.checked, brokenAt: problem.id, reason: problem.reason)
            }
            return verdict
        }
    }

    /// How long a committed event may wait for the sealer (it runs every minute and seals rows
    /// older than 30 s) before its absence from the chain is a problem.
    static let sealingGrace = "5 minutes"

    /// An event the chain will never take or has not taken in time: one whose id is below the
    /// chain's end (the sealer passed it: it committed long after its id was drawn, or was slipped
    /// in), else the first one older than `sealingGrace` and still unsealed.
    private func unsealedProblem() async throws -> (id: Int64, reason: String)? {
        let rows = try await client.query(
            """
            SELECT min(e.id), 'is unsealed with an id below the sealed chain''s end (out of order)'
            FROM otp.events e
            WHERE e.chain_hash IS NULL AND e.id < (SELECT max(id) FROM otp.events WHERE chain_hash IS NOT NULL)
            UNION ALL
            SELECT min(e.id), 'is older than \(unescaped: Self.sealingGrace) and still unsealed'
            FROM otp.events e
            WHERE e.chain_hash IS NULL AND e.at < now() - interval '\(unescaped: Self.sealingGrace)'
            """, logger: logger)
        for try await (id, reason) in rows.decode((Int64?, String).self) {
            if let id { return (id, reason) }
        }
        return nil
    }
}

/// The database roles of the contract: the owner migrates; serve and work log in as a member of
/// `otp_runtime`.
package enum DatabaseRoles {
    /// Makes `user` a login member of `otp_runtime` (creating it with `password` when it does not
    /// exist). Run as the owner, after the migrations.
    package static func grantRuntime(to user: String, password: String?, client: PostgresClient, logger: Logger)
        async throws
    {
        let rows = try await client.query(
            """
            SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(user)) THEN NULL
                WHEN \(password)::text IS NULL THEN format('CREATE ROLE %I LOGIN', \(user)::text)
                ELSE format('CREATE ROLE %I LOGIN PASSWORD %L', \(user)::text, \(password)::text) END,
                format('GRANT otp_runtime TO %I', \(user)::text)
            """, logger: logger)
        for try await (create, grant) in rows.decode((String?, String).self) {
            if let create { try await client.query(PostgresQuery(unsafeSQL: create), logger: logger) }
            try await client.query(PostgresQuery(unsafeSQL: grant), logger: logger)
        }
    }

    /// How long the audit trail keeps events (`OTP_RETENTION_DAYS`): only the owner may set it.
    package static func setRetention(days: Int, client: PostgresClient, logger: Logger) async throws {
        try await client.query("UPDATE otp.audit_policy SET retention_days = \(days)", logger: logger)
    }
}
